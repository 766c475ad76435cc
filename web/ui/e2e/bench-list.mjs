// The message list at 100,000 messages, measured in Chromium (`make
// bench-ui`): `wardmail bench mailbox` fills Ben's INBOX, `wardmail demo`
// serves it, and the page is scrolled by keyboard (j, PageDown) and by the
// mouse wheel, then jumped to the end, while frame times and long tasks are
// recorded. The list API's latency at deep offsets is measured from here
// too. Figures go to stdout as Markdown and to bin/bench-list.json.
//
//   BENCH_COUNT  messages (default 100000)
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { tmpdir, loadavg, cpus, totalmem } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startDemo, launch, BIN, storeArgs } from './demo.mjs'

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'
const here = dirname(fileURLToPath(import.meta.url))
const COUNT = Number(process.env.BENCH_COUNT || 100000)
const ben = 'ben.okafor@nhs.test'
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.ceil((s.length * p) / 100) - 1)] : 0 }
const r1 = (x) => Math.round(x * 10) / 10

const data = mkdtempSync(join(tmpdir(), 'wardmail-bench-'))
const load0 = loadavg()
console.error(`seeding ${COUNT} messages…`)
const seed = JSON.parse(execFileSync(BIN, ['bench', 'mailbox', ...storeArgs(data), '--count', String(COUNT), '--json'], { stdio: ['ignore', 'pipe', 'inherit'] }).toString())
const server = startDemo(data)
const base = await server.base
const { browser, page } = await launch()
const out = { count: COUNT, machine: { cpus: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30), loadBefore: load0.map(r1) }, seed, scroll: {}, api: {} }

try {
  // Sign in and open the INBOX.
  await page.goto(base + '/')
  await page.getByLabel('Email address').fill(ben)
  await page.getByLabel('Password').fill('wardmail-demo')
  const t0 = Date.now()
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('listbox', { name: 'Inbox' }).getByRole('option').first().getByText(/Message|Re:|Ward|Rota/).first().waitFor()
  out.firstRowsMs = Date.now() - t0
  const list = page.locator('.list')

  // Frame times from requestAnimationFrame, long tasks from the observer.
  const record = () => page.evaluate(() => {
    window.__frames = []; window.__long = []; window.__rec = true
    let last = performance.now()
    const loop = (t) => { window.__frames.push(t - last); last = t; if (window.__rec) requestAnimationFrame(loop) }
    requestAnimationFrame(loop)
    window.__obs = new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(e.duration) })
    window.__obs.observe({ type: 'longtask' })
  })
  const stop = async (name, ms) => {
    await sleep(300) // let the last pages arrive
    const r = await page.evaluate(() => { window.__rec = false; window.__obs.disconnect(); return { frames: window.__frames.slice(1), long: window.__long } })
    const placeholders = await page.locator('.row .placeholder').count()
    const top = await list.evaluate((el) => Math.round(el.scrollTop / 68))
    out.scroll[name] = {
      ms, frames: r.frames.length, p50: r1(pct(r.frames, 50)), p95: r1(pct(r.frames, 95)), p99: r1(pct(r.frames, 99)), max: r1(Math.max(...r.frames)),
      over50ms: r.frames.filter((f) => f > 50).length, longTasks: r.long.length, longTaskMs: Math.round(r.long.reduce((a, b) => a + b, 0)),
      reachedRow: top, placeholdersAfter: placeholders,
    }
    console.error(name, JSON.stringify(out.scroll[name]))
  }
  const run = async (name, n, every, fn) => {
    await record()
    const t = Date.now()
    for (let i = 0; i < n; i++) { await fn(i); await sleep(every) }
    await stop(name, Date.now() - t)
  }

  await list.focus()
  await run('keyboard j (300 presses, 30/s, each opens the message)', 300, 33, () => page.keyboard.press('j'))
  await list.focus()
  await run('keyboard PageDown (200 presses, 30/s)', 200, 33, () => page.keyboard.press('PageDown'))
  await list.hover()
  await run('wheel (300 events of 1,000 px, 60/s)', 300, 16, () => page.mouse.wheel(0, 1000))
  await run('jump to the end (scrollbar drag)', 1, 0, () => list.evaluate((el) => { el.scrollTop = el.scrollHeight }))
  const tEnd = Date.now()
  await page.waitForFunction(() => document.querySelectorAll('.row .placeholder').length === 0 && document.querySelectorAll('.row').length > 0)
  out.endRowsMs = Date.now() - tEnd + out.scroll['jump to the end (scrollbar drag)'].ms

  // The list API from here, with a session (HTTP Basic would time the
  // password hash): one page of 100 at each offset, 20 times. The first
  // conversations call groups the folder (the store's cold figure below).
  const folder = seed.folder
  const signIn = await fetch(base + '/api/v1/session', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: ben, password: 'wardmail-demo' }) })
  const cookie = signIn.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')
  const timeGet = async (path) => { const t = performance.now(); const r = await fetch(base + path, { headers: { Cookie: cookie } }); await r.json(); if (!r.ok) throw new Error(path + ': ' + r.status); return performance.now() - t }
  const offsets = (n) => [...new Set([0, 1000, 10000, 50000, Math.max(0, n - 100)])].filter((o) => o < n).sort((a, b) => a - b)
  for (const [kind, n] of [['messages', COUNT], ['conversations', seed.conversations]]) {
    const path = kind
    out.api[kind] = {}
    for (const off of offsets(n)) {
      const ts = []
      for (let i = 0; i < 20; i++) ts.push(await timeGet(`/api/v1/folders/${folder}/${path}?offset=${off}&limit=100`))
      out.api[kind][off] = { p50: r1(pct(ts, 50)), p99: r1(pct(ts, 99)) }
    }
  }
} finally {
  out.machine.loadAfter = loadavg().map(r1)
  await browser.close()
  server.kill('SIGTERM')
  await server.exited()
  rmSync(data, { recursive: true, force: true })
}

mkdirSync(join(here, '../../../bin'), { recursive: true })
writeFileSync(join(here, '../../../bin/bench-list.json'), JSON.stringify(out, null, 2))
console.log(`\n${COUNT.toLocaleString('en-GB')} messages; ${out.machine.cpus} cores, ${out.machine.memGiB} GiB; load average ${out.machine.loadBefore.join(' ')} before, ${out.machine.loadAfter.join(' ')} after`)
console.log(`seeded in ${r1(seed.seed_seconds)} s; sign-in to first rows ${out.firstRowsMs} ms; jump to the end to rows shown ${out.endRowsMs} ms\n`)
console.log('| scroll | frames | p50 ms | p95 ms | p99 ms | max ms | frames > 50 ms | long tasks (total ms) | row reached | rows still loading after |')
console.log('|---|---|---|---|---|---|---|---|---|---|')
for (const [k, v] of Object.entries(out.scroll)) console.log(`| ${k} | ${v.frames} | ${v.p50} | ${v.p95} | ${v.p99} | ${v.max} | ${v.over50ms} | ${v.longTasks} (${v.longTaskMs}) | ${v.reachedRow.toLocaleString('en-GB')} | ${v.placeholdersAfter} |`)
console.log('\n| API, a page of 100 | offsets (p50 / p99 ms) |\n|---|---|')
for (const [k, v] of Object.entries(out.api)) console.log(`| ${k} | ` + Object.entries(v).map(([o, x]) => `${Number(o).toLocaleString('en-GB')}: ${x.p50} / ${x.p99}`).join('; ') + ' |')
console.log(`\nstore: grouping ${seed.conversations.toLocaleString('en-GB')} conversations ${seed.group_ms} ms cold, ${seed.group_cached_ms} ms unchanged, ${seed.group_after_arrival_ms} ms after an arrival, ${seed.group_after_removal_ms} ms after a removal`)
