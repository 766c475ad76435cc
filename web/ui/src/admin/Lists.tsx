import { useEffect, useState } from 'preact/hooks'
import { admin, ApiError, errorText } from '../api'
import { Scope, useLoad } from './Admin'

const n = (x: number) => x.toLocaleString('en-GB')

export function Lists({ scope }: { scope: Scope }) {
  const { data, error, reload, setError } = useLoad(() => admin.lists())
  const [msg, setMsg] = useState('')

  async function approve(address: string) {
    try { await admin.approveList(address); setMsg(`Approved ${address}.`); reload() } catch (e) { setError(errorText(e)) }
  }

  return (
    <section aria-labelledby="lists-title">
      <h3 id="lists-title">Distribution lists</h3>
      <CreateList scope={scope} onCreated={(a) => { setMsg(`Created ${a}.`); reload() }} />
      {msg && <p class="notice" role="status">{msg}</p>}
      {error && <p class="error" role="alert">{error}</p>}
      <table class="grid">
        <caption class="sr-only">Lists you manage</caption>
        <thead><tr><th scope="col">List</th><th scope="col">Kind</th><th scope="col">Members</th><th scope="col">Approved size</th><th scope="col">Who may post</th><th scope="col">State</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>
          {data?.lists.map((l) => {
            const drift = l.approved_size > 0 && l.size * 100 > l.approved_size * 110
            const approvals = l.approvals?.length ?? 0
            return (
              <tr key={l.id} class={l.suspended || drift ? 'alert-row' : ''}>
                <td><strong>{l.name}</strong><br /><span class="meta">{l.address}</span>{l.rule && <><br /><span class="meta">{l.rule} within {l.scope}</span></>}</td>
                <td>{l.kind}</td>
                <td>{n(l.size)}</td>
                <td>{l.approved_size ? n(l.approved_size) : '–'}</td>
                <td>{l.effective_policy}</td>
                <td>{l.suspended ? <span class="badge warn">suspended: grew past its approved size</span>
                  : drift ? <span class="badge warn">size drift</span>
                  : approvals < l.needs_approvals && l.needs_approvals > 1 ? <span class="badge">needs {l.needs_approvals - approvals} more approval(s)</span>
                  : 'open'}</td>
                <td>{scope.national && (l.suspended || drift || (l.needs_approvals > 1 && approvals < l.needs_approvals)) &&
                  <button onClick={() => approve(l.address)} aria-label={`Approve ${l.address} at ${n(l.size)} members`}>Approve at {n(l.size)}</button>}</td>
              </tr>
            )
          })}
        </tbody>
      </table>
    </section>
  )
}

type Preview = Awaited<ReturnType<typeof admin.previewList>>

function CreateList({ scope, onCreated }: { scope: Scope; onCreated: (address: string) => void }) {
  const [kind, setKind] = useState<'dynamic' | 'static'>('dynamic')
  const [f, setF] = useState({ address: '', name: '', rule: '', scope: scope.orgs.length ? `org:${scope.orgs[0].name}` : 'national', members: '', policy: '' })
  const [preview, setPreview] = useState<Preview | null>(null)
  const [previewError, setPreviewError] = useState('')
  const [error, setError] = useState('')
  const set = (k: keyof typeof f) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value })
  const members = f.members.split(/[\s,;]+/).filter(Boolean)
  const body = kind === 'dynamic' ? { rule: f.rule, scope: f.scope } : { members }

  // The live audience: asked 400 ms after the last keystroke.
  useEffect(() => {
    if (kind === 'dynamic' ? !f.rule.trim() : members.length === 0) { setPreview(null); setPreviewError(''); return }
    const t = window.setTimeout(() => {
      admin.previewList(body).then((p) => { setPreview(p); setPreviewError('') })
        .catch((e) => { setPreview(null); setPreviewError(e instanceof ApiError ? e.message : errorText(e)) })
    }, 400)
    return () => window.clearTimeout(t)
  }, [kind, f.rule, f.scope, f.members])

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
          <select id="nl-scope" value={f.scope} onChange={set('scope')}>
            {scope.orgs.map((o) => <option key={o.id} value={`org:${o.name}`}>{o.name}</option>)}
            {scope.orgs.length > 1 && <option value={`set:${scope.orgs.map((o) => o.name).join('|')}`}>All my organisations</option>}
            {scope.national && <option value="national">National: everyone in England</option>}
          </select>
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
        <option value="members">members</option><option value="org">anyone in its organisations</option>
        <option value="senders">named senders</option><option value="announce">announcements (owners only)</option><option value="moderated">moderated</option>
      </select>
      <div class="audience-preview" aria-live="polite" id="list-preview">
        {previewError ? <p class="error">{previewError}</p> : preview && (
          <>
            <p><strong>This list would reach {n(preview.people)} {preview.people === 1 ? 'person' : 'people'} in {n(preview.organisations.length)} organisation{preview.organisations.length === 1 ? '' : 's'}.</strong></p>
            <ul class="meta">{preview.organisations.slice(0, 5).map((o) => <li key={o.name}>{o.name}: {n(o.people)}</li>)}
              {preview.organisations.length > 5 && <li>and {preview.organisations.length - 5} more</li>}</ul>
            {preview.notes.map((t) => <p key={t} class="notice">{t}</p>)}
          </>
        )}
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      <button type="submit" class="primary">Create list</button>
    </form>
  )
}
