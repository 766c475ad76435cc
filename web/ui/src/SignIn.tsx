import { useState } from 'preact/hooks'
import { api, ApiError, SessionInfo } from './api'

export function SignIn({ onSignedIn }: { onSignedIn: (s: SessionInfo) => void }) {
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [totp, setTotp] = useState('')
  const [needTotp, setNeedTotp] = useState(false)
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)

  async function submit(e: Event) {
    e.preventDefault()
    setBusy(true)
    setError('')
    try {
      onSignedIn(await api.signIn(email, password, needTotp ? totp : undefined))
    } catch (err) {
      if (err instanceof ApiError && err.field === 'totp') setNeedTotp(true)
      setError(err instanceof Error ? err.message : String(err))
    } finally {
      setBusy(false)
    }
  }

  return (
    <main class="signin">
      <form onSubmit={submit} aria-describedby={error ? 'signin-error' : undefined}>
        <h1><span class="brand">Wardmail</span> Sign in</h1>
        <p class="hint">Use your NHS email address and password.</p>
        <label for="email">Email address</label>
        <input id="email" name="email" type="email" autocomplete="username" required value={email}
          onInput={(e) => setEmail((e.target as HTMLInputElement).value)} />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required value={password}
          onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        {needTotp && (
          <>
            <label for="totp">Security code</label>
            <input id="totp" name="totp" inputMode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" required value={totp}
              onInput={(e) => setTotp((e.target as HTMLInputElement).value)} />
          </>
        )}
        {error && <p id="signin-error" class="error" role="alert">{error}</p>}
        <button type="submit" class="primary" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
        <p class="hint small">On a shared ward computer, sign out when you finish. You are signed out after 30 minutes without activity.</p>
      </form>
    </main>
  )
}
