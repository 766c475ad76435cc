// The browser tests' harness: starts a real `wardmail demo` on free ports,
// seeds Ben's mailbox and a list, launches Debian's Chromium and exports the
// page and the helpers the step files (staff.mjs, admin.mjs) use. run.mjs
// runs the step files in order; they share one browser page.
import { mkdtempSync, readFileSync, rmSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import { createHmac } from 'node:crypto'
import { startDemo, launch, BIN } from './demo.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)
export { BIN }
export const SHOTS = process.env.SCREENSHOTS || join(here, '../../../docs/screenshots')
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')
export const PASSWORD = 'wardmail-demo'
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0' // our own self-signed certificate on loopback

let failures = 0
export const results = []
export const failureCount = () => failures
// The steps share one page, so after a failure the rest are skipped rather
// than each waiting out its timeouts.
export async function step(name, fn) {
  if (failures) { results.push(`skip  ${name}`); return }
  const t0 = Date.now()
  try {
    await fn()
    results.push(`ok    ${name} (${Date.now() - t0} ms)`)
  } catch (e) {
    failures++
    results.push(`FAIL  ${name}: ${e.message}`)
    console.error(`FAIL ${name}:`, e)
  }
}
export function assert(cond, msg) { if (!cond) throw new Error(msg) }

// RFC 6238 TOTP (SHA-1, 30 s, 6 digits) from the base32 key the page shows,
// as an authenticator app computes it.
export function totp(base32, at = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = ''
  for (const c of base32.replace(/[\s=]/g, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0')
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)))
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30000)))
  const h = createHmac('sha1', key).update(counter).digest()
  const off = h[h.length - 1] & 0xf
  return String((h.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, '0')
}

// Start the demo on free ports and wait for its HTTPS address.
export const data = mkdtempSync(join(tmpdir(), 'wardmail-e2e-'))
// Ask for confirmation above 10 people, so a demo-sized list shows the step.
// The storm breaker's thresholds shrink to the demo's size: a reply to 10
// people or more counts, the 2nd brakes and the 3rd blocks the thread.
// List governance too: over 20 members (all-staff has 20), named senders
// only and two national administrators' approval.
writeFileSync(join(data, 'test.conf'), 'confirm_audience_above = 10\nstorm_min_audience = 10\nstorm_replies = 3\nstorm_brake_from = 2\n' +
  'list_senders_only_above = 20\nlist_approval_above = 20\n')
export const server = startDemo(data, ['--config', join(data, 'test.conf')])
const serverLog = () => server.log
export const base = await server.base

// smtpSend delivers a raw message through the inbound SMTP door, as another
// mail server would (for mail the webmail cannot write: HTML, inline images).
export async function smtpSend(from, to, raw) {
  const addr = /smtp (127\.0\.0\.1):(\d+)/.exec(serverLog())
  const { connect } = await import('node:net')
  const sock = connect(Number(addr[2]), addr[1])
  let buf = ''
  const replies = []
  let wake = () => {}
  sock.on('data', (d) => {
    buf += d
    let m
    while ((m = /^(\d{3}) .*\r\n/m.exec(buf))) { replies.push(m[1]); buf = buf.slice(m.index + m[0].length); wake() }
  })
  const reply = async () => { while (!replies.length) await new Promise((r) => { wake = r }); return replies.shift() }
  const cmd = async (line, want) => {
    if (line !== null) sock.write(line + '\r\n')
    const code = await reply()
    if (code !== want) throw new Error(`SMTP ${line}: ${code}`)
  }
  await cmd(null, '220')
  await cmd('EHLO e2e.test', '250')
  await cmd(`MAIL FROM:<${from}>`, '250')
  await cmd(`RCPT TO:<${to}>`, '250')
  await cmd('DATA', '354')
  await cmd(raw.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..') + '\r\n.', '250')
  await cmd('QUIT', '221')
  sock.end()
}

// uploadAs uploads a file as someone, for a message sent with apiAs.
export async function uploadAs(email, filename, type, data) {
  const resp = await fetch(base + '/api/v1/uploads?filename=' + encodeURIComponent(filename), {
    method: 'POST', headers: { Authorization: 'Basic ' + Buffer.from(`${email}:${PASSWORD}`).toString('base64'), 'Content-Type': type }, body: data,
  })
  if (resp.status !== 201) throw new Error(`upload ${filename}: ${resp.status} ${await resp.text()}`)
  return (await resp.json()).id
}

export async function apiAs(email, method, path, body) {
  const resp = await fetch(base + path, {
    method, headers: { Authorization: 'Basic ' + Buffer.from(`${email}:${PASSWORD}`).toString('base64'), 'Content-Type': 'application/json' },
    body: body && JSON.stringify(body),
  })
  if (!resp.ok) throw new Error(`${method} ${path}: ${resp.status} ${await resp.text()}`)
  return resp.status === 204 ? null : resp.json()
}

// Seed Ben's mailbox through the API, as other people's webmail would.
export const ben = 'ben.okafor@nhs.test'
const seed = [
  ['amira.khan@nhs.test', 'Ward round at eight', 'Ward round starts at 08:00 sharp tomorrow. Bed 12 needs a review first.'],
  ['chloe.davies@nhs.test', 'Rota for December', 'The December rota is attached to the staff board. Please check your night shifts.'],
  ['daniel.murphy@nhs.test', 'Pharmacy stock: heparin', 'Heparin deliveries are delayed until Thursday; use the ward stock first.'],
  ['farah.hussain@nhs.test', 'Mandatory training reminder', 'Fire safety training is due by the end of the month.'],
  ['laura.smith@nhs.test', 'Referral: Mr J. Doe', 'Thank you for the referral. I will see the patient in clinic next week.'],
  ['ella.nowak@nhs.test', 'New ward PCs', 'The new PCs on ward 4 are ready. Sign out when you leave them.'],
]
for (let i = 0; i < 3; i++) {
  for (const [from, subject, text] of seed) {
    await apiAs(from, 'POST', '/api/v1/send', { to: [ben], cc: i === 0 ? ['chloe.davies@nhs.test'] : [], bcc: [], subject: i ? `${subject} (${i + 1})` : subject, text })
  }
}

// The demo seeds all-staff@nhs.test, a list of everyone in it.
export const demoPeople = ['amira.khan', 'ben.okafor', 'chloe.davies', 'daniel.murphy', 'ella.nowak', 'farah.hussain', 'george.williams',
  'hannah.evans', 'ibrahim.ali', 'jess.taylor', 'kwame.mensah', 'laura.smith', 'mohammed.rahman', 'niamh.kelly', 'oliver.brown',
  'priya.patel', 'quentin.hughes', 'rosa.martinez', 'sam.lee', 'tom.wilson'].map((p) => p + '@nhs.test')

export const { browser, context, page } = await launch()
export const consoleErrors = []
page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()) })
page.on('pageerror', (e) => consoleErrors.push(String(e)))
export const failedCalls = []
page.on('response', (r) => { if (r.status() >= 400) failedCalls.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`) })
mkdirSync(SHOTS, { recursive: true })

// axe checks WCAG 2.2 AA (with 2.0 and 2.1 A and AA) on a page: the
// shared one unless another (the phone's, the tablet's) is given.
export async function axe(name, on = page) {
  await on.evaluate(AXE) // evaluate is not subject to the page's CSP
  const r = await on.evaluate(() => window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } }))
  const v = r.violations.map((x) => `${x.id} (${x.impact}): ${x.help} — ${x.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`)
  assert(v.length === 0, `axe found WCAG 2.2 AA violations on ${name}:\n  ` + v.join('\n  '))
}

// Failed HTTP calls a step expects (a wrong password, a refused request):
// step files add patterns here; run.mjs reports any other failed call.
export const expectedFailures = [/^401 (GET|POST) \/api\/v1\/session$/]
