// Browser tests: Debian's Chromium driven by playwright-core against a real
// `wardmail demo` (HTTPS, SQLite, the real pipeline), with axe-core checking
// WCAG 2.2 AA on each main view, at desktop, tablet and phone sizes. Screenshots of the main views go to
// docs/screenshots/. Run by `make e2e` (part of `make test`).
//
//   WARDMAIL_BIN  the binary (default ../../bin/wardmail)
//   CHROMIUM      the browser (default /usr/bin/chromium)
//   SCREENSHOTS   where to save screenshots (default ../../docs/screenshots)
//
// harness.mjs starts the server and the browser; the step files run in order
// on one page (the staff's steps end signed out; the console's start there).
import { rmSync } from 'node:fs'
import { step, assert, results, failureCount, browser, server, data, consoleErrors, failedCalls, expectedFailures } from './harness.mjs'

await import('./staff.mjs')
await import('./admin.mjs')
await import('./phone.mjs')


await step('no console errors or CSP violations', async () => {
  const unexpected = failedCalls.filter((c) => !expectedFailures.some((re) => re.test(c)))
  assert(unexpected.length === 0, 'failed calls:\n  ' + unexpected.join('\n  '))
  const csp = consoleErrors.filter((e) => /Content.Security.Policy|Refused to/i.test(e))
  assert(csp.length === 0, 'CSP violations:\n  ' + csp.join('\n  '))
})

await browser.close()
server.kill('SIGTERM')
await server.exited()
rmSync(data, { recursive: true, force: true })
console.log(results.join('\n'))
console.log(failureCount() ? `\n${failureCount()} browser test(s) failed` : '\nall browser tests passed')
process.exit(failureCount() ? 1 : 0)
