import { useEffect, useState } from 'preact/hooks'
import { api, ApiError, formatDate } from './api'

type Sessions = Awaited<ReturnType<typeof api.sessions>>['sessions']

export function Settings({ onSignedOut }: { onSignedOut: () => void }) {
  const [sessions, setSessions] = useState<Sessions>([])
  const [appPw, setAppPw] = useState<'unknown' | 'unavailable' | 'available'>('unknown')
  const [error, setError] = useState('')

  useEffect(() => {
    api.sessions().then((r) => setSessions(r.sessions)).catch((e) => setError(e.message))
    api.appPasswords().then(() => setAppPw('available'))
      .catch((e) => setAppPw(e instanceof ApiError && e.status === 501 ? 'unavailable' : 'unknown'))
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
      <h3>App passwords</h3>
      <p>{appPw === 'unavailable' ? 'App passwords for mail apps (Outlook, phone mail) are not available on this server yet.' : 'Loading…'}</p>
      <h3>Two-step sign-in</h3>
      <p>Authenticator-app codes (TOTP) are not available on this server yet.</p>
    </section>
  )
}
