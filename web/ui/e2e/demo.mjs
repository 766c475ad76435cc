// Starting a real `wardmail demo` on free ports and Debian's Chromium, for
// the browser tests (harness.mjs) and the list benchmark (bench-list.mjs).
import { spawn, execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const here = dirname(fileURLToPath(import.meta.url))
export const BIN = process.env.WARDMAIL_BIN || join(here, '../../../bin/wardmail')
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium'

// storeArgs names a data folder's store for `wardmail demo` and the admin
// commands: the folder alone, or, when WARDMAIL_TEST_POSTGRES names a
// PostgreSQL server (the switch the Go tests take; `make e2e-postgres`), the
// folder for the bodies and a database of the folder's own, created on first
// use (the throwaway cluster goes with everything in it).
const databases = new Map()
export function storeArgs(data) {
  const server = process.env.WARDMAIL_TEST_POSTGRES
  if (!server) return ['--data', data]
  let url = databases.get(data)
  if (!url) {
    const name = 'wardmail_e2e_' + randomBytes(6).toString('hex')
    execFileSync('psql', [server, '-v', 'ON_ERROR_STOP=1', '-q', '-c', `CREATE DATABASE ${name}`], { stdio: 'pipe' })
    url = server.replace(/^(postgres(?:ql)?:\/\/[^/?]*)(\/[^?]*)?/, `$1/${name}`)
    databases.set(data, url)
  }
  return ['--data', data, '--database', url]
}

// startDemo runs `wardmail demo --data data` on loopback ports; base
// resolves to its https:// address once it listens; log holds its stderr.
export function startDemo(data, args = []) {
  const proc = spawn(BIN, ['demo', ...storeArgs(data), ...args, '--smtp', '127.0.0.1:0', '--submission', '127.0.0.1:0', '--imap', '127.0.0.1:0',
    '--http', '127.0.0.1:0', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] })
  const out = { proc, log: '', base: null, kill: (sig) => proc.kill(sig), exited: () => new Promise((r) => (proc.exitCode !== null ? r() : proc.on('exit', r))) }
  process.on('exit', () => { if (proc.exitCode === null) proc.kill('SIGKILL') })
  out.base = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('wardmail demo did not start in 60 s:\n' + out.log)), 60000)
    proc.stderr.on('data', (b) => {
      out.log += b
      const m = /http (127\.0\.0\.1:\d+)/.exec(out.log)
      if (m) { clearTimeout(timer); resolve('https://' + m[1]) }
    })
    proc.on('exit', (code) => reject(new Error(`wardmail demo exited (${code}):\n` + out.log)))
  })
  return out
}

export async function launch() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
      // The demo's certificate is self-signed: without this Chromium registers
      // no service worker from it (ignoreHTTPSErrors does not cover workers).
      '--ignore-certificate-errors'],
  })
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1400, height: 860 }, locale: 'en-GB', timezoneId: 'Europe/London' })
  return { browser, context, page: await context.newPage() }
}
