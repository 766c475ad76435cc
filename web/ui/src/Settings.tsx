import { useEffect, useState } from 'preact/hooks'
import { api, AppPassword, TotpStatus, errorText, formatDate } from './api'
import { TotpSetup } from './TotpSetup'
import { TotpMove } from './TotpMove'

type Sessions = Awaited<ReturnType<typeof api.sessions>>['sessions']

export function Settings({ onSignedOut }: { onSignedOut: () => void }) {
  const [sessions, setSessions] = useState<Sessions>([])
  const [error, setError] = useState('')

  useEffect(() => {
    api.sessions().then((r) => setSessions(r.sessions)).catch((e) => setError(e.message))
  }, [])

  async function everywhere() {
    if (!confirm('Sign out of Wardmail on every computer and device, including this one?')) return
    try { await api.signOutEverywhere(); onSignedOut() } catch (e) { setError((e as Error).message) }
  }

  return (
    <section class="settings" aria-labelledby="settings-title">
      <h2 id="settings-title">Settings</h2>
      {error && <p class="error" role="alert">{error}</p>}
      <h3>Where you are signed in</h3>
      <table>
        <caption class="sr-only">Your web sessions</caption>
        <thead><tr><th scope="col">Signed in</th><th scope="col">Last active</th><th scope="col">From</th><th scope="col">Browser</th></tr></thead>
        <tbody>
          {sessions.map((s, i) => (
            <tr key={i}><td>{formatDate(s.created, true)}{s.current && ' (this one)'}</td><td>{formatDate(s.lastSeen, true)}</td><td>{s.remote}</td><td>{s.agent.slice(0, 60)}</td></tr>
          ))}
        </tbody>
      </table>
      <button class="danger" onClick={everywhere}>Sign out everywhere</button>
      <AppPasswords />
      <TwoStep />
    </section>
  )
}

function AppPasswords() {
  const [list, setList] = useState<AppPassword[]>([])
  const [name, setName] = useState('')
  const [imap, setImap] = useState(true)
  const [smtp, setSmtp] = useState(true)
  const [created, setCreated] = useState<{ name: string; password: string } | null>(null)
  const [error, setError] = useState('')

  const load = () => api.appPasswords().then((r) => setList(r.app_passwords)).catch((e) => setError(errorText(e)))
  useEffect(() => { load() }, [])

  async function create(e: Event) {
    e.preventDefault()
    setError('')
    const scopes = [imap && 'imap', smtp && 'smtp'].filter(Boolean) as string[]
    if (!scopes.length) { setError('Choose reading mail, sending mail, or both.'); return }
    try {
      const r = await api.createAppPassword(name, scopes)
      setCreated({ name: r.app_password.name, password: r.password })
      setName('')
      load()
    } catch (e) { setError(errorText(e)) }
  }

  async function revoke(ap: AppPassword) {
    if (!confirm(`Revoke the app password "${ap.name}"? The device using it will stop getting mail until it has a new one.`)) return
    try { await api.revokeAppPassword(ap.id); if (created?.name === ap.name) setCreated(null); load() } catch (e) { setError(errorText(e)) }
  }

  return (
    <section aria-labelledby="apppw-title">
      <h3 id="apppw-title">App passwords</h3>
      <p>Mail apps (Outlook, the mail app on your phone) sign in with an app password of their own, not your password. Make one per device; revoke it if the device is lost.</p>
      {created && (
        <div class="notice" role="status">
          <p>The app password for <strong>{created.name}</strong> is <code class="secret" id="new-app-password">{created.password}</code></p>
          <p>Type it into the app now. It is shown only this once.</p>
          <button onClick={() => setCreated(null)}>Done</button>
        </div>
      )}
      {error && <p class="error" role="alert">{error}</p>}
      <table>
        <caption class="sr-only">Your app passwords</caption>
        <thead><tr><th scope="col">Device</th><th scope="col">For</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>
          {list.length === 0 && <tr><td colSpan={5}>No app passwords yet.</td></tr>}
          {list.map((ap) => (
            <tr key={ap.id}>
              <td>{ap.name}</td>
              <td>{ap.scopes.map((s) => s === 'imap' ? 'reading' : 'sending').join(' and ')}</td>
              <td>{formatDate(ap.created_at, true)}</td>
              <td>{ap.last_used_at ? `${formatDate(ap.last_used_at, true)} from ${ap.last_used_from || 'unknown'}` : 'never'}</td>
              <td><button onClick={() => revoke(ap)} aria-label={`Revoke ${ap.name}`}>Revoke</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      <form class="inline-form" onSubmit={create}>
        <label for="apppw-name">Device name</label>
        <input id="apppw-name" type="text" required maxLength={100} placeholder="e.g. work phone" value={name}
          onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        <label><input type="checkbox" checked={imap} onChange={(e) => setImap((e.target as HTMLInputElement).checked)} /> reading mail (IMAP)</label>
        <label><input type="checkbox" checked={smtp} onChange={(e) => setSmtp((e.target as HTMLInputElement).checked)} /> sending mail (SMTP)</label>
        <button type="submit" class="primary">Create app password</button>
      </form>
    </section>
  )
}

function TwoStep() {
  const [status, setStatus] = useState<TotpStatus | null>(null)
  const [setup, setSetup] = useState(false)
  const [moving, setMoving] = useState(false)
  const [code, setCode] = useState('')
  const [codes, setCodes] = useState<string[] | null>(null)
  const [error, setError] = useState('')

  const load = () => api.totp().then(setStatus).catch((e) => setError(errorText(e)))
  useEffect(() => { load() }, [])

  async function newCodes(e: Event) {
    e.preventDefault()
    setError('')
    try { setCodes((await api.recoveryCodes(code)).recovery_codes); setCode(''); load() } catch (e) { setError(errorText(e)) }
  }

  async function turnOff() {
    setError('')
    try { await api.totpDisable(code); setCode(''); load() } catch (e) { setError(errorText(e)) }
  }

  return (
    <section aria-labelledby="totp-title">
      <h3 id="totp-title">Two-step sign-in</h3>
      {error && <p class="error" role="alert">{error}</p>}
      {!status ? <p>Loading…</p> : !status.enabled ? (
        setup ? <TotpSetup onDone={() => { setSetup(false); load() }} /> : (
          <>
            <p>Off. With it on, signing in to webmail needs a code from an authenticator app on your phone as well as your password.</p>
            <button class="primary" onClick={() => setSetup(true)}>Set up two-step sign-in</button>
          </>
        )
      ) : moving ? (
        <TotpMove onDone={() => { setMoving(false); load() }} />
      ) : (
        <>
          <p>On. {status.recovery_codes_left} unused recovery codes.{status.required && ' Administrators must keep it on.'}</p>
          {codes && (
            <div class="notice" role="status">
              <p>Your new recovery codes (the old ones no longer work). They are shown only now:</p>
              <ul class="codes" aria-label="Recovery codes">{codes.map((c) => <li key={c}><code>{c}</code></li>)}</ul>
            </div>
          )}
          <form class="inline-form" onSubmit={newCodes}>
            <label for="totp-current">Code from your app</label>
            <input id="totp-current" inputMode="numeric" autocomplete="one-time-code" required value={code}
              onInput={(e) => setCode((e.target as HTMLInputElement).value)} />
            <button type="submit">New recovery codes</button>
            {!status.required && <button type="button" onClick={turnOff}>Turn off</button>}
          </form>
          <p>A new phone? Move two-step sign-in to it here, with a code from your current app or a recovery code.</p>
          <button type="button" onClick={() => { setError(''); setCodes(null); setMoving(true) }}>Move to a new phone</button>
        </>
      )}
    </section>
  )
}
