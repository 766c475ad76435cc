import { useState } from 'preact/hooks'
import { admin, errorText, formatDate } from '../api'
import { Scope, useLoad } from './Admin'
import { sourceText } from './PersonDetail'

export function Lockouts({ scope }: { scope: Scope }) {
  const { data, error, reload, setError } = useLoad(() => admin.lockouts())
  const [picked, setPicked] = useState<string[]>([])
  const [since, setSince] = useState('2h')
  const [msg, setMsg] = useState('')

  async function unlock(body: { accounts?: string[]; all_locked_since?: string }) {
    setError(''); setMsg('')
    try {
      const r = await admin.unlock(body)
      setMsg(r.unlocked.length ? `Unlocked ${r.unlocked.join(', ')}.` : 'Nobody was locked.')
      setPicked([]); reload()
    } catch (e) { setError(errorText(e)) }
  }

  async function incident(on: boolean) {
    try { await admin.incident(on); reload() } catch (e) { setError(errorText(e)) }
  }

  const accounts = [...new Set((data?.locks ?? []).map((l) => l.account))]
  return (
    <section aria-labelledby="locks-title">
      <h3 id="locks-title">Lockouts</h3>
      <p>Sign-in pauses after repeated wrong passwords from one network or device; each pause ends by itself. Unlock people who are sure it was them.</p>
      {data?.incident && <p class="notice warn" role="status">Incident mode is on: wrong passwords are not being counted.</p>}
      {scope.national && (
        <p>{data?.incident
          ? <button onClick={() => incident(false)}>Turn incident mode off</button>
          : <button onClick={() => incident(true)}>Turn incident mode on (stop counting failures)</button>}</p>
      )}
      {msg && <p class="notice" role="status">{msg}</p>}
      {error && <p class="error" role="alert">{error}</p>}
      <table class="grid">
        <caption class="sr-only">Locks running now</caption>
        <thead><tr><th scope="col"><span class="sr-only">Choose</span></th><th scope="col">Account</th><th scope="col">From</th><th scope="col">Locked at</th><th scope="col">Until</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>
          {data && data.locks.length === 0 && <tr><td colSpan={6}>Nobody is locked out.</td></tr>}
          {data?.locks.map((l) => (
            <tr key={l.account + l.source}>
              <td><input type="checkbox" aria-label={`Choose ${l.account}`} checked={picked.includes(l.account)}
                onChange={(e) => setPicked((e.target as HTMLInputElement).checked ? [...picked, l.account] : picked.filter((a) => a !== l.account))} /></td>
              <td>{l.name ? `${l.name} (${l.account})` : l.account}</td>
              <td>{sourceText(l)}</td>
              <td>{formatDate(l.locked_at, true)}</td><td>{formatDate(l.locked_until, true)}</td>
              <td><button onClick={() => unlock({ accounts: [l.account] })} aria-label={`Unlock ${l.account}`}>Unlock</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="inline-form">
        <button disabled={!picked.length} onClick={() => unlock({ accounts: picked })}>Unlock chosen ({picked.length})</button>
        <button disabled={!accounts.length} onClick={() => unlock({ accounts })}>Unlock everyone shown</button>
        <label for="since">Everyone locked in the last</label>
        <input id="since" type="text" size={6} value={since} onInput={(e) => setSince((e.target as HTMLInputElement).value)} />
        <button onClick={() => unlock({ all_locked_since: since })}>Unlock</button>
        <button onClick={reload}>Refresh</button>
      </div>
    </section>
  )
}
