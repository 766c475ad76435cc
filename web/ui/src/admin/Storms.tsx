import { useEffect, useState } from 'preact/hooks'
import { admin, errorText, formatDate, StormRules } from '../api'
import { Scope, useLoad } from './Admin'
import { console_, PurgeResult } from './api'
import { Dialog } from './Dialog'

const n = (x: number) => x.toLocaleString('en-GB')
const nth = (x: number) => x + (x % 100 >= 11 && x % 100 <= 13 ? 'th' : ['th', 'st', 'nd', 'rd'][x % 10] ?? 'th')

// rulesText says what this server's breaker does, from the thresholds in force.
function rulesText(r?: StormRules): string {
  if (!r) return 'Threads where replies reach large audiences. Replying to the sender alone always works.'
  const window = r.window_minutes === 60 ? 'an hour' : `${n(r.window_minutes)} minutes`
  const brake = r.brake_from > 0 ? ` From the ${nth(r.brake_from)} reply in ${window} list delivery is delayed ${n(r.brake_delay_minutes)} minutes;` : ''
  const block = `${brake ? ' at' : ' At'} the ${nth(r.threshold)}, reply-all is blocked for ${n(r.block_hours)} hours.`
  return `Threads where replies reach ${n(r.min_audience)} people or more.${brake}${block} Replying to the sender alone always works.`
}
const stateText: Record<string, string> = { watch: 'watching', brake: 'brake: list delivery delayed', blocked: 'blocked' }

// The storm board: threads whose replies reach large audiences, refreshed
// every 10 seconds, with block, unblock (national) and purge (national).
export function Storms({ scope }: { scope: Scope }) {
  const { data, error, reload, setError } = useLoad(() => admin.storms())
  const [msg, setMsg] = useState('')
  useEffect(() => { const t = window.setInterval(reload, 10000); return () => window.clearInterval(t) }, [])

  // The purge being confirmed, with what it will remove (a dry run).
  const [purging, setPurging] = useState<{ thread: string; subject: string; plan: PurgeResult } | null>(null)

  async function act(thread: string, subject: string, what: 'block' | 'unblock' | 'purge') {
    setError(''); setMsg('')
    try {
      if (what === 'purge') {
        setPurging({ thread, subject, plan: await console_.purge(thread, true) })
        return
      }
      await admin.storm(thread, what)
      setMsg(`${what === 'block' ? 'Blocked' : 'Unblocked'} reply-all on "${subject}".`)
      reload()
    } catch (e) { setError(errorText(e)) }
  }
  async function purge() {
    if (!purging) return
    const r = await console_.purge(purging.thread, false)
    setPurging(null)
    setMsg(`Purged "${purging.subject}" from ${n(r.mailboxes)} mailboxes and ${n(r.pending)} pending deliveries` +
      `${r.held ? `, withdrew ${n(r.held)} held posts` : ''}, and removed ${n(r.sender_copies)} copies the senders kept.`)
    reload()
  }

  return (
    <section aria-labelledby="storms-title">
      <h3 id="storms-title">Reply-all storm board</h3>
      <p>{rulesText(data?.rules)}</p>
      {msg && <p class="notice" role="status">{msg}</p>}
      {error && <p class="error" role="alert">{error}</p>}
      <table class="grid">
        <caption class="sr-only">Threads on the storm board</caption>
        <thead><tr><th scope="col">Conversation</th><th scope="col">State</th><th scope="col">Replies (in window)</th><th scope="col">Audience</th><th scope="col">Delayed</th><th scope="col">Refused</th><th scope="col">Last reply</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>
          {data && data.threads.length === 0 && <tr><td colSpan={8}>No storms: no thread has large-audience replies this week.</td></tr>}
          {data?.threads.map((t) => {
            const blocked = t.state === 'blocked'
            return (
              <tr key={t.thread} class={blocked ? 'alert-row' : ''}>
                <td><strong>{t.subject || '(no subject)'}</strong><br /><span class="meta">started by {t.original_sender}</span></td>
                <td><span class={`badge ${t.state === 'watch' ? '' : 'warn'}`}>{stateText[t.state] ?? t.state}</span>
                  {blocked && t.blocked_until && <><br /><span class="meta">until {formatDate(t.blocked_until, true)} by {t.blocked_by}</span></>}</td>
                <td>{n(t.replies)} ({n(t.replies_window)})</td><td>{n(t.audience)}</td><td>{n(t.braked)}</td><td>{n(t.blocked)}</td>
                <td>{formatDate(t.last_at, true)}</td>
                <td class="actions">
                  {!blocked && <button onClick={() => act(t.thread, t.subject, 'block')} aria-label={`Block reply-all on ${t.subject}`}>Block</button>}
                  {blocked && scope.national && <button onClick={() => act(t.thread, t.subject, 'unblock')} aria-label={`Unblock ${t.subject}`}>Unblock</button>}
                  {scope.national && <button class="danger" onClick={() => act(t.thread, t.subject, 'purge')} aria-label={`Purge ${t.subject} from every mailbox`}>Purge</button>}
                </td>
              </tr>
            )
          })}
        </tbody>
      </table>
      {purging && (
        <Dialog id="purge-dialog" title={`Purge "${purging.subject}" from every mailbox?`} confirm="Purge from every mailbox" danger
          onClose={() => setPurging(null)} onConfirm={purge}>
          <p>The first message of this conversation and every reply to it ({n(purging.plan.submissions)} message{purging.plan.submissions === 1 ? '' : 's'}) will be removed:</p>
          <ul>
            <li>{n(purging.plan.removed)} cop{purging.plan.removed === 1 ? 'y' : 'ies'} from {n(purging.plan.mailboxes)} mailbox{purging.plan.mailboxes === 1 ? '' : 'es'} that already hold it;</li>
            <li>{n(purging.plan.pending)} pending deliver{purging.plan.pending === 1 ? 'y' : 'ies'} to list members who have not opened their mailbox since, withdrawn;</li>
            {purging.plan.held > 0 && <li>{n(purging.plan.held)} held post{purging.plan.held === 1 ? '' : 's'} withdrawn from moderation;</li>}
            <li>{n(purging.plan.sender_copies)} cop{purging.plan.sender_copies === 1 ? 'y' : 'ies'} the senders kept (Sent and other folders) in {n(purging.plan.sender_mailboxes)} folder{purging.plan.sender_mailboxes === 1 ? '' : 's'}.</li>
          </ul>
          <p><strong>This cannot be undone.</strong> People who have it open see it disappear. It is recorded in the audit trail.</p>
        </Dialog>
      )}
      {data && <p class="meta">As of {formatDate(data.at, true)}. <button class="link" onClick={reload}>Refresh</button></p>}
    </section>
  )
}
