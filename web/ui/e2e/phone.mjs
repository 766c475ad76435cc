// Browser tests on a phone (390×844, touch) and a tablet (768×1024): one
// pane at a time with back, the composer as a sheet with the audience,
// search, settings, the demo administrator's two-step set-up with its QR
// code, the offline page, and axe (WCAG 2.2 AA) on each view. Each size has
// a browser context of its own; the desktop steps' page is not touched.
import { join } from 'node:path'
import { createRequire } from 'node:module'
import { step, assert, axe, apiAs, totp, SHOTS, PASSWORD, base, ben, browser, server, expectedFailures } from './harness.mjs'

const require = createRequire(import.meta.url)
const qrcode = require('qrcode-generator')

async function device(width, height) {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width, height }, isMobile: true, hasTouch: true,
    deviceScaleFactor: 1, locale: 'en-GB', timezoneId: 'Europe/London' })
  return { ctx, page: await ctx.newPage() }
}
async function signIn(p, email) {
  await p.goto(base + '/')
  await p.getByLabel('Email address').fill(email)
  await p.getByLabel('Password').fill(PASSWORD)
  await p.getByRole('button', { name: 'Sign in' }).click()
}
// Whether an element is on screen (in the viewport, not hidden).
const onScreen = (loc) => loc.evaluate((el) => {
  const r = el.getBoundingClientRect()
  return r.width > 0 && r.height > 0 && r.left >= 0 && r.right <= window.innerWidth + 0.5 && r.top < window.innerHeight
})

const phone = await device(390, 844)
const p = phone.page

await step('phone: the inbox fills the screen; search and Sign out fit; the folders are a pane of their own', async () => {
  await signIn(p, ben)
  await p.getByRole('listbox', { name: 'Inbox' }).getByRole('option').first().waitFor()
  for (const name of ['Sign out', 'Settings', 'Search']) assert(await onScreen(p.getByRole('button', { name, exact: true })), `${name} is off screen`)
  const search = await p.getByRole('searchbox', { name: 'Search mail' }).boundingBox()
  assert(search.width >= 200, `the search box is ${search.width}px wide`)
  assert(!(await p.getByRole('navigation', { name: 'Folders' }).isVisible()), 'the folders share the screen with the list')
  assert(!(await p.getByRole('region', { name: 'Reading pane' }).isVisible()), 'the reading pane shares the screen with the list')
  // Touch targets: every visible button at least 44 px high (links in text aside).
  const small = await p.evaluate(() => [...document.querySelectorAll('button:not(.link)')].filter((b) => b.offsetParent && b.getBoundingClientRect().height < 44).map((b) => b.textContent))
  assert(small.length === 0, 'buttons under 44 px: ' + small.join(', '))
  await axe('phone inbox', p)
  await p.screenshot({ path: join(SHOTS, 'phone-inbox.png') })
})

await step('phone: a tapped message opens on screen; the back button and the browser\'s back return to the list', async () => {
  await p.getByRole('option').filter({ hasText: 'Rota for December' }).first().tap()
  const heading = p.getByRole('heading', { name: 'Rota for December', level: 2 })
  await heading.waitFor()
  assert(await onScreen(heading), 'the message opened off screen')
  assert(!(await p.getByRole('listbox', { name: 'Inbox' }).isVisible()), 'the list still shares the screen')
  await p.frameLocator('iframe.body').getByText('night shifts').waitFor()
  await axe('phone message', p)
  await p.screenshot({ path: join(SHOTS, 'phone-message.png') })
  await p.goBack()
  await p.getByRole('listbox', { name: 'Inbox' }).waitFor()
  assert(!(await heading.isVisible()), 'the browser\'s back left the message on screen')
  await p.getByRole('option').filter({ hasText: 'Rota for December' }).first().tap()
  await p.getByRole('button', { name: 'Back to Inbox' }).tap()
  await p.getByRole('listbox', { name: 'Inbox' }).waitFor()
  await p.getByRole('button', { name: 'Folders' }).tap()
  const nav = p.getByRole('navigation', { name: 'Folders' })
  await nav.waitFor()
  await axe('phone folders', p)
  await nav.getByRole('button', { name: /^Sent/ }).tap()
  await p.getByRole('listbox', { name: 'Sent' }).waitFor()
  await p.goBack()
  await nav.waitFor()
  await nav.getByRole('button', { name: /^Inbox/ }).tap()
  await p.getByRole('listbox', { name: 'Inbox' }).waitFor()
})

await step('phone: reply from a message, in a composer that fills the screen', async () => {
  await p.getByRole('option').filter({ hasText: 'Ward round at eight' }).first().tap()
  await p.getByRole('heading', { name: 'Ward round at eight', level: 2 }).waitFor()
  await p.getByRole('button', { name: 'Reply', exact: true }).tap()
  const dialog = p.getByRole('dialog')
  await dialog.waitFor()
  const box = await dialog.boundingBox()
  assert(box.width >= 389 && box.x >= 0 && box.height <= 845, `the composer is ${JSON.stringify(box)}`)
  assert(await p.getByRole('combobox', { name: 'To' }).inputValue() === 'amira.khan@nhs.test', 'reply To')
  await p.getByLabel('Message', { exact: true }).press('Control+Home')
  await p.getByLabel('Message', { exact: true }).pressSequentially('Seen, thanks. ')
  assert(await onScreen(dialog.getByRole('button', { name: 'Send', exact: true })), 'Send is off screen')
  await dialog.getByRole('button', { name: 'Send', exact: true }).tap()
  await p.getByRole('status').filter({ hasText: 'Message sent to 1 person' }).waitFor()
})

await step('phone: compose to a list: Enter takes the suggestion, lists come with their size, the audience shows before Send', async () => {
  await p.goBack() // from the message to the list
  await p.getByRole('button', { name: 'New message' }).tap()
  const dialog = p.getByRole('dialog')
  const to = p.getByRole('combobox', { name: 'To' })
  await to.pressSequentially('laura')
  await dialog.getByRole('option', { name: /Laura Smith/ }).waitFor()
  await to.press('Enter')
  assert((await to.inputValue()).startsWith('laura.smith@nhs.test'), 'Enter left: ' + await to.inputValue())
  await to.pressSequentially('pharm')
  const list = dialog.getByRole('option', { name: /Pharmacists/ })
  await list.waitFor()
  assert(/list, \d+ (person|people)/.test(await list.textContent()), 'the list suggestion has no size: ' + await list.textContent())
  await to.press('Escape')
  await to.fill('mri')
  await dialog.getByRole('option', { name: /mri-ward-4@nhs\.test/ }).waitFor()
  await to.press('Tab')
  await dialog.getByRole('status').filter({ hasText: 'This will reach 4 people (mri-ward-4: 4 people).' }).waitFor()
  await to.fill('all-staff@nhs.test, ')
  const warning = dialog.getByRole('alert').filter({ hasText: 'This will reach 20 people in 4 organisations' })
  await warning.waitFor() // before Send was pressed
  await p.getByLabel('Subject').fill('Fire drill on Friday')
  await p.getByLabel('Message', { exact: true }).fill('Fire drill on Friday at 10:00.')
  await axe('phone compose with the audience warning', p)
  await warning.scrollIntoViewIfNeeded()
  await p.screenshot({ path: join(SHOTS, 'phone-compose-audience.png') })
  await dialog.getByRole('button', { name: 'Send to 20 people' }).tap()
  await p.getByRole('status').filter({ hasText: 'Message sent to all-staff (20 people).' }).waitFor()
})

await step('phone: an unknown colleague and an address outside the health service are said before Send', async () => {
  await p.getByRole('button', { name: 'New message' }).tap()
  const dialog = p.getByRole('dialog')
  await p.getByRole('combobox', { name: 'To' }).fill('nobody.here@nhs.test, ')
  await dialog.getByRole('status').filter({ hasText: /nobody\.here@nhs\.test/ }).waitFor()
  // Mail to other domains is queued (package outbound): the address is
  // marked as outside the directory, not refused.
  await p.getByRole('combobox', { name: 'To' }).fill('someone@gmail.example, ')
  await dialog.getByText('Outside', { exact: true }).waitFor()
  await axe('phone compose with an outside address', p)
  await dialog.getByRole('button', { name: 'Close' }).tap()
})

await step('phone: search shows each result\'s folder', async () => {
  await p.getByRole('searchbox', { name: 'Search mail' }).fill('subject:"fire drill on friday"')
  await p.getByRole('button', { name: 'Search', exact: true }).tap()
  const results = p.getByRole('listbox', { name: /Search results/ })
  await results.getByRole('option').filter({ hasText: 'Fire drill on Friday' }).nth(1).waitFor()
  const rows = await results.getByRole('option').allTextContents()
  assert(rows.some((r) => r.includes('Sent') && r.includes('Fire drill on Friday')) && rows.some((r) => r.includes('Inbox')), 'search rows: ' + rows.join(' | '))
  await axe('phone search results', p)
})

await step('phone: settings fit the screen', async () => {
  await p.getByRole('button', { name: 'Settings' }).tap()
  await p.getByRole('heading', { name: 'App passwords' }).waitFor()
  const wide = await p.evaluate(() => document.documentElement.scrollWidth)
  assert(wide <= 390, `the settings page is ${wide}px wide`)
  await axe('phone settings', p)
  await p.screenshot({ path: join(SHOTS, 'phone-settings.png') })
  await p.getByRole('button', { name: 'Sign out', exact: true }).tap()
  await p.getByLabel('Email address').waitFor()
})

await step('phone: two-step sign-in moved to a new phone with a recovery code; the old phone and the old codes stop working', async () => {
  const who = 'laura.smith@nhs.test'
  await signIn(p, who)
  await p.getByRole('button', { name: 'Settings' }).tap()
  await p.getByRole('button', { name: 'Set up two-step sign-in' }).tap()
  await p.getByRole('button', { name: 'Set up an authenticator app' }).tap()
  const oldKey = (await p.locator('#totp-secret').textContent()).replace(/\s/g, '')
  await p.getByLabel('Code from the app').fill(totp(oldKey))
  await p.getByRole('button', { name: 'Turn on two-step sign-in' }).tap()
  const recovery = (await p.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').first().textContent()).trim()
  await p.getByRole('button', { name: 'I have kept my recovery codes' }).tap()

  await p.getByRole('button', { name: 'Move to a new phone' }).tap()
  const current = p.getByLabel('Code from your current app, or a recovery code')
  await current.fill('000000')
  await p.getByRole('button', { name: 'Continue', exact: true }).tap()
  await p.getByRole('alert').filter({ hasText: 'That code is not right' }).waitFor()
  await current.fill(recovery)
  await p.getByRole('button', { name: 'Continue', exact: true }).tap()
  await p.getByRole('img', { name: /QR code of the key/ }).waitFor()
  const newKey = (await p.locator('#totp-secret').textContent()).replace(/\s/g, '')
  assert(newKey && newKey !== oldKey, 'the new phone was shown the old key')
  const uri = await p.getByRole('link', { name: 'Open in an authenticator app on this device' }).getAttribute('href')
  assert(uri.startsWith('otpauth://totp/') && uri.includes('secret=' + newKey), 'the new key\'s link: ' + uri)
  for (const [w, h] of [[390, 844], [768, 1024], [1400, 860]]) {
    await p.setViewportSize({ width: w, height: h })
    await axe(`moving two-step sign-in at ${w}x${h}`, p)
  }
  await p.setViewportSize({ width: 390, height: 844 })
  await p.getByLabel('Code from the new phone').fill(totp(newKey))
  await p.getByRole('button', { name: 'Use the new phone' }).tap()
  await p.getByRole('status').filter({ hasText: 'Two-step sign-in now uses the app on your new phone' }).waitFor()
  assert(await p.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').count() === 10, 'ten new recovery codes')
  await p.getByRole('button', { name: 'I have kept my recovery codes' }).tap()
  await p.getByText('On. 10 unused recovery codes.').waitFor()
  await p.getByRole('button', { name: 'Sign out', exact: true }).tap()
  await p.getByLabel('Email address').waitFor()

  const signInWith = (code) => fetch(base + '/api/v1/session', { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: who, password: PASSWORD, totp: code }) }).then((r) => r.status)
  const next = Date.now() + 30000 // each code signs in once: the next one
  assert(await signInWith(totp(oldKey, next)) === 401, 'the old phone\'s code still signs in')
  assert(await signInWith(recovery) === 401, 'a recovery code from before the move still signs in')
  assert(await signInWith(totp(newKey, next)) === 200, 'the new phone\'s code does not sign in')
})

await step('the demo\'s administrator is printed at start, and sets up two-step sign-in from a QR code made in the page', async () => {
  assert(/Administrator: rosa\.martinez@nhs\.test \(national\)/.test(server.log), 'the demo printed no administrator')
  await signIn(p, 'rosa.martinez@nhs.test')
  await p.getByRole('button', { name: 'Set up an authenticator app' }).tap()
  const qr = p.getByRole('img', { name: /QR code of the key/ })
  await qr.waitFor()
  const uri = await p.getByRole('link', { name: 'Open in an authenticator app on this device' }).getAttribute('href')
  const key = (await p.locator('#totp-secret').textContent()).replace(/\s/g, '')
  assert(uri.startsWith('otpauth://totp/') && uri.includes('secret=' + key), 'the key link: ' + uri)
  const want = qrcode(0, 'M'); want.addData(uri); want.make()
  const drawn = await qr.locator('path').getAttribute('d')
  const n = want.getModuleCount()
  let d = ''
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) if (want.isDark(y, x)) d += `M${x + 4} ${y + 4}h1v1h-1z`
  assert(drawn === d, 'the QR code is not the key\'s otpauth: address')
  await axe('phone two-step set-up with its QR code', p)
  await p.screenshot({ path: join(SHOTS, 'phone-totp.png') })
  await p.getByRole('button', { name: 'Sign out', exact: true }).tap()
  await p.getByLabel('Email address').waitFor()
})

await step('offline: the installed webmail says "you are offline", not a browser error', async () => {
  const manifest = await (await fetch(base + '/manifest.webmanifest')).json()
  assert(manifest.display === 'standalone' && manifest.icons.some((i) => i.sizes === '512x512'), 'manifest: ' + JSON.stringify(manifest))
  const ready = await p.evaluate(() => Promise.race([navigator.serviceWorker.ready.then(() => true), new Promise((r) => setTimeout(() => r(false), 10000))]))
  assert(ready, 'no service worker after 10 s')
  await phone.ctx.setOffline(true)
  await p.reload().catch(() => undefined)
  await p.getByRole('heading', { name: 'You are offline' }).waitFor()
  await axe('offline page', p)
  await phone.ctx.setOffline(false)
})

await step('http:// on the HTTPS port is sent to https://', async () => {
  const http = base.replace('https://', 'http://')
  const resp = await fetch(http + '/settings', { redirect: 'manual' })
  assert(resp.status === 301 && resp.headers.get('location') === base + '/settings', `http:// answered ${resp.status} ${resp.headers.get('location')}`)
})
await phone.ctx.close()

const tablet = await device(768, 1024)
const t = tablet.page
await step('tablet: the list beside the message, the folders a tap away', async () => {
  await signIn(t, ben)
  const list = t.getByRole('listbox', { name: 'Inbox' })
  await list.getByRole('option').first().waitFor()
  await list.getByRole('option').filter({ hasText: 'Ward round at eight' }).first().tap()
  await t.getByRole('heading', { name: 'Ward round at eight', level: 2 }).waitFor()
  assert(await list.isVisible(), 'the list left the screen when a message opened')
  await axe('tablet inbox and message', t)
  await t.screenshot({ path: join(SHOTS, 'tablet-inbox.png') })
  await t.getByRole('button', { name: 'Folders' }).tap()
  await t.getByRole('navigation', { name: 'Folders' }).getByRole('button', { name: /^Drafts/ }).tap()
  await t.getByRole('listbox', { name: 'Drafts' }).waitFor()
  await t.getByRole('button', { name: 'New message' }).tap()
  await t.getByRole('combobox', { name: 'To' }).fill('all-staff@nhs.test, ')
  await t.getByRole('dialog').getByRole('alert').filter({ hasText: 'This will reach 20 people' }).waitFor()
  await axe('tablet compose with the audience warning', t)
  await t.getByRole('dialog').getByRole('button', { name: 'Close' }).tap()
  await t.getByRole('button', { name: 'Settings' }).tap()
  await t.getByRole('heading', { name: 'App passwords' }).waitFor()
  await axe('tablet settings', t)
})
await tablet.ctx.close()

// Addresses nobody has or outside the health service are refused on purpose.
expectedFailures.push(/^422 POST \/api\/v1\/audience$/, /^422 POST \/api\/v1\/settings\/totp$/)
