import { useEffect, useState } from 'preact/hooks'
import { admin, errorText, formatDate, Lock } from '../api'
import { console_, PersonDetail } from './api'
import { disabledText } from './People'

// sourceText says where a lock's failures came from, in words.
export const sourceText = (l: Lock) =>
  (l.source === '*' ? 'every unfamiliar network' : l.source.startsWith('d:') ? 'a known device' : l.source) + (l.familiar ? ' (familiar)' : '')

// One person: who they are, the lists they are on, their sign-in locks with
// where the failures came from, and the actions on them (unlock, reset the
// password, disable or enable), each one admin API call.
export function PersonDetailView({ email, onClose }: { email: string; onClose: (msg?: string) => void }) {
  const [p, setP] = useState<PersonDetail | null>(null)
  const [error, setError] = useState('')
  const [msg, setMsg] = useState('')
  const [pw, setPw] = useState('')
  const [pwError, setPwError] = useState('')
  const load = () => console_.person(email).then(setP).catch((e) => setError(errorText(e)))
  useEffect(() => { load() }, [email])

  async function run(what: () => Promise<string>) {
    setError(''); setMsg('')
    try { setMsg(await what()); await load() } catch (e) { setError(errorText(e)) }
  }
  async function resetPassword(e: Event) {
    e.preventDefault()
    setPwError(''); setMsg('')
    try {
      await admin.resetPassword(email, pw)
      setPw('')
      setMsg(`Password reset for ${email}; their web sessions have ended. Tell them the new one through a safe channel.`)
    } catch (e) { setPwError(errorText(e)) }
  }

  const back = <button class="link" onClick={() => onClose()}>Back to people</button>
  if (!p) return <section aria-label="Person">{back}{error && <p class="error" role="alert">{error}</p>}</section>
  // A lock that has run out is history, not something to unlock.
  const locked = p.locks.filter((l) => new Date(l.locked_until).getTime() > Date.now())
  return (
    <section aria-labelledby="pd-title" class="person-detail">
      {back}
      <h3 id="pd-title">{p.name} <span class="meta">{p.email}</span></h3>
      {msg && <p class="notice" role="status">{msg}</p>}
      {error && <p class="error" role="alert">{error}</p>}
      <dl class="facts">
        <dt>Organisation</dt><dd>{p.org}</dd>
        <dt>Role</dt><dd>{p.role || '–'}</dd>
        <dt>Site</dt><dd>{p.site || '–'}</dd>
        <dt>State</dt><dd>{p.disabled ? 'disabled: cannot sign in' : p.can_sign_in ? 'active' : 'no password set'}</dd>
        <dt>Last sign-in</dt><dd>{p.last_sign_in ? `${formatDate(p.last_sign_in, true)} from ${p.last_sign_in_from}` : 'never (or not in the last 30 days)'}</dd>
      </dl>

      <section aria-labelledby="pd-locks" class="panel">
        <h4 id="pd-locks">Sign-in locks</h4>
        {locked.length === 0 ? <p>{p.email} is not locked out.</p> : (
          <>
            <table class="grid">
              <caption class="sr-only">Locks of {p.email}</caption>
              <thead><tr><th scope="col">From</th><th scope="col">Wrong passwords</th><th scope="col">Locked at</th><th scope="col">Until</th></tr></thead>
              <tbody>{locked.map((l) => (
                <tr key={l.source}><td>{sourceText(l)}</td><td>{l.failures}</td><td>{formatDate(l.locked_at, true)}</td><td>{formatDate(l.locked_until, true)}</td></tr>
              ))}</tbody>
            </table>
            <button class="primary" onClick={() => run(async () => {
              const r = await admin.unlock({ accounts: [p.email] })
              return `Unlocked ${p.email} (${r.locks_ended} lock${r.locks_ended === 1 ? '' : 's'} ended).`
            })}>Unlock {p.email}</button>
          </>
        )}
      </section>

      <section aria-labelledby="pd-lists" class="panel">
        <h4 id="pd-lists">Lists</h4>
        {p.lists.length === 0 ? <p>{p.email} is on no list.</p> : (
          <ul>{p.lists.map((l) => <li key={l.address}>{l.name} ({l.address}){l.member && l.owner ? ': member and owner' : l.owner ? ': owner' : ''}</li>)}</ul>
        )}
      </section>

      <form class="card-form" onSubmit={resetPassword} aria-labelledby="pd-pw">
        <h4 id="pd-pw">Reset the password</h4>
        <label for="pd-pw-in">New password</label>
        <input id="pd-pw-in" type="password" autocomplete="new-password" required value={pw} onInput={(e) => setPw((e.target as HTMLInputElement).value)} aria-describedby="pd-pw-hint" />
        <p id="pd-pw-hint" class="meta">At least 10 characters, not a common one. Their web sessions end at once.</p>
        {pwError && <p class="error" role="alert">{pwError}</p>}
        <button type="submit">Reset password</button>
      </form>

      <p>{p.disabled
        ? <button onClick={() => run(async () => { await admin.setDisabled(p.email, false); return disabledText(p.email, false) })}>Enable {p.email}</button>
        : <button class="danger" onClick={() => run(async () => { await admin.setDisabled(p.email, true); return disabledText(p.email, true) })}>Disable {p.email}</button>}</p>
    </section>
  )
}
