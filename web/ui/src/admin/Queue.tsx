import { useEffect, useState } from 'preact/hooks'
import { admin, errorText, formatDate, QueueDomain } from '../api'
import { useLoad } from './Admin'

const n = (x: number) => x.toLocaleString('en-GB')
const since = (at: string) => {
  const s = Math.max(0, (Date.now() - Date.parse(at)) / 1000)
  return s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`
}

// The outbound queue: mail to other domains, per destination (what waits,
// how much was deferred, the oldest, the next attempt and the last error),
// with retry, hold and release per destination. National administrators
// only (it is every organisation's mail); every action is audited.
export function Queue() {
  const { data, error, reload, setError } = useLoad(() => admin.queue())
  const [msg, setMsg] = useState('')
  useEffect(() => { const t = window.setInterval(reload, 10000); return () => window.clearInterval(t) }, [])

  async function act(d: QueueDomain, action: 'retry' | 'hold' | 'release') {
    setError(''); setMsg('')
    try {
      const r = await admin.queueDomain(d.domain, action)
      setMsg(`${action === 'retry' ? 'Retrying' : action === 'hold' ? 'Held' : 'Released'} ${n(r.recipients)} recipients at ${d.domain}.`)
      reload()
    } catch (e) { setError(errorText(e)) }
  }

  return (
    <section aria-labelledby="queue-title">
      <h3 id="queue-title">Mail to other domains</h3>
      <p>Messages from people here to other organisations' servers, until each server has taken them. Temporary refusals are retried for 5 days; senders are told when a message fails, and once if it is delayed.</p>
      {msg && <p class="notice" role="status">{msg}</p>}
      {error && <p class="error" role="alert">{error}</p>}
      <table class="grid">
        <caption class="sr-only">Destinations with mail waiting</caption>
        <thead><tr><th scope="col">Domain</th><th scope="col">Waiting</th><th scope="col">Deferred</th><th scope="col">Held</th><th scope="col">Oldest</th><th scope="col">Next attempt</th><th scope="col">Last error</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>
          {data?.domains.map((d) => (
            <tr key={d.domain}>
              <td>{d.domain}</td><td>{n(d.queued)}</td><td>{n(d.deferred)}</td><td>{n(d.held)}</td>
              <td>{since(d.oldest)}</td>
              <td>{Date.parse(d.next_attempt) > Date.now() ? formatDate(d.next_attempt, true) : 'now'}</td>
              <td class="detail">{d.last_error || '–'}</td>
              <td class="actions">
                <button onClick={() => act(d, 'retry')}>Retry now</button>
                {d.queued > 0 && <button onClick={() => act(d, 'hold')}>Hold</button>}
                {d.held > 0 && <button onClick={() => act(d, 'release')}>Release</button>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && data.domains.length === 0 && <p>Nothing is waiting: every message to other domains has been delivered or answered.</p>}
      {data && data.messages.length > 0 && (
        <table class="grid">
          <caption>Oldest waiting messages</caption>
          <thead><tr><th scope="col">Queued</th><th scope="col">From</th><th scope="col">To</th><th scope="col">State</th><th scope="col">Attempts</th><th scope="col">Their server's last answer</th></tr></thead>
          <tbody>
            {data.messages.flatMap((m) => m.recipients.map((r) => (
              <tr key={`${m.queue_id}-${r.id}`}>
                <td>{formatDate(m.created_at, true)}</td><td>{m.sender}</td><td>{r.recipient}</td><td>{r.state}</td><td>{n(r.attempts)}</td>
                <td class="detail">{r.last_reply || '–'}</td>
              </tr>
            )))}
          </tbody>
        </table>
      )}
    </section>
  )
}
