import { QrCode } from './QrCode'
import { useState } from 'preact/hooks'
import { api, errorText } from './api'

// Setting up two-step sign-in: a new key for the authenticator app, a code
// from the app to prove it has it, then ten recovery codes shown once.
export function TotpSetup({ onDone }: { onDone: () => void }) {
  const [key, setKey] = useState<{ secret: string; uri: string } | null>(null)
  const [code, setCode] = useState('')
  const [codes, setCodes] = useState<string[] | null>(null)
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)

  async function start() {
    setError(''); setBusy(true)
    try { setKey(await api.totpEnrol()) } catch (e) { setError(errorText(e)) } finally { setBusy(false) }
  }

  async function confirm(e: Event) {
    e.preventDefault()
    setError(''); setBusy(true)
    try { setCodes((await api.totpConfirm(code)).recovery_codes) } catch (e) { setError(errorText(e)) } finally { setBusy(false) }
  }

  if (codes) {
    return (
      <div class="totp-setup">
        <p class="notice" role="status">Two-step sign-in is on. From now on you sign in with your password and a code from your app.</p>
        <h4>Your recovery codes</h4>
        <p>Each code signs you in once if you lose your phone. Write them down or print them and keep them somewhere safe: they are shown only now.</p>
        <ul class="codes" aria-label="Recovery codes">{codes.map((c) => <li key={c}><code>{c}</code></li>)}</ul>
        <button class="primary" onClick={onDone}>I have kept my recovery codes</button>
      </div>
    )
  }
  if (!key) {
    return (
      <div class="totp-setup">
        {error && <p class="error" role="alert">{error}</p>}
        <button class="primary" onClick={start} disabled={busy}>Set up an authenticator app</button>
      </div>
    )
  }
  return (
    <form class="totp-setup" onSubmit={confirm}>
      <ol>
        <li>Open your authenticator app (Microsoft Authenticator, Google Authenticator or similar) and add an account.</li>
        <li>Scan this code with the app, or enter the key beside it, for the account <strong>Wardmail</strong> (time-based, 6 digits).
          <TotpKey secret={key.secret} uri={key.uri} />
        </li>
        <li>Type the six-digit code the app shows.</li>
      </ol>
      <label for="totp-code">Code from the app</label>
      <input id="totp-code" inputMode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" required value={code}
        aria-describedby={error ? 'totp-error' : undefined} onInput={(e) => setCode((e.target as HTMLInputElement).value)} />
      {error && <p id="totp-error" class="error" role="alert">{error}</p>}
      <button type="submit" class="primary" disabled={busy}>Turn on two-step sign-in</button>
    </form>
  )
}

// TotpKey shows a new key for an authenticator app: a QR code drawn in the
// page, the key as text in groups of four, and an otpauth: link for an app
// on the same device.
export function TotpKey({ secret, uri }: { secret: string; uri: string }) {
  const grouped = secret.match(/.{1,4}/g)?.join(' ') ?? secret
  return (
    <div class="totp-key">
      <QrCode text={uri} label="QR code of the key, for an authenticator app to scan" />
      <p>Key: <code id="totp-secret" class="secret">{grouped}</code><br /><a href={uri}>Open in an authenticator app on this device</a></p>
    </div>
  )
}

// Enrol is all an administrator without two-step sign-in may reach.
export function Enrol({ email, onDone, onSignOut }: { email: string; onDone: () => void; onSignOut: () => void }) {
  async function signOut() {
    try { await api.signOut() } catch { /* signed out anyway */ }
    onSignOut()
  }
  return (
    <main class="signin">
      <section class="card" aria-labelledby="enrol-title">
        <h1 id="enrol-title"><span class="brand">Wardmail</span> Set up two-step sign-in</h1>
        <p>You are signed in as {email}. Administrators must sign in with a code from an authenticator app as well as a password; nothing else is available until it is set up.</p>
        <TotpSetup onDone={onDone} />
        <button class="link" onClick={signOut}>Sign out</button>
      </section>
    </main>
  )
}
