import { useState } from 'preact/hooks'
import { admin, errorText, formatDate, Held } from '../api'
import { useLoad } from './Admin'
import { Dialog } from './Dialog'

// heldPath says where a held post goes once approved, and which other
// lists' moderators it still waits for (a post to a list with moderated
// lists inside goes once every one of them approves).
export function heldPath(h: Held): string {
  const to = h.post_to || h.list
  const inside = to !== h.list ? `Goes to ${to} (${h.list} is inside it)` : `Goes to ${to}`
  const waiting = h.waiting ?? []
  return waiting.length ? `${inside} once approved here and by the moderators of ${waiting.join(', ')}.` : `${inside} once approved here.`
}

export function Moderation() {
  const { data, error, reload, setError } = useLoad(() => admin.held())
  const [msg, setMsg] = useState('')
  const held = data?.held.filter((h) => h.state === 'held') ?? []

  // The post being rejected: the dialog asks for the reason its sender reads.
  const [rejecting, setRejecting] = useState<{ id: number; subject: string; sender: string; list: string } | null>(null)
  const [reason, setReason] = useState('')

  async function decide(id: number, approve: boolean, subject: string, why = '', h?: Held) {
    await admin.moderate(id, approve, why)
    const waiting = h?.waiting ?? []
    setMsg(`${approve ? 'Approved' : 'Rejected'}: ${subject}.` +
      (approve && waiting.length ? ` It goes to ${h?.post_to} once the moderators of ${waiting.join(', ')} approve too.` : ''))
    reload()
  }
  async function approve(h: Held) {
    setMsg('')
    try { await decide(h.id, true, h.subject, '', h) } catch (e) { setError(errorText(e)) }
  }

  return (
    <section aria-labelledby="mod-title">
      <h3 id="mod-title">Moderation queue</h3>
      <p>Posts to moderated lists, and list posts slowed by the storm brake, wait here. The sender is told either way.</p>
      {msg && <p class="notice" role="status">{msg}</p>}
      {error && <p class="error" role="alert">{error}</p>}
      <table class="grid">
        <caption class="sr-only">Held posts</caption>
        <thead><tr><th scope="col">List</th><th scope="col">Where it goes</th><th scope="col">From</th><th scope="col">Subject</th><th scope="col">Why held</th><th scope="col">Held since</th><th scope="col">Expires</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>
          {data && held.length === 0 && <tr><td colSpan={8}>Nothing is waiting.</td></tr>}
          {held.map((h) => (
            <tr key={h.id}>
              <td>{h.list}</td><td>{heldPath(h)}</td><td>{h.sender}</td><td>{h.subject}</td><td>{h.reason}</td>
              <td>{formatDate(h.at, true)}</td><td>{formatDate(h.expires, true)}</td>
              <td class="actions">
                <button onClick={() => approve(h)} aria-label={`Approve ${h.subject}`}>Approve</button>
                <button onClick={() => { setReason(''); setMsg(''); setRejecting({ id: h.id, subject: h.subject, sender: h.sender, list: h.list }) }} aria-label={`Reject ${h.subject}`}>Reject</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <button onClick={reload}>Refresh</button>
      {rejecting && (
        <Dialog id="reject-dialog" title={`Reject "${rejecting.subject}"`} confirm="Reject the post" danger
          onClose={() => setRejecting(null)}
          onConfirm={async () => { await decide(rejecting.id, false, rejecting.subject, reason.trim()); setRejecting(null) }}>
          <p>The post to {rejecting.list} is not delivered. {rejecting.sender} gets a notice saying it was rejected, with your reason.</p>
          <label for="reject-reason">Reason (the sender reads this)</label>
          <textarea id="reject-reason" rows={3} maxLength={1000} value={reason} onInput={(e) => setReason((e.target as HTMLTextAreaElement).value)}
            placeholder="e.g. Please send this to the ward manager instead of the whole list." />
        </Dialog>
      )}
    </section>
  )
}
