import { useState } from 'preact/hooks'
import { admin, errorText, List } from '../api'
import { Scope, useLoad } from './Admin'
import { console_, n, splitAddresses } from './api'
import { AudiencePreview, ScopeOptions, policyOptions } from './AudiencePreview'
import { ListDetailView } from './ListDetail'

// listState says in words where a list stands with its approvals.
export function listState(l: List & { drifted?: boolean; approvals_missing?: number }): { text: string; alert: boolean } {
  const missing = l.approvals_missing ?? 0
  if (l.suspended) return { text: `suspended: grew past its approved size; needs ${missing} approval${missing === 1 ? '' : 's'} at ${n(l.size)}`, alert: true }
  if (l.drifted) return { text: `size drift: ${n(l.size)} members, approved at ${n(l.approved_size)}; needs ${missing} approval${missing === 1 ? '' : 's'}`, alert: true }
  if (missing > 0) return { text: `waiting for ${missing} more approval${missing === 1 ? '' : 's'}`, alert: false }
  return { text: 'open', alert: false }
}

const pageSize = 50

export function Lists({ scope, open, onOpen, onChanged }: { scope: Scope; open: string; onOpen: (address: string) => void; onChanged: () => void }) {
  // The table pages on the server: 50 lists at a time, filtered by what the
  // address or name contains.
  const [typed, setTyped] = useState('')
  const [query, setQuery] = useState({ q: '', offset: 0 })
  const { data, error, reload } = useLoad(() => console_.lists({ ...query, limit: pageSize }), [open, query.q, query.offset])
  const [msg, setMsg] = useState('')
  const first = data && data.total ? data.offset + 1 : 0
  const last = data ? data.offset + data.lists.length : 0

  if (open) return <ListDetailView address={open} scope={scope} onChanged={onChanged} onClose={(m) => { setMsg(m ?? ''); onOpen(''); onChanged() }} />
  return (
    <section aria-labelledby="lists-title">
      <h3 id="lists-title">Distribution lists</h3>
      <CreateList scope={scope} onCreated={(a) => { setMsg(`Created ${a}.`); reload() }} />
      {msg && <p class="notice" role="status">{msg}</p>}
      {error && <p class="error" role="alert">{error}</p>}
      <form class="list-filter" role="search" aria-label="Find lists" onSubmit={(e) => { e.preventDefault(); setQuery({ q: typed, offset: 0 }) }}>
        <label>Address or name contains<input type="search" value={typed} onInput={(e) => setTyped((e.target as HTMLInputElement).value)} /></label>
        <button type="submit">Find</button>
        {query.q && <button type="button" onClick={() => { setTyped(''); setQuery({ q: '', offset: 0 }) }}>Show all</button>}
      </form>
      {data && <p class="meta" role="status" id="lists-count">{data.total === 0 ? `No lists${query.q ? ` contain "${query.q}"` : ''}.` : `Lists ${n(first)}–${n(last)} of ${n(data.total)}${query.q ? ` containing "${query.q}"` : ''}.`}</p>}
      <table class="grid">
        <caption class="sr-only">{scope.national ? 'All lists' : 'Lists of your organisations'}</caption>
        <thead><tr><th scope="col">List</th><th scope="col">Kind</th><th scope="col">Members</th><th scope="col">Approved size</th><th scope="col">Who may post</th><th scope="col">State</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>
          {data?.lists.map((l) => {
            const st = listState(l)
            return (
              <tr key={l.id} class={st.alert ? 'alert-row' : ''}>
                <td><strong>{l.name}</strong><br /><span class="meta">{l.address}</span>{l.rule && <><br /><span class="meta">{l.rule} within {l.scope}</span></>}</td>
                <td>{l.kind}</td>
                <td>{n(l.size)}</td>
                <td>{l.approved_size ? n(l.approved_size) : '–'}</td>
                <td>{l.effective_policy}</td>
                <td>{st.alert ? <span class="badge warn">{st.text}</span> : st.text === 'open' ? 'open' : <span class="badge">{st.text}</span>}</td>
                <td><button onClick={() => onOpen(l.address)} aria-label={`Open ${l.address}`}>Open</button></td>
              </tr>
            )
          })}
        </tbody>
      </table>
      {data && data.total > pageSize && (
        <nav class="pager" aria-label="Pages of lists">
          <button disabled={data.offset === 0} onClick={() => setQuery({ ...query, offset: Math.max(0, data.offset - pageSize) })}>Previous {pageSize}</button>
          <button disabled={data.next_offset === undefined} onClick={() => setQuery({ ...query, offset: data.next_offset ?? 0 })}>Next {pageSize}</button>
        </nav>
      )}
    </section>
  )
}

function CreateList({ scope, onCreated }: { scope: Scope; onCreated: (address: string) => void }) {
  const [kind, setKind] = useState<'dynamic' | 'static'>('dynamic')
  const [f, setF] = useState({ address: '', name: '', rule: '', scope: scope.orgs.length ? `org:${scope.orgs[0].name}` : 'national', members: '', policy: '' })
  const [error, setError] = useState('')
  const set = (k: keyof typeof f) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value })
  const members = splitAddresses(f.members)
  const body = kind === 'dynamic' ? { rule: f.rule, scope: f.scope } : { members }
  const previewBody = (kind === 'dynamic' ? f.rule.trim() : members.length) ? body : null

  async function submit(e: Event) {
    e.preventDefault()
    setError('')
    try {
      const l = await admin.createList({ address: f.address, name: f.name, policy: f.policy || undefined, ...body })
      onCreated(l.address)
      setF({ ...f, address: '', name: '', rule: '', members: '' })
    } catch (e) { setError(errorText(e)) }
  }

  return (
    <form class="card-form" onSubmit={submit} aria-labelledby="newlist-title">
      <h4 id="newlist-title">New list</h4>
      <fieldset>
        <legend>Members</legend>
        <label><input type="radio" name="kind" checked={kind === 'dynamic'} onChange={() => setKind('dynamic')} /> by a rule (dynamic)</label>
        <label><input type="radio" name="kind" checked={kind === 'static'} onChange={() => setKind('static')} /> named people and lists (static)</label>
      </fieldset>
      <label for="nl-address">List address</label><input id="nl-address" type="email" required value={f.address} onInput={set('address')} />
      <label for="nl-name">Name</label><input id="nl-name" type="text" required value={f.name} onInput={set('name')} />
      {kind === 'dynamic' ? (
        <>
          <label for="nl-rule">Rule</label>
          <input id="nl-rule" type="text" placeholder={'role = "Nurse" and site = "St James"'} value={f.rule} onInput={set('rule')} aria-describedby="nl-rule-hint" />
          <p id="nl-rule-hint" class="meta">Tests org, role and site with =, !=, and, or, not; * is everyone in the scope.</p>
          <label for="nl-scope">Scope</label>
          <select id="nl-scope" value={f.scope} onChange={set('scope')}><ScopeOptions orgs={scope.orgs} national={scope.national} /></select>
        </>
      ) : (
        <>
          <label for="nl-members">Members</label>
          <textarea id="nl-members" rows={3} placeholder="addresses of people or lists, separated by commas or new lines" value={f.members} onInput={set('members')} />
        </>
      )}
      <label for="nl-policy">Who may post</label>
      <select id="nl-policy" value={f.policy} onChange={set('policy')}>
        <option value="">the default for its size</option>
        {policyOptions}
      </select>
      <AudiencePreview body={previewBody} id="list-preview" />
      {error && <p class="error" role="alert">{error}</p>}
      <button type="submit" class="primary">Create list</button>
    </form>
  )
}
