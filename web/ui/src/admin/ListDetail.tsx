import { useEffect, useState } from 'preact/hooks'
import { errorText, formatDate } from '../api'
import { Scope } from './Admin'
import { console_, ListDetail, n, splitAddresses } from './api'
import { AudiencePreview, ScopeOptions, policyOptions } from './AudiencePreview'
import { listState } from './Lists'
import { heldPath } from './Moderation'

// One list, opened from the table: its facts, approvals, who may post,
// members (static) or rule and scope (dynamic) with the live audience,
// owners, held posts, and deletion. Every change is one admin API call;
// a refusal shows the server's sentence next to the form that caused it.
export function ListDetailView({ address, scope, onClose, onChanged }: { address: string; scope: Scope; onClose: (msg?: string) => void; onChanged: () => void }) {
  const [l, setL] = useState<ListDetail | null>(null)
  const [error, setError] = useState('')
  const [msg, setMsg] = useState('')
  useEffect(() => { console_.list(address).then(setL).catch((e) => setError(errorText(e))) }, [address])

  // act runs a change; the answer is the list as it is now.
  async function act(what: () => Promise<ListDetail>, done: string, setFormError: (s: string) => void) {
    setMsg(''); setFormError('')
    try { setL(await what()); setMsg(done); onChanged(); return true } catch (e) { setFormError(errorText(e)); return false }
  }

  const back = <button class="link" onClick={() => onClose()}>Back to all lists</button>
  if (!l) return <section aria-label="List">{back}{error && <p class="error" role="alert">{error}</p>}</section>
  const st = listState(l)
  return (
    <section aria-labelledby="ld-title" class="list-detail">
      {back}
      <h3 id="ld-title">{l.name} <span class="meta">{l.address}</span></h3>
      {msg && <p class="notice" role="status">{msg}</p>}
      {error && <p class="error" role="alert">{error}</p>}
      <dl class="facts">
        <dt>Kind</dt><dd>{l.kind === 'dynamic' ? <>dynamic: <code>{l.rule}</code> within <code>{l.scope}</code></> : `static: ${n(l.members.length)} people and ${n(l.sublists.length)} lists named`}</dd>
        <dt>Members now</dt><dd>{n(l.size)}</dd>
        <dt>Approved size</dt><dd>{l.approved_size ? n(l.approved_size) : 'not approved'}</dd>
        <dt>Who may post</dt><dd>{l.policy}{l.effective_policy !== l.policy && ` (in force: ${l.effective_policy}, for its size)`}{l.senders?.length ? `; named senders ${l.senders.join(', ')}` : ''}</dd>
        <dt>Owners</dt><dd>{l.owners.join(', ')}</dd>
        <dt>State</dt><dd>{st.alert ? <span class="badge warn">{st.text}</span> : st.text}</dd>
      </dl>
      <Approvals l={l} scope={scope} act={act} />
      <Policy l={l} act={act} />
      {l.kind === 'static' ? <Members l={l} act={act} /> : <Rule l={l} scope={scope} act={act} />}
      <Owners l={l} act={act} />
      <HeldPosts l={l} />
      <Delete l={l} onDeleted={() => onClose(`Deleted ${l.address}.`)} />
    </section>
  )
}

type Act = (what: () => Promise<ListDetail>, done: string, setFormError: (s: string) => void) => Promise<boolean>

function Approvals({ l, scope, act }: { l: ListDetail; scope: Scope; act: Act }) {
  const [error, setError] = useState('')
  const approvals = l.approvals ?? []
  const needed = l.approvals_missing > 0 || l.needs_approvals > 1
  if (!needed && approvals.length === 0) return null
  return (
    <section aria-labelledby="ld-appr" class="panel">
      <h4 id="ld-appr">Approvals</h4>
      {l.needs_approvals > 1 && <p>Lists of this size need {l.needs_approvals} national administrators to approve them, each at the live size.</p>}
      {approvals.length > 0 && (
        <ul>{approvals.map((a) => <li key={a.admin}>{a.admin} approved it at {n(a.size)} members on {formatDate(a.at, true)}{a.size !== l.size && ' (an earlier size: no longer counts)'}</li>)}</ul>
      )}
      <p id="ld-appr-need">{l.approvals_missing > 0
        ? `Still needed: ${l.approvals_missing} more approval${l.approvals_missing === 1 ? '' : 's'} by a national administrator at ${n(l.size)} members. Until then nobody may post to it.`
        : `Approved at ${n(l.approved_size)} members.`}</p>
      {error && <p class="error" role="alert">{error}</p>}
      {scope.national && l.approvals_missing > 0 &&
        <button class="primary" onClick={() => act(() => console_.approve(l.address), `You approved ${l.address} at ${n(l.size)} members.`, setError)}>Approve at {n(l.size)} members</button>}
    </section>
  )
}

function Policy({ l, act }: { l: ListDetail; act: Act }) {
  const [policy, setPolicy] = useState(l.policy)
  const [senders, setSenders] = useState((l.senders ?? []).join(', '))
  const [error, setError] = useState('')
  function save(e: Event) {
    e.preventDefault()
    act(() => console_.setPolicy(l.address, policy, splitAddresses(senders)), `Who may post to ${l.address}: ${policy}.`, setError)
  }
  return (
    <form class="card-form" onSubmit={save} aria-labelledby="ld-policy">
      <h4 id="ld-policy">Who may post</h4>
      <label for="ld-policy-sel">Policy</label>
      <select id="ld-policy-sel" value={policy} onChange={(e) => setPolicy((e.target as HTMLSelectElement).value)}>{policyOptions}</select>
      <label for="ld-senders">Named senders</label>
      <input id="ld-senders" type="text" value={senders} onInput={(e) => setSenders((e.target as HTMLInputElement).value)} placeholder="addresses, separated by commas" />
      {error && <p class="error" role="alert">{error}</p>}
      <button type="submit">Save who may post</button>
    </form>
  )
}

function Members({ l, act }: { l: ListDetail; act: Act }) {
  const [add, setAdd] = useState('')
  const [error, setError] = useState('')
  const added = splitAddresses(add)
  async function submit(e: Event) {
    e.preventDefault()
    if (await act(() => console_.addMembers(l.address, added), `Added ${added.join(', ')}.`, setError)) setAdd('')
  }
  const named = [...l.members.map((m) => ({ m, kind: 'person' })), ...l.sublists.map((m) => ({ m, kind: 'list' }))]
  return (
    <section aria-labelledby="ld-members" class="panel">
      <h4 id="ld-members">Members ({n(named.length)} named, {n(l.size)} people in all)</h4>
      <form class="inline-form" onSubmit={submit}>
        <label for="ld-add">Add people or lists</label>
        <input id="ld-add" type="text" value={add} onInput={(e) => setAdd((e.target as HTMLInputElement).value)} placeholder="addresses, separated by commas" />
        <button type="submit" disabled={!added.length}>Add</button>
      </form>
      <AudiencePreview body={added.length ? { members: [...l.members, ...l.sublists, ...added] } : null} id="ld-add-preview" verb="would then reach" />
      {error && <p class="error" role="alert">{error}</p>}
      <table class="grid">
        <caption class="sr-only">Named members of {l.address}</caption>
        <thead><tr><th scope="col">Member</th><th scope="col">Kind</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>
          {named.length === 0 && <tr><td colSpan={3}>Nobody is named yet.</td></tr>}
          {named.map(({ m, kind }) => (
            <tr key={m}><td>{m}</td><td>{kind}</td>
              <td><button onClick={() => act(() => console_.removeMembers(l.address, [m]), `Removed ${m}.`, setError)} aria-label={`Remove ${m} from ${l.address}`}>Remove</button></td></tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}

function Rule({ l, scope, act }: { l: ListDetail; scope: Scope; act: Act }) {
  const [rule, setRule] = useState(l.rule ?? '')
  const [sc, setSc] = useState(l.scope ?? '')
  const [error, setError] = useState('')
  const changed = rule !== l.rule || sc !== l.scope
  return (
    <form class="card-form" aria-labelledby="ld-rule" onSubmit={(e) => { e.preventDefault(); act(() => console_.setRule(l.address, rule, sc), `Rule of ${l.address} changed.`, setError) }}>
      <h4 id="ld-rule">Rule and scope</h4>
      <label for="ld-rule-in">Rule</label>
      <input id="ld-rule-in" type="text" value={rule} onInput={(e) => setRule((e.target as HTMLInputElement).value)} />
      <label for="ld-scope">Scope</label>
      <select id="ld-scope" value={sc} onChange={(e) => setSc((e.target as HTMLSelectElement).value)}><ScopeOptions orgs={scope.orgs} national={scope.national} current={l.scope} /></select>
      <AudiencePreview body={changed && rule.trim() ? { rule, scope: sc } : null} id="ld-rule-preview" verb="would then reach" />
      {error && <p class="error" role="alert">{error}</p>}
      <button type="submit" disabled={!changed}>Save rule and scope</button>
    </form>
  )
}

function Owners({ l, act }: { l: ListDetail; act: Act }) {
  const [owners, setOwners] = useState(l.owners.join(', '))
  const [error, setError] = useState('')
  return (
    <form class="inline-form" aria-labelledby="ld-owners-label" onSubmit={(e) => { e.preventDefault(); act(() => console_.setOwners(l.address, splitAddresses(owners)), `Owners of ${l.address} saved.`, setError) }}>
      <label id="ld-owners-label" for="ld-owners">Owners</label>
      <input id="ld-owners" type="text" value={owners} onInput={(e) => setOwners((e.target as HTMLInputElement).value)} />
      <button type="submit">Save owners</button>
      {error && <p class="error" role="alert">{error}</p>}
    </form>
  )
}

function HeldPosts({ l }: { l: ListDetail }) {
  return (
    <section aria-labelledby="ld-held" class="panel">
      <h4 id="ld-held">Held posts</h4>
      {l.held.length === 0 ? <p>Nothing is held for this list. Held posts are decided in Moderation.</p> : (
        <ul>{l.held.map((h) => <li key={h.id}>"{h.subject}" from {h.sender}, {formatDate(h.at, true)}: {h.reason} {heldPath(h)}</li>)}</ul>
      )}
    </section>
  )
}

function Delete({ l, onDeleted }: { l: ListDetail; onDeleted: () => void }) {
  const [asking, setAsking] = useState(false)
  const [error, setError] = useState('')
  async function del() {
    try { await console_.deleteList(l.address); onDeleted() } catch (e) { setError(errorText(e)) }
  }
  return (
    <section aria-labelledby="ld-delete" class="panel">
      <h4 id="ld-delete">Delete</h4>
      <p>Members keep the posts they were sent; posts held for it are withdrawn.</p>
      {asking
        ? <p><button class="danger" onClick={del}>Yes, delete {l.address}</button> <button onClick={() => setAsking(false)}>Keep it</button></p>
        : <button class="danger" onClick={() => setAsking(true)}>Delete this list</button>}
      {error && <p class="error" role="alert">{error}</p>}
    </section>
  )
}
