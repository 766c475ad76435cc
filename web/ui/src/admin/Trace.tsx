import { useState } from 'preact/hooks'
import { errorText, formatDate } from '../api'
import { console_, n, TraceHistory } from './api'

type Step = { at?: string; text: string; warn?: boolean }

const heldOutcome: Record<string, string> = {
  approved: 'released', rejected: 'rejected', expired: 'expired unanswered', purged: 'withdrawn by a purge', deleted: 'withdrawn: the list was deleted',
}

// steps tells a message's path in order, as sentences: accepted, lists
// expanded, held and released, delivered or pending, purged.
export function steps(t: TraceHistory): Step[] {
  const out: Step[] = []
  const listNames = (ls: string[]) => `the list${ls.length === 1 ? '' : 's'} ${ls.join(', ')}`
  const heldLists = t.moderation.map((h) => h.list).filter((l) => !t.lists.includes(l))
  const named = t.direct ? `${n(t.direct)} ${t.direct === 1 ? 'person' : 'people'} named` : ''
  const to = [named, t.lists.length ? listNames(t.lists) : '', heldLists.length ? listNames(heldLists) : ''].filter(Boolean).join(' and ')
  out.push({ at: t.at, text: `Accepted from ${t.sender} for ${to || 'nobody'}` +
    (t.audience ? `: ${n(t.audience)} ${t.audience === 1 ? 'person' : 'people'} at once.` : '.') })
  if (t.lists.length) out.push({ at: t.at, text: `Expanded: written once to the post log of ${listNames(t.lists)}; each member's mailbox takes it in when next opened.` })
  for (const h of t.moderation) {
    out.push({ at: h.at, text: `Held for ${h.list}: ${h.reason}.`, warn: true })
    if (h.state === 'held') {
      out.push({ text: `Still held for the moderators of ${h.list}.`, warn: true })
      continue
    }
    const by = h.decided_by ? ` by ${h.decided_by}` : h.state === 'approved' ? ' by Wardmail (the delay was over)' : ''
    const then = h.state === 'approved' ? `: written once to the post log of ${h.list}` : ''
    const text = `${heldOutcome[h.state] ?? h.state}${by}${h.decision ? ` (${h.decision})` : ''}${then}.`
    out.push({ at: h.decided_at, text: text[0].toUpperCase() + text.slice(1), warn: h.state !== 'approved' })
  }
  if (t.purged) out.push({ at: t.purged.at, text: `Purged by ${t.purged.by} (${t.purged.target}): removed from every mailbox.`, warn: true })
  else if (t.state === 'purged') out.push({ text: 'Purged with its thread: removed from every mailbox.', warn: true })
  out.push({ text: `Now: in ${n(t.materialised)} mailbox${t.materialised === 1 ? '' : 'es'}` + (t.pending ? `, waiting for ${n(t.pending)} member${t.pending === 1 ? '' : 's'} to open theirs` : '') + (t.held ? `, held for ${n(t.held)} list${t.held === 1 ? '' : 's'}` : '') + '.' })
  return out
}

// Message trace: every submission with a Message-ID, and its path.
export function Trace() {
  const [id, setId] = useState('')
  const [found, setFound] = useState<TraceHistory[] | null>(null)
  const [error, setError] = useState('')
  async function run(e: Event) {
    e.preventDefault()
    setError('')
    try { setFound((await console_.trace(id.trim())).messages) } catch (e) { setFound(null); setError(errorText(e)) }
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
        <article key={t.id} class="trace-card" aria-label={`Path of "${t.subject}"`}>
          <h4>"{t.subject || '(no subject)'}" from {t.sender}</h4>
          <p class="meta">Message-ID {t.message_id}; conversation {t.thread_id}; queue id {t.queue_id}</p>
          <ol class="timeline">
            {steps(t).map((s, i) => <li key={i} class={s.warn ? 'warn' : ''}>{s.at && <span class="when">{formatDate(s.at, true)}</span>}{s.text}</li>)}
          </ol>
        </article>
      ))}
    </section>
  )
}
