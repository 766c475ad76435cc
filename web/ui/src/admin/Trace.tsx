import { useState } from 'preact/hooks'
import { admin, errorText, formatDate, Trace as T } from '../api'

const n = (x: number) => x.toLocaleString('en-GB')

export function Trace() {
  const [id, setId] = useState('')
  const [found, setFound] = useState<T[] | null>(null)
  const [error, setError] = useState('')
  async function run(e: Event) {
    e.preventDefault()
    setError('')
    try { setFound((await admin.trace(id.trim())).messages) } catch (e) { setFound(null); setError(errorText(e)) }
  }
  return (
    <section aria-labelledby="trace-title">
      <h3 id="trace-title">Message trace</h3>
      <form class="inline-form" onSubmit={run}>
        <label for="trace-id">Message-ID</label>
        <input id="trace-id" type="text" required placeholder="<abc@nhs.test>" value={id} onInput={(e) => setId((e.target as HTMLInputElement).value)} />
        <button type="submit">Trace</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {found?.map((t) => (
        <dl key={t.id} class="trace">
          <dt>Subject</dt><dd>{t.subject}</dd>
          <dt>From</dt><dd>{t.sender}, {formatDate(t.at, true)}</dd>
          <dt>Audience</dt><dd>{n(t.audience)} people: {n(t.direct)} named{t.lists?.length ? `, lists ${t.lists.join(', ')}` : ''}</dd>
          <dt>State</dt><dd>{t.state}</dd>
          <dt>Where it is now</dt><dd>in {n(t.materialised)} mailboxes, pending for {n(t.pending)}, held {n(t.held)}</dd>
          <dt>Thread</dt><dd>{t.thread_id}</dd>
        </dl>
      ))}
    </section>
  )
}
