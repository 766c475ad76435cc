// Browser tests for staff: sign-in, reading, keyboard, search, compose, settings.
import { join } from 'node:path'
import { step, assert, apiAs, uploadAs, smtpSend, axe, SHOTS, PASSWORD, base, ben, page } from './harness.mjs'

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

// What someone received, read through the API: subject → attachment names.
async function received(email, subject) {
  const found = await apiAs(email, 'GET', '/api/v1/search?q=' + encodeURIComponent(`subject:"${subject}"`))
  assert(found.total === 1, `${email} has ${found.total} messages "${subject}"`)
  const m = found.messages[0]
  return apiAs(email, 'GET', `/api/v1/folders/${m.folder}/messages/${m.uid}?peek=1`)
}

await step('forward keeps the original attachments; the composer lists them removable', async () => {
  const pdf = await uploadAs('amira.khan@nhs.test', 'obs-chart.pdf', 'application/pdf', '%PDF-1.4\n')
  const txt = await uploadAs('amira.khan@nhs.test', 'consent.txt', 'text/plain', 'Consent signed.\n')
  await apiAs('amira.khan@nhs.test', 'POST', '/api/v1/send', { to: [ben], subject: 'Obs chart for bed 12', text: 'Chart and consent attached.', attachments: [pdf, txt] })
  await page.getByRole('button', { name: /^Inbox/ }).click()
  await page.getByRole('option').filter({ hasText: 'Obs chart for bed 12' }).first().click()
  await page.getByRole('heading', { name: 'Obs chart for bed 12', level: 2 }).waitFor()
  await page.getByRole('button', { name: 'Forward' }).click()
  const dialog = page.getByRole('dialog')
  await dialog.getByRole('list', { name: 'Attachments' }).getByText('obs-chart.pdf').waitFor()
  await dialog.getByRole('button', { name: 'Remove consent.txt' }).click()
  await page.getByRole('combobox', { name: 'To' }).fill('chloe.davies@nhs.test')
  await dialog.getByRole('button', { name: 'Send', exact: true }).click()
  await page.getByRole('status').filter({ hasText: 'Message sent to 1 person' }).waitFor()
  const got = await received('chloe.davies@nhs.test', 'Fwd: Obs chart for bed 12')
  assert(got.attachments.map((a) => a.filename).join() === 'obs-chart.pdf', 'forwarded attachments: ' + JSON.stringify(got.attachments))
})

await step('a draft reopens in the composer with its recipients, text and attachments; sending removes it', async () => {
  await page.getByRole('button', { name: /^Inbox/ }).click()
  await page.getByRole('option').filter({ hasText: 'Obs chart for bed 12' }).first().click()
  await page.getByRole('heading', { name: 'Obs chart for bed 12', level: 2 }).waitFor()
  await page.keyboard.press('f')
  let dialog = page.getByRole('dialog')
  await page.getByRole('combobox', { name: 'To' }).fill('hannah.evans@nhs.test')
  await page.getByLabel('Message', { exact: true }).press('Control+Home')
  await page.getByLabel('Message', { exact: true }).pressSequentially('For the audit. ')
  await dialog.getByText(/Draft saved at/).waitFor({ timeout: 10000 })
  await dialog.getByRole('button', { name: 'Close' }).click()
  await page.getByRole('button', { name: /^Drafts/ }).click()
  await page.getByRole('option').filter({ hasText: 'Fwd: Obs chart for bed 12' }).click()
  dialog = page.getByRole('dialog')
  await dialog.waitFor()
  assert(await page.getByRole('combobox', { name: 'To' }).inputValue() === 'hannah.evans@nhs.test', 'To of the reopened draft')
  assert((await page.getByLabel('Message', { exact: true }).inputValue()).startsWith('For the audit. '), 'text of the reopened draft')
  assert(await page.getByLabel('Subject').inputValue() === 'Fwd: Obs chart for bed 12', 'subject of the reopened draft')
  await dialog.getByRole('list', { name: 'Attachments' }).getByText('obs-chart.pdf').waitFor()
  await dialog.getByRole('list', { name: 'Attachments' }).getByText('consent.txt').waitFor()
  await axe('a draft reopened in the composer')
  await page.getByLabel('Subject').fill('Fwd: Obs chart for bed 12 (audit)')
  await dialog.getByText(/Draft saved at/).waitFor({ timeout: 10000 })
  const folders = (await apiAs(ben, 'GET', '/api/v1/folders')).folders
  assert(folders.find((f) => f.role === 'drafts').total === 1, 'drafts after saving the reopened draft: ' + JSON.stringify(folders))
  await dialog.getByRole('button', { name: 'Send', exact: true }).click()
  await page.getByRole('status').filter({ hasText: 'Message sent to 1 person' }).waitFor()
  const after = (await apiAs(ben, 'GET', '/api/v1/folders')).folders
  assert(after.find((f) => f.role === 'drafts').total === 0, 'the sent draft is still in Drafts')
  const got = await received('hannah.evans@nhs.test', 'Fwd: Obs chart for bed 12 (audit)')
  assert(got.attachments.map((a) => a.filename).join() === 'obs-chart.pdf,consent.txt', 'attachments of the sent draft: ' + JSON.stringify(got.attachments))
})

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=='
await step('inline images: cid: pictures show in the frame, remote ones stay blocked', async () => {
  await smtpSend('comms@leedsth.nhs.test', ben, `From: Trust Comms <comms@leedsth.nhs.test>
To: ${ben}
Subject: Trust newsletter
MIME-Version: 1.0
Content-Type: multipart/related; boundary=r1

--r1
Content-Type: text/html; charset=utf-8

<h1>Newsletter</h1><p><img src="cid:logo@leedsth.nhs.test" alt="Trust logo" width="40" height="40"> <img src="https://tracker.example/open.gif" alt="tracker"></p>
--r1
Content-Type: image/png
Content-ID: <logo@leedsth.nhs.test>
Content-Transfer-Encoding: base64

${PNG}
--r1--
`)
  await page.getByRole('button', { name: /^Inbox/ }).click()
  await page.getByRole('option').filter({ hasText: 'Trust newsletter' }).first().click()
  await page.getByRole('heading', { name: 'Trust newsletter', level: 2 }).waitFor()
  const logo = page.frameLocator('iframe.body').getByAltText('Trust logo')
  await logo.waitFor()
  await page.waitForFunction(() => true)
  const loaded = await logo.evaluate((img) => new Promise((r) => (img.complete ? r(img.naturalWidth) : img.addEventListener('load', () => r(img.naturalWidth)))))
  assert(loaded === 1, 'the inline image did not load: ' + loaded)
  await page.getByRole('note').filter({ hasText: 'One remote image was blocked' }).waitFor()
  assert(await page.getByRole('region', { name: 'Attachments' }).count() === 0, 'the inline image is listed as an attachment')
})

await step('mail from outside: a banner on every message, a stronger one for a look-alike sender', async () => {
  await smtpSend('results@clinic.example', ben, `From: Clinic Results <results@clinic.example>
To: ${ben}
Subject: Blood results ready

The results for your patient are ready.
`)
  await smtpSend('amira.khan@nhs-test.org', ben, `From: Amira Khan <amira.khan@nhs-test.org>
To: ${ben}
Subject: Urgent: change of drug dose

Please double the dose.
`)
  await page.getByRole('button', { name: /^Inbox/ }).click()
  await page.getByRole('option').filter({ hasText: 'Blood results ready' }).first().click()
  await page.getByRole('heading', { name: 'Blood results ready', level: 2 }).waitFor()
  await page.getByRole('note').filter({ hasText: 'This message came from outside the health service: check before you act on it' }).waitFor()
  await page.getByRole('option').filter({ hasText: 'Urgent: change of drug dose' }).first().click()
  await page.getByRole('heading', { name: 'Urgent: change of drug dose', level: 2 }).waitFor()
  await page.getByRole('alert').filter({ hasText: 'nhs-test.org looks like' }).waitFor()
  await page.screenshot({ path: join(SHOTS, 'outside-sender.png') })
  await axe('a look-alike sender\'s message with its warning')
})

await step('conversations: a toggle that is remembered, counts, the newest message open and earlier ones expandable', async () => {
  const first = await apiAs('amira.khan@nhs.test', 'POST', '/api/v1/send', { to: [ben], subject: 'Theatre list for Monday', text: 'Three cases on Monday morning.' })
  const second = await apiAs('chloe.davies@nhs.test', 'POST', '/api/v1/send', { to: [ben], subject: 'Re: Theatre list for Monday', text: 'Anaesthetist confirmed for all three.',
    inReplyTo: first.messageId, references: [first.messageId] })
  await apiAs('amira.khan@nhs.test', 'POST', '/api/v1/send', { to: [ben], subject: 'Re: Theatre list for Monday', text: 'Case two moved to 11:00.',
    inReplyTo: second.messageId, references: [first.messageId, second.messageId] })
  await page.getByRole('button', { name: /^Inbox/ }).click()
  const toggle = page.getByRole('button', { name: 'Conversations' })
  await toggle.click()
  assert(await toggle.getAttribute('aria-pressed') === 'true', 'toggle not pressed')
  const row = page.getByRole('option').filter({ hasText: 'Re: Theatre list for Monday', has: page.locator('.thread-count') })
  await row.waitFor()
  assert(/3 messages/.test(await row.locator('.thread-count').textContent()), 'conversation count')
  assert(await page.getByRole('option').filter({ hasText: 'Theatre list for Monday' }).count() === 1, 'the conversation is one row')
  await row.click()
  await page.getByRole('heading', { name: 'Re: Theatre list for Monday', level: 2 }).waitFor()
  await page.frameLocator('iframe.body').first().getByText('Case two moved to 11:00').waitFor()
  const earlier = page.getByRole('region', { name: 'Earlier in this conversation' })
  await earlier.getByRole('button').nth(1).waitFor()
  assert(await earlier.getByRole('button').count() === 2, 'two earlier messages')
  await earlier.getByRole('button').first().click()
  assert(await earlier.getByRole('button').first().getAttribute('aria-expanded') === 'true', 'expanded')
  await page.frameLocator('.earlier iframe.body').first().getByText('Anaesthetist confirmed').waitFor()
  const conv = await apiAs(ben, 'GET', `/api/v1/folders/${(await apiAs(ben, 'GET', '/api/v1/folders')).folders.find((f) => f.role === 'inbox').id}/conversations?limit=5`)
  const theatre = conv.messages.find((m) => m.subject === 'Re: Theatre list for Monday')
  assert(theatre.count === 3 && theatre.unread === 0, 'opening the conversation read all of it: ' + JSON.stringify(theatre))
  await axe('conversation')
  await page.screenshot({ path: join(SHOTS, 'conversation.png') })
  await page.reload()
  await page.getByRole('option').filter({ hasText: 'Re: Theatre list for Monday' }).waitFor()
  assert(await page.getByRole('button', { name: 'Conversations' }).getAttribute('aria-pressed') === 'true', 'the toggle was not remembered')
  await page.getByRole('button', { name: 'Conversations' }).click()
  await page.getByRole('option').filter({ hasText: 'Theatre list for Monday' }).nth(2).waitFor()
})

await step('multi-select: x, shift-click ranges and ctrl-click; bulk unread, archive with undo, move, delete with undo', async () => {
  const count = async (role) => (await apiAs(ben, 'GET', '/api/v1/folders')).folders.find((f) => f.role === role).total
  await page.getByRole('button', { name: /^Inbox/ }).click()
  const list = page.getByRole('listbox', { name: 'Inbox' })
  const rows = list.getByRole('option')
  await rows.nth(3).waitFor()
  const inbox0 = await count('inbox'), archive0 = await count('archive')
  await rows.nth(0).click()
  await page.locator('.list').focus()
  await page.keyboard.press('x')
  const bar = page.getByRole('toolbar', { name: 'Selected messages' })
  await bar.getByText('1 selected').waitFor()
  await rows.nth(2).locator('.check').click({ modifiers: ['Shift'] })
  await bar.getByText('3 selected').waitFor()
  assert(await list.getByRole('option', { selected: true }).count() === 3, 'three options selected')
  assert(await list.getAttribute('aria-multiselectable') === 'true', 'aria-multiselectable')
  await axe('multi-select')
  await bar.getByRole('button', { name: 'Mark unread' }).click()
  await page.getByRole('status').filter({ hasText: 'Marked as unread' }).waitFor()
  await page.waitForFunction(() => document.querySelectorAll('.row.checked.unread').length === 3)
  await bar.getByRole('button', { name: 'Archive' }).click()
  await page.getByRole('status').filter({ hasText: '3 messages Archived' }).waitFor()
  assert(await count('archive') === archive0 + 3 && await count('inbox') === inbox0 - 3, 'archived three')
  await page.getByRole('button', { name: 'Undo' }).click()
  await page.getByRole('status').filter({ hasText: 'Undone' }).waitFor()
  assert(await count('archive') === archive0 && await count('inbox') === inbox0, 'undo of a bulk archive')
  await rows.nth(1).click({ modifiers: ['Control'] })
  await rows.nth(3).click({ modifiers: ['Control'] })
  await bar.getByText('2 selected').waitFor()
  await bar.getByLabel('Move to folder').selectOption({ label: 'Junk' })
  await bar.getByRole('button', { name: 'Move', exact: true }).click()
  await page.getByRole('status').filter({ hasText: '2 messages moved to Junk' }).waitFor()
  assert(await count('junk') === 2, 'moved two to Junk')
  await page.getByRole('button', { name: 'Undo' }).click()
  await page.getByRole('status').filter({ hasText: 'Undone' }).waitFor()
  await rows.nth(0).click({ modifiers: ['Control'] })
  await rows.nth(1).click({ modifiers: ['Control'] })
  await bar.getByRole('button', { name: 'Delete' }).click()
  await page.getByRole('status').filter({ hasText: '2 messages Moved to Trash' }).waitFor()
  assert(await count('inbox') === inbox0 - 2, 'deleted two')
  await page.getByRole('button', { name: 'Undo' }).click()
  await page.getByRole('status').filter({ hasText: 'Undone' }).waitFor()
  assert(await count('inbox') === inbox0 && await count('junk') === 0, 'undo of a bulk delete')
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
