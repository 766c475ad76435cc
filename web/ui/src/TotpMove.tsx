import { useState } from 'preact/hooks'
import { api, errorText } from './api'
import { TotpKey } from './TotpSetup'

// Moving two-step sign-in to a new phone: a code from the current app or a
// recovery code proves it is the account's owner (a borrowed session or a
// new password alone cannot move it), then the new phone's app takes a new
// key and proves it with a code. Until then the current app stays in force,
// so giving up half-way changes nothing. Confirming gives ten new recovery
// codes (the old ones stop working).
export function TotpMove({ onDone }: { onDone: () => void }) {
  const [current, setCurrent] = useState('')
  const [key, setKey] = useState<{ secret: string; uri: string } | null>(null)
  const [code, setCode] = useState('')
  const [codes, setCodes] = useState<string[] | null>(null)
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)

  async function start(e: Event) {
    e.preventDefault()
    setError(''); setBusy(true)
    try { setKey(await api.totpEnrol(current.trim())); setCurrent('') } catch (e) { setError(errorText(e)) } finally { setBusy(false) }
  }

  async function confirm(e: Event) {
    e.preventDefault()
    setError(''); setBusy(true)
    try { setCodes((await api.totpConfirm(code)).recovery_codes) } catch (e) { setError(errorText(e)) } finally { setBusy(false) }
  }

  const errorLine = error && <p id="totp-move-error" class="error" role="alert">{error}</p>
  const described = error ? 'totp-move-error' : undefined
  if (codes) {
    return (
      <div class="totp-setup">
        <p class="notice" role="status">Two-step sign-in now uses the app on your new phone. Codes from the old phone no longer work.</p>
        <h4>Your new recovery codes</h4>
        <p>The old recovery codes no longer work. Each of these signs you in once if you lose your phone. Write them down or print them and keep them somewhere safe: they are shown only now.</p>
        <ul class="codes" aria-label="Recovery codes">{codes.map((c) => <li key={c}><code>{c}</code></li>)}</ul>
        <button class="primary" onClick={onDone}>I have kept my recovery codes</button>
      </div>
    )
  }
  if (!key) {
    return (
      <form class="totp-setup" aria-labelledby="totp-move-title" onSubmit={start}>
        <h4 id="totp-move-title">Move to a new phone</h4>
        <p>First show it is you: enter a code from the authenticator app you use now, or one of your recovery codes if you no longer have that phone.</p>
        <label for="totp-move-current">Code from your current app, or a recovery code</label>
        <input id="totp-move-current" autocomplete="one-time-code" required value={current} aria-describedby={described}
          onInput={(e) => setCurrent((e.target as HTMLInputElement).value)} />
        {errorLine}
        <div class="inline-form">
          <button type="submit" class="primary" disabled={busy}>Continue</button>
          <button type="button" onClick={onDone}>Cancel</button>
        </div>
      </form>
    )
  }
  return (
    <form class="totp-setup" aria-labelledby="totp-move-title" onSubmit={confirm}>
      <h4 id="totp-move-title">Move to a new phone</h4>
      <p>Your current app keeps working until you finish this.</p>
      <ol>
        <li>On the new phone, open an authenticator app (Microsoft Authenticator, Google Authenticator or similar) and add an account.</li>
        <li>Scan this code with it, or enter the key beside it, for the account <strong>Wardmail</strong> (time-based, 6 digits).
          <TotpKey secret={key.secret} uri={key.uri} />
        </li>
        <li>Type the six-digit code the new phone shows.</li>
      </ol>
      <label for="totp-move-code">Code from the new phone</label>
      <input id="totp-move-code" inputMode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" required value={code}
        aria-describedby={described} onInput={(e) => setCode((e.target as HTMLInputElement).value)} />
      {errorLine}
      <div class="inline-form">
        <button type="submit" class="primary" disabled={busy}>Use the new phone</button>
        <button type="button" onClick={onDone}>Cancel</button>
      </div>
    </form>
  )
}
