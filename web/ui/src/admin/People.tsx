import { useState } from 'preact/hooks'
import { admin, AdminPerson, errorText } from '../api'
import { Scope, useLoad } from './Admin'
import { PersonDetailView } from './PersonDetail'

export function People({ scope }: { scope: Scope }) {
  const [q, setQ] = useState('')
  const [query, setQuery] = useState('')
  const { data, error, reload, setError } = useLoad(() => admin.people(query), [query])
  const [msg, setMsg] = useState('')
  const [adding, setAdding] = useState(false)
  const [open, setOpen] = useState('')

  async function act(p: AdminPerson, what: 'disable' | 'enable' | 'unlock') {
    setError(''); setMsg('')
    try {
      if (what === 'unlock') {
        const r = await admin.unlock({ accounts: [p.email] })
        setMsg(`Unlocked ${p.email} (${r.locks_ended} lock${r.locks_ended === 1 ? '' : 's'} ended).`)
      } else {
        await admin.setDisabled(p.email, what === 'disable')
        setMsg(disabledText(p.email, what === 'disable'))
      }
      reload()
    } catch (e) { setError(errorText(e)) }
  }

  if (open) return <PersonDetailView email={open} onClose={(m) => { setOpen(''); setMsg(m ?? ''); reload() }} />
  return (
    <section aria-labelledby="people-title">
      <h3 id="people-title">People</h3>
      <form role="search" class="inline-form" onSubmit={(e) => { e.preventDefault(); setQuery(q) }}>
        <label for="people-q">Find people</label>
        <input id="people-q" type="search" placeholder="Start of an address or name" value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
        <button type="submit">Find</button>
        <button type="button" class="primary" onClick={() => setAdding(!adding)} aria-expanded={adding}>Add a person</button>
      </form>
      {adding && <AddPerson scope={scope} onAdded={(email) => { setAdding(false); setMsg(`Added ${email}.`); reload() }} />}
      {msg && <p class="notice" role="status">{msg}</p>}
      {error && <p class="error" role="alert">{error}</p>}
      <table class="grid">
        <caption class="sr-only">People</caption>
        <thead><tr><th scope="col">Name</th><th scope="col">Address</th><th scope="col">Organisation</th><th scope="col">Role</th><th scope="col">State</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>
          {data?.people.map((p) => (
            <tr key={p.email}>
              <td>{p.name}</td><td>{p.email}</td><td>{p.org}</td><td>{p.role}</td>
              <td>{p.disabled ? 'disabled' : p.can_sign_in ? 'active' : 'no password'}</td>
              <td class="actions">
                <button onClick={() => setOpen(p.email)} aria-label={`Open ${p.email}`}>Open</button>
                <button onClick={() => act(p, 'unlock')} aria-label={`Unlock ${p.email}`}>Unlock</button>
                {p.disabled
                  ? <button onClick={() => act(p, 'enable')} aria-label={`Enable ${p.email}`}>Enable</button>
                  : <button onClick={() => act(p, 'disable')} aria-label={`Disable ${p.email}`}>Disable</button>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && data.people.length === 100 && <p class="meta">Showing the first 100; narrow the search.</p>}
    </section>
  )
}

function AddPerson({ scope, onAdded }: { scope: Scope; onAdded: (email: string) => void }) {
  const [f, setF] = useState({ email: '', name: '', org: scope.orgs[0]?.name ?? '', role: '', password: '' })
  const [error, setError] = useState('')
  const set = (k: keyof typeof f) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value })
  async function submit(e: Event) {
    e.preventDefault()
    try { const p = await admin.addPerson(f); onAdded(p.email) } catch (e) { setError(errorText(e)) }
  }
  return (
    <form class="card-form" onSubmit={submit} aria-label="Add a person">
      <label for="np-email">Email address</label><input id="np-email" type="email" required value={f.email} onInput={set('email')} />
      <label for="np-name">Name</label><input id="np-name" type="text" required value={f.name} onInput={set('name')} />
      <label for="np-org">Organisation</label>
      <select id="np-org" value={f.org} onChange={set('org')}>{scope.orgs.map((o) => <option key={o.id} value={o.name}>{o.name}</option>)}</select>
      <label for="np-role">Role</label><input id="np-role" type="text" value={f.role} onInput={set('role')} />
      <label for="np-pw">First password</label>
      <input id="np-pw" type="password" autocomplete="new-password" value={f.password} onInput={set('password')} aria-describedby="np-pw-hint" />
      <p id="np-pw-hint" class="meta">At least 10 characters. Leave empty to set it later.</p>
      {error && <p class="error" role="alert">{error}</p>}
      <button type="submit" class="primary">Add</button>
    </form>
  )
}

export const disabledText = (email: string, disabled: boolean) => disabled
  ? `${email} is disabled: they cannot sign in, their web sessions have ended and mail to them is refused.`
  : `${email} is enabled: they can sign in again.`
