import { useState } from 'preact/hooks'
import { admin, errorText, formatDate } from '../api'
import { useLoad } from './Admin'

export function Moderation() {
  const { data, error, reload, setError } = useLoad(() => admin.held())
  const [msg, setMsg] = useState('')
  const held = data?.held.filter((h) => h.state === 'held') ?? []

  async function decide(id: number, approve: boolean, subject: string) {
    let reason = ''
    if (!approve) {
      const r = prompt(`Why is "${subject}" rejected? The sender is told.`)
      if (r === null) return
      reason = r
    }
    try { await admin.moderate(id, approve, reason); setMsg(`${approve ? 'Approved' : 'Rejected'}: ${subject}.`); reload() } catch (e) { setError(errorText(e)) }
  }

  return (
    <section aria-labelledby="mod-title">
      <h3 id="mod-title">Moderation queue</h3>
      <p>Posts to moderated lists, and list posts slowed by the storm brake, wait here. The sender is told either way.</p>
      {msg && <p class="notice" role="status">{msg}</p>}
      {error && <p class="error" role="alert">{error}</p>}
      <table class="grid">
        <caption class="sr-only">Held posts</caption>
        <thead><tr><th scope="col">List</th><th scope="col">From</th><th scope="col">Subject</th><th scope="col">Why held</th><th scope="col">Held since</th><th scope="col">Expires</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>
          {data && held.length === 0 && <tr><td colSpan={7}>Nothing is waiting.</td></tr>}
          {held.map((h) => (
            <tr key={h.id}>
              <td>{h.list}</td><td>{h.sender}</td><td>{h.subject}</td><td>{h.reason}</td>
              <td>{formatDate(h.at, true)}</td><td>{formatDate(h.expires, true)}</td>
              <td class="actions">
                <button onClick={() => decide(h.id, true, h.subject)} aria-label={`Approve ${h.subject}`}>Approve</button>
                <button onClick={() => decide(h.id, false, h.subject)} aria-label={`Reject ${h.subject}`}>Reject</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <button onClick={reload}>Refresh</button>
    </section>
  )
}
