import { useEffect, useState } from 'preact/hooks'
import { api, setCsrf, SessionInfo, ApiError } from './api'
import { SignIn } from './SignIn'
import { Mail } from './Mail'
import { Enrol } from './TotpSetup'

export function App() {
  const [session, setSession] = useState<SessionInfo | null>(null)
  const [checking, setChecking] = useState(true)

  useEffect(() => {
    api.session()
      .then((s) => { setCsrf(s.csrf); setSession(s) })
      .catch((e) => { if (!(e instanceof ApiError) || e.status !== 401) console.warn(e) })
      .finally(() => setChecking(false))
  }, [])

  // A 401 anywhere means the session ended (idle, absolute limit, signed out elsewhere).
  useEffect(() => {
    const onEnded = () => setSession(null)
    window.addEventListener('wardmail:signed-out', onEnded)
    return () => window.removeEventListener('wardmail:signed-out', onEnded)
  }, [])

  if (checking) return <p class="loading" role="status">Loading Wardmail…</p>
  if (!session) return <SignIn onSignedIn={(s) => { setCsrf(s.csrf); setSession(s) }} />
  if (session.totpSetupNeeded) {
    return <Enrol email={session.person.email} onSignOut={() => { setCsrf(''); setSession(null) }}
      onDone={() => api.session().then((s) => { setCsrf(s.csrf); setSession(s) }).catch(() => setSession(null))} />
  }
  return <Mail session={session} onSignOut={() => { setCsrf(''); setSession(null) }} />
}
