import { useState } from 'preact/hooks'
import { errorText, formatDate } from '../api'
import { Scope, useLoad } from './Admin'
import { console_, n, Quarantined } from './api'
import { Dialog } from './Dialog'

const verdictText: Record<string, string> = { malware: 'Malware', spam: 'Spam' }

// The quarantine: messages the scanner kept from their recipients (malware,
// spam above the quarantine score). An administrator sees the recipients in
// their organisations and releases the message to them (their INBOX) or
// deletes it; malware is released by a national administrator only. Every
// decision is in the audit trail.
export function Quarantine({ scope }: { scope: Scope }) {
  const [all, setAll] = useState(false)
  const { data, error, reload, setError } = useLoad(() => console_.quarantine(all), [all])
  const [msg, setMsg] = useState('')
  const [deciding, setDeciding] = useState<{ q: Quarantined; what: 'release' | 'delete' } | null>(null)
  const waiting = (q: Quarantined) => q.recipients.filter((r) => r.state === 'held').map((r) => r.address)

  async function decide() {
    if (!deciding) return
    const { q, what } = deciding
    setError(''); setMsg('')
    try {
      const r = what === 'release' ? await console_.releaseQuarantined(q.id) : await console_.deleteQuarantined(q.id)
      setMsg(`${what === 'release' ? 'Released' : 'Deleted'} "${q.subject || '(no subject)'}" ${what === 'release' ? 'to' : 'for'} ${r.recipients.join(', ')}.`)
      reload()
    } catch (e) { setError(errorText(e)) } finally { setDeciding(null) }
  }

  const rows = data?.messages ?? []
  return (
    <section aria-labelledby="quarantine-title">
      <h3 id="quarantine-title">Quarantine</h3>
      <p>Messages from outside that the scanner kept from {scope.national ? 'their recipients' : 'people in your organisations'}: malware, and mail that looks strongly like spam. Release one to deliver it to the recipients' inbox, or delete it.</p>
      {msg && <p class="notice" role="status">{msg}</p>}
      {error && <p class="error" role="alert">{error}</p>}
      <div class="inline-form"><label><input type="checkbox" checked={all} onChange={(e) => setAll((e.target as HTMLInputElement).checked)} /> Show released and deleted messages too</label></div>
      <table class="grid">
        <caption class="sr-only">Quarantined messages</caption>
        <thead><tr><th scope="col">Received</th><th scope="col">Verdict</th><th scope="col">From</th><th scope="col">Subject</th><th scope="col">Recipients</th><th scope="col">Size</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>
          {data && rows.length === 0 && <tr><td colSpan={7}>{all ? 'Nothing has been quarantined.' : 'Nothing is waiting in the quarantine.'}</td></tr>}
          {rows.map((q) => {
            const open = waiting(q)
            const malware = q.verdict === 'malware'
            return (
              <tr key={q.id} class={malware ? 'alert-row' : ''}>
                <td>{formatDate(q.created, true)}</td>
                <td><span class={`badge ${malware ? 'warn' : ''}`}>{verdictText[q.verdict] ?? q.verdict}</span><br /><span class="meta">{q.reason}</span></td>
                <td>{q.sender || '(no sender)'}</td>
                <td>{q.subject || '(no subject)'}</td>
                <td>{q.recipients.map((r) => <span key={r.address}>{r.address}{r.state !== 'held' && <span class="meta"> ({r.state}{r.decided_by ? ` by ${r.decided_by}` : ''})</span>}<br /></span>)}</td>
                <td>{n(Math.ceil(q.size / 1024))} KB</td>
                <td class="actions">
                  {open.length > 0 && (!malware || scope.national) &&
                    <button onClick={() => { setMsg(''); setDeciding({ q, what: 'release' }) }} aria-label={`Release ${q.subject} to ${open.join(', ')}`}>Release</button>}
                  {open.length > 0 &&
                    <button class="danger" onClick={() => { setMsg(''); setDeciding({ q, what: 'delete' }) }} aria-label={`Delete ${q.subject}`}>Delete</button>}
                </td>
              </tr>
            )
          })}
        </tbody>
      </table>
      <button onClick={reload}>Refresh</button>
      {deciding && (
        <Dialog id="quarantine-dialog" title={`${deciding.what === 'release' ? 'Release' : 'Delete'} "${deciding.q.subject || '(no subject)'}"?`}
          confirm={deciding.what === 'release' ? 'Release to their inbox' : 'Delete it'} danger={deciding.what === 'delete' || deciding.q.verdict === 'malware'}
          onClose={() => setDeciding(null)} onConfirm={decide}>
          {deciding.what === 'release'
            ? <p>The message from {deciding.q.sender} goes to the inbox of {waiting(deciding.q).join(', ')}. The scanner said: {deciding.q.reason}.</p>
            : <p>The message from {deciding.q.sender} will not reach {waiting(deciding.q).join(', ')}.</p>}
          <p>Your decision is recorded in the audit trail.</p>
        </Dialog>
      )}
    </section>
  )
}
