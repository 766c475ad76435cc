// Browser tests: Debian's Chromium driven by playwright-core against a real
// `wardmail demo` (HTTPS, SQLite, the real pipeline), with axe-core checking
// WCAG 2.1 AA on each main view. Screenshots of the main views go to
// docs/screenshots/. Run by `make e2e` (part of `make test`).
//
//   WARDMAIL_BIN  the binary (default ../../bin/wardmail)
//   CHROMIUM      the browser (default /usr/bin/chromium)
//   SCREENSHOTS   where to save screenshots (default ../../docs/screenshots)
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, mkdirSync, writeFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import { createHmac } from 'node:crypto'
import { chromium } from 'playwright-core'

const here = dirname(fileURLToPath(import.meta.url))
const require = createRequire(import.meta.url)
const BIN = process.env.WARDMAIL_BIN || join(here, '../../../bin/wardmail')
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium'
const SHOTS = process.env.SCREENSHOTS || join(here, '../../../docs/screenshots')
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')
const PASSWORD = 'wardmail-demo'
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0' // our own self-signed certificate on loopback

let failures = 0
const results = []
async function step(name, fn) {
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
function assert(cond, msg) { if (!cond) throw new Error(msg) }

// RFC 6238 TOTP (SHA-1, 30 s, 6 digits) from the base32 key the page shows,
// as an authenticator app computes it.
function totp(base32, at = Date.now()) {
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
const data = mkdtempSync(join(tmpdir(), 'wardmail-e2e-'))
// Ask for confirmation above 10 people, so a demo-sized list shows the step.
// The storm breaker's thresholds shrink to the demo's size: a reply to 10
// people or more counts, the 2nd brakes and the 3rd blocks the thread.
writeFileSync(join(data, 'test.conf'), 'confirm_audience_above = 10\nstorm_min_audience = 10\nstorm_replies = 3\nstorm_brake_from = 2\n')
const server = spawn(BIN, ['demo', '--data', data, '--config', join(data, 'test.conf'), '--smtp', '127.0.0.1:0', '--submission', '127.0.0.1:0', '--imap', '127.0.0.1:0',
  '--http', '127.0.0.1:0', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] })
let serverLog = ''
process.on('exit', () => { if (server.exitCode === null) server.kill('SIGKILL') })
const base = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('wardmail demo did not start in 60 s:\n' + serverLog)), 60000)
  server.stderr.on('data', (b) => {
    serverLog += b
    const m = /http (127\.0\.0\.1:\d+)/.exec(serverLog)
    if (m) { clearTimeout(timer); resolve('https://' + m[1]) }
  })
  server.on('exit', (code) => reject(new Error(`wardmail demo exited (${code}):\n` + serverLog)))
})

async function apiAs(email, method, path, body) {
  const resp = await fetch(base + path, {
    method, headers: { Authorization: 'Basic ' + Buffer.from(`${email}:${PASSWORD}`).toString('base64'), 'Content-Type': 'application/json' },
    body: body && JSON.stringify(body),
  })
  if (!resp.ok) throw new Error(`${method} ${path}: ${resp.status} ${await resp.text()}`)
  return resp.status === 204 ? null : resp.json()
}

// Seed Ben's mailbox through the API, as other people's webmail would.
const ben = 'ben.okafor@nhs.test'
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

// A list of everyone in the demo, created with the CLI as an operator would
// (administrators sign in to the web with a security code; the CLI works on
// the data folder while the server runs).
const demoPeople = ['amira.khan', 'ben.okafor', 'chloe.davies', 'daniel.murphy', 'ella.nowak', 'farah.hussain', 'george.williams',
  'hannah.evans', 'ibrahim.ali', 'jess.taylor', 'kwame.mensah', 'laura.smith', 'mohammed.rahman', 'niamh.kelly', 'oliver.brown',
  'priya.patel', 'quentin.hughes', 'rosa.martinez', 'sam.lee', 'tom.wilson'].map((p) => p + '@nhs.test')
execFileSync(BIN, ['list', 'create', '--data', data, '--address', 'all-staff@nhs.test', '--name', 'All demo staff',
  '--owner', 'amira.khan@nhs.test', '--members', demoPeople.join(',')], { stdio: 'pipe' })

const browser = await chromium.launch({
  executablePath: CHROMIUM, headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
})
const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1400, height: 860 }, locale: 'en-GB', timezoneId: 'Europe/London' })
const page = await context.newPage()
const consoleErrors = []
page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()) })
page.on('pageerror', (e) => consoleErrors.push(String(e)))
const failedCalls = []
page.on('response', (r) => { if (r.status() >= 400) failedCalls.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`) })
mkdirSync(SHOTS, { recursive: true })

async function axe(name) {
  await page.evaluate(AXE) // evaluate is not subject to the page's CSP
  const r = await page.evaluate(() => window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }))
  const v = r.violations.map((x) => `${x.id} (${x.impact}): ${x.help} — ${x.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`)
  assert(v.length === 0, `axe found WCAG 2.1 AA violations on ${name}:\n  ` + v.join('\n  '))
}

await step('sign-in page is accessible and refuses a wrong password with a sentence', async () => {
  await page.goto(base + '/')
  await page.getByLabel('Email address').waitFor()
  await axe('sign-in')
  await page.getByLabel('Email address').fill(ben)
  await page.getByLabel('Password').fill('not-the-password')
  await page.getByRole('button', { name: 'Sign in' }).click()
  const alert = page.getByRole('alert')
  await alert.waitFor()
  assert((await alert.textContent()).includes('email address or password is not right'), 'no wrong-password sentence')
})

await step('sign in shows the inbox with unread counts', async () => {
  await page.getByLabel('Password').fill(PASSWORD)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('listbox', { name: 'Inbox' }).waitFor()
  await page.getByRole('option').first().waitFor()
  const count = await page.locator('.folder.current .count').textContent()
  assert(count === '18', `inbox unread count ${count}, want 18`)
  await axe('inbox')
})

await step('read a message: reading pane, sandboxed frame, marked read', async () => {
  await page.getByRole('option').filter({ hasText: 'Ward round at eight' }).first().click()
  await page.getByRole('heading', { name: 'Ward round at eight', level: 2 }).waitFor()
  const frame = page.frameLocator('iframe.body')
  await frame.getByText('Bed 12 needs a review').waitFor()
  const sandbox = await page.locator('iframe.body').getAttribute('sandbox')
  assert(sandbox === 'allow-popups allow-popups-to-escape-sandbox', `iframe sandbox ${sandbox}`)
  await page.waitForFunction(() => document.querySelector('.folder.current .count')?.textContent === '17')
  await axe('reading pane')
  await page.screenshot({ path: join(SHOTS, 'reading-pane.png') })
})

await step('keyboard: j moves to the next message and opens it', async () => {
  await page.locator('.list').focus()
  const before = await page.locator('#reader-subject').textContent()
  await page.keyboard.press('j')
  await page.waitForFunction((b) => document.querySelector('#reader-subject')?.textContent !== b, before)
})

await step('delete with # and undo', async () => {
  const subject = await page.locator('#reader-subject').textContent()
  await page.keyboard.press('#')
  await page.getByRole('status').filter({ hasText: 'Moved to Trash' }).waitFor()
  await page.waitForFunction(() => [...document.querySelectorAll('.folder')].some((b) => b.textContent.startsWith('Inbox')))
  await page.getByRole('button', { name: 'Undo' }).click()
  await page.getByRole('status').filter({ hasText: 'Undone' }).waitFor()
  await page.getByRole('option').filter({ hasText: subject }).first().waitFor()
})

await step('search: from and words, results in the list', async () => {
  await page.keyboard.press('/')
  await page.keyboard.type('from:daniel heparin')
  await page.keyboard.press('Enter')
  const list = page.getByRole('listbox', { name: /Search results/ })
  await list.waitFor()
  await page.waitForFunction(() => document.querySelectorAll('.list .row').length === 3)
  const texts = await list.getByRole('option').allTextContents()
  assert(texts.every((t) => t.includes('Pharmacy stock: heparin')), 'search results: ' + texts.join(' | '))
})

await step('compose: autocomplete from the directory, send, see it in Sent', async () => {
  await page.getByRole('button', { name: 'New message' }).click()
  const dialog = page.getByRole('dialog')
  await dialog.waitFor()
  await page.getByLabel('Subject').fill('Bed 12 reviewed')
  await page.getByLabel('Message', { exact: true }).fill('Bed 12 reviewed and stable.\nBen')
  await page.getByRole('combobox', { name: 'To' }).fill('amira')
  await page.getByRole('option', { name: /Amira Khan/ }).waitFor()
  await axe('compose')
  await page.screenshot({ path: join(SHOTS, 'compose.png') })
  await page.getByRole('option', { name: /Amira Khan/ }).click()
  const to = await page.getByRole('combobox', { name: 'To' }).inputValue()
  assert(to.startsWith('amira.khan@nhs.test'), `To after choosing: ${to}`)
  await dialog.getByRole('button', { name: 'Send' }).click()
  await page.getByRole('status').filter({ hasText: 'Message sent to 1 person' }).waitFor()
  await page.getByRole('button', { name: /^Sent/ }).click()
  await page.getByRole('option').filter({ hasText: 'Bed 12 reviewed' }).waitFor()
  const inbox = await apiAs('amira.khan@nhs.test', 'GET', '/api/v1/search?q=' + encodeURIComponent('subject:"bed 12 reviewed"'))
  assert(inbox.total === 1, `amira received ${inbox.total} copies`)
})

await step('compose to a list: the audience and a confirmation step before sending', async () => {
  await page.keyboard.press('c')
  const dialog = page.getByRole('dialog')
  await dialog.waitFor()
  await page.getByRole('combobox', { name: 'To' }).fill('all-staff@nhs.test')
  await page.getByLabel('Subject').fill('Fire drill on Thursday')
  await page.getByLabel('Message', { exact: true }).fill('There is a fire drill on Thursday at 10:00. Please read the evacuation plan.')
  await dialog.getByRole('button', { name: 'Send', exact: true }).click()
  const warning = dialog.getByRole('alert').filter({ hasText: 'This will reach' })
  await warning.waitFor()
  const text = await warning.textContent()
  assert(/This will reach 20 people in 4 organisations/.test(text), 'audience warning: ' + text)
  await axe('compose with audience warning')
  await page.screenshot({ path: join(SHOTS, 'compose-audience.png') })
  await dialog.getByRole('button', { name: 'Send to 20 people' }).click()
  await page.getByRole('status').filter({ hasText: 'Message sent' }).waitFor()
})

await step('inbox screenshot', async () => {
  await page.getByRole('button', { name: /^Inbox/ }).click()
  await page.getByRole('option').filter({ hasText: 'Rota for December' }).first().click()
  await page.getByRole('heading', { name: 'Rota for December', level: 2 }).waitFor()
  await page.frameLocator('iframe.body').getByText('night shifts').waitFor()
  await page.screenshot({ path: join(SHOTS, 'inbox.png') })
})

await step('settings: an app password is shown once, listed with its last use, and revoked', async () => {
  await page.getByRole('button', { name: 'Settings' }).click()
  await page.getByRole('heading', { name: 'App passwords' }).waitFor()
  await page.getByLabel('Device name').fill('ward phone')
  await page.getByRole('button', { name: 'Create app password' }).click()
  const secret = (await page.locator('#new-app-password').textContent()).trim()
  assert(/^wm-[a-z2-7]{8}(-[a-z2-7]{8}){3}$/.test(secret), 'app password shape: ' + secret)
  await page.getByRole('cell', { name: 'ward phone', exact: true }).waitFor()
  await axe('settings with a new app password')
  await page.screenshot({ path: join(SHOTS, 'settings.png') })
  await page.getByRole('button', { name: 'Done' }).click()
  assert(!(await page.content()).includes(secret), 'the app password is still on the page after Done')
  const listed = await apiAs(ben, 'GET', '/api/v1/settings/app-passwords')
  assert(listed.app_passwords.length === 1 && !JSON.stringify(listed).includes(secret), 'listed: ' + JSON.stringify(listed))
  page.once('dialog', (d) => d.accept())
  await page.getByRole('button', { name: 'Revoke ward phone' }).click()
  await page.getByRole('cell', { name: 'No app passwords yet.' }).waitFor()
})

await step('settings and sign out everywhere', async () => {
  await page.getByRole('button', { name: 'Settings' }).click()
  await page.getByRole('heading', { name: 'Settings' }).waitFor()
  await axe('settings')
  page.once('dialog', (d) => d.accept())
  await page.getByRole('button', { name: 'Sign out everywhere' }).click()
  await page.getByLabel('Email address').waitFor()
})

// The administrators' console, as a national administrator who has not set
// up two-step sign-in yet (granted with the CLI, as an operator would).
const nat = 'tom.wilson@nhs.test'
execFileSync(BIN, ['admin', 'grant', '--data', data, nat, '--role', 'national'], { stdio: 'pipe' })
let natKey = ''
async function signInPage(email, code) {
  await page.getByLabel('Email address').fill(email)
  await page.getByLabel('Password').fill(PASSWORD)
  if (code) await page.getByLabel('Security code').fill(code)
  await page.getByRole('button', { name: 'Sign in' }).click()
}

await step('an administrator without two-step sign-in reaches only its set-up, and sets it up', async () => {
  await signInPage(nat)
  await page.getByRole('heading', { name: /Set up two-step sign-in/ }).waitFor()
  const folders = await page.evaluate(() => fetch('/api/v1/folders').then((r) => r.status))
  assert(folders === 403, `folders before enrolment: ${folders}`)
  await page.getByRole('button', { name: 'Set up an authenticator app' }).click()
  natKey = (await page.locator('#totp-secret').textContent()).replace(/\s/g, '')
  await axe('two-step set-up')
  await page.getByLabel('Code from the app').fill(totp(natKey))
  await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click()
  await page.getByRole('list', { name: 'Recovery codes' }).waitFor()
  assert((await page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').count()) === 10, 'ten recovery codes')
  await page.getByRole('button', { name: 'I have kept my recovery codes' }).click()
  await page.getByRole('button', { name: 'Administration' }).waitFor()
})

await step('sign-in with a security code', async () => {
  await page.getByRole('button', { name: 'Sign out' }).click()
  await signInPage(nat)
  await page.getByLabel('Security code').waitFor()
  await page.getByLabel('Security code').fill(totp(natKey, Date.now() + 30000)) // the next step: each code signs in once
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('button', { name: 'Administration' }).waitFor()
})

async function openConsole(area) {
  await page.getByRole('button', { name: 'Administration' }).click()
  await page.getByRole('navigation', { name: 'Administration areas' }).getByRole('button', { name: area }).click()
}

await step('admin unlock: locked by wrong passwords, unlocked in the console, signs in', async () => {
  const victim = 'george.williams@nhs.test'
  const signIn = (password) => fetch(base + '/api/v1/session', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: victim, password }) })
  for (let i = 0; i < 10; i++) await signIn(`wrong-${i}`)
  const locked = await signIn(PASSWORD)
  const prob = await locked.json()
  assert(locked.status === 423 && prob.until, `after 10 wrong passwords: ${locked.status} ${JSON.stringify(prob)}`)
  await openConsole('Lockouts')
  const row = page.getByRole('row').filter({ hasText: victim })
  await row.waitFor()
  await axe('lockouts')
  await page.screenshot({ path: join(SHOTS, 'admin-lockouts.png') })
  await row.getByRole('button', { name: `Unlock ${victim}` }).click()
  await page.getByRole('status').filter({ hasText: `Unlocked ${victim}` }).waitFor()
  const after = await signIn(PASSWORD)
  assert(after.status === 200, `after unlock: ${after.status}`)
})

await step('people: search and add a person', async () => {
  await openConsole('People')
  await page.getByLabel('Find people').fill('ben')
  await page.getByRole('button', { name: 'Find', exact: true }).click()
  await page.getByRole('cell', { name: ben, exact: true }).waitFor()
  await page.getByRole('button', { name: 'Add a person' }).click()
  await page.getByLabel('Email address').fill('new.starter@nhs.test')
  await page.getByLabel('Name', { exact: true }).fill('New Starter')
  await page.getByLabel('First password').fill('first-day-on-the-ward')
  await axe('people')
  await page.getByRole('form', { name: 'Add a person' }).getByRole('button', { name: 'Add' }).click()
  await page.getByRole('status').filter({ hasText: 'Added new.starter@nhs.test' }).waitFor()
})

await step('lists: create with a live audience preview', async () => {
  await openConsole('Lists')
  await page.getByLabel('List address').fill('everyone-here@nhs.test')
  await page.getByLabel('Name', { exact: true }).fill('Everyone in the demo')
  await page.getByLabel('Rule', { exact: true }).fill('*')
  await page.getByLabel('Scope').selectOption('national')
  await page.locator('#list-preview').filter({ hasText: /This list would reach 21 people in 4 organisations/ }).waitFor()
  await page.getByLabel('Rule', { exact: true }).fill('role = "pharmacist"')
  await page.locator('#list-preview').filter({ hasText: /This list would reach \d+ (person|people)/ }).waitFor()
  await axe('lists')
  await page.screenshot({ path: join(SHOTS, 'admin-lists.png') })
  await page.getByRole('button', { name: 'Create list' }).click()
  await page.getByRole('status').filter({ hasText: 'Created everyone-here@nhs.test' }).waitFor()
  await page.getByRole('cell', { name: /Everyone in the demo/ }).waitFor()
})

await step('moderation: a post to a moderated list is approved in the console', async () => {
  await page.getByRole('radio', { name: /named people and lists/ }).check()
  await page.getByLabel('List address').fill('ward-7-mod@nhs.test')
  await page.getByLabel('Name', { exact: true }).fill('Ward 7 (moderated)')
  await page.getByLabel('Members', { exact: true }).fill(`${ben}, chloe.davies@nhs.test`)
  await page.locator('#list-preview').filter({ hasText: 'This list would reach 2 people' }).waitFor()
  await page.getByLabel('Who may post').selectOption('moderated')
  await page.getByRole('button', { name: 'Create list' }).click()
  await page.getByRole('status').filter({ hasText: 'Created ward-7-mod@nhs.test' }).waitFor()
  await apiAs('chloe.davies@nhs.test', 'POST', '/api/v1/send', { to: ['ward-7-mod@nhs.test'], cc: [], bcc: [], subject: 'Bay 3 closed for cleaning', text: 'Until 14:00.' })
  await openConsole('Moderation')
  const row = page.getByRole('row').filter({ hasText: 'Bay 3 closed for cleaning' })
  await row.waitFor()
  await axe('moderation')
  await row.getByRole('button', { name: 'Approve Bay 3 closed for cleaning' }).click()
  await page.getByRole('status').filter({ hasText: 'Approved: Bay 3 closed for cleaning' }).waitFor()
  // Reading the INBOX takes in the list's posts (materialisation).
  const { folders } = await apiAs(ben, 'GET', '/api/v1/folders')
  const inbox = folders.find((f) => f.role === 'inbox')
  const got = await apiAs(ben, 'GET', `/api/v1/folders/${inbox.id}/messages?offset=0&limit=100`)
  const copies = got.messages.filter((m) => m.subject === 'Bay 3 closed for cleaning').length
  assert(copies === 1, `ben has ${copies} copies of the approved post`)
})

await step('storm board: reply-all storm blocked, shown, unblocked and blocked again; reply-all disabled in the thread', async () => {
  // Three people reply to everyone on Ben's fire-drill message to all-staff.
  const found = await apiAs('amira.khan@nhs.test', 'GET', '/api/v1/search?q=' + encodeURIComponent('subject:"fire drill on thursday"'))
  const original = await apiAs('amira.khan@nhs.test', 'GET', `/api/v1/folders/${found.messages[0].folder}/messages/${found.messages[0].uid}`)
  for (const from of ['amira.khan@nhs.test', 'chloe.davies@nhs.test', 'daniel.murphy@nhs.test']) {
    await apiAs(from, 'POST', '/api/v1/send', { to: ['all-staff@nhs.test'], cc: [], bcc: [], subject: 'Re: Fire drill on Thursday',
      text: 'Noted, thanks.', inReplyTo: original.messageId, references: [original.messageId] })
  }
  await openConsole('Storms')
  const row = page.getByRole('row').filter({ hasText: 'Fire drill on Thursday' })
  await row.filter({ hasText: 'blocked' }).waitFor()
  await axe('storm board')
  await page.screenshot({ path: join(SHOTS, 'storm-board.png') })
  await row.getByRole('button', { name: /^Unblock .*Fire drill on Thursday/ }).click()
  await page.getByRole('status').filter({ hasText: 'Unblocked reply-all' }).waitFor()
  await row.getByRole('button', { name: /^Block reply-all on .*Fire drill on Thursday/ }).click()
  await page.getByRole('status').filter({ hasText: 'Blocked reply-all' }).waitFor()
  await row.filter({ hasText: 'blocked' }).waitFor()
  // In the thread, reply-all is off with the reason and the time it lifts.
  await page.getByRole('button', { name: /^Inbox/ }).click()
  await page.getByRole('option').filter({ hasText: 'Fire drill on Thursday' }).first().click()
  await page.getByRole('heading', { name: /Fire drill on Thursday/, level: 2 }).waitFor()
  const note = page.locator('#replyall-blocked')
  await note.waitFor()
  assert(/allowed again from/.test(await note.textContent()), 'reply-all note: ' + await note.textContent())
  assert(await page.getByRole('button', { name: 'Reply all' }).isDisabled(), 'Reply all is enabled in a blocked thread')
  assert(!(await page.getByRole('button', { name: 'Reply', exact: true }).isDisabled()), 'Reply to the sender is disabled')
  await axe('reading a blocked thread')
})

await step('no console errors or CSP violations', async () => {
  // Expected: the first session check before signing in (401), the wrong password (401).
  // The administrator's check of /folders before enrolment (403).
  const unexpected = failedCalls.filter((c) => !/^401 (GET|POST) \/api\/v1\/session$/.test(c) && !/^403 GET \/api\/v1\/folders$/.test(c))
  assert(unexpected.length === 0, 'failed calls:\n  ' + unexpected.join('\n  '))
  const csp = consoleErrors.filter((e) => /Content.Security.Policy|Refused to/i.test(e))
  assert(csp.length === 0, 'CSP violations:\n  ' + csp.join('\n  '))
})

await browser.close()
server.kill('SIGTERM')
await new Promise((r) => server.on('exit', r))
rmSync(data, { recursive: true, force: true })
console.log(results.join('\n'))
console.log(failures ? `\n${failures} browser test(s) failed` : '\nall browser tests passed')
process.exit(failures ? 1 : 0)
