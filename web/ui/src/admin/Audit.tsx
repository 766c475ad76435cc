import { useState } from 'preact/hooks'
import { admin, formatDate } from '../api'
import { Scope, useLoad } from './Admin'

export function Audit({ scope }: { scope: Scope }) {
  const [action, setAction] = useState('')
  const [target, setTarget] = useState('')
  const [q, setQ] = useState({ action: '', target: '' })
  const { data, error } = useLoad(() => scope.national ? admin.audit(q.action, q.target) : Promise.resolve({ entries: [] }), [q])
  if (!scope.national) return <p>The audit trail is open to national administrators.</p>
  return (
    <section aria-labelledby="audit-title">
      <h3 id="audit-title">Audit trail</h3>
      <form class="inline-form" onSubmit={(e) => { e.preventDefault(); setQ({ action, target }) }}>
        <label for="audit-action">Action starts with</label>
        <input id="audit-action" type="text" placeholder="signin." value={action} onInput={(e) => setAction((e.target as HTMLInputElement).value)} />
        <label for="audit-target">Target</label>
        <input id="audit-target" type="text" placeholder="an address or list" value={target} onInput={(e) => setTarget((e.target as HTMLInputElement).value)} />
        <button type="submit">Show</button>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      <table class="grid">
        <caption class="sr-only">Audit entries, newest first</caption>
        <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Detail</th></tr></thead>
        <tbody>
          {data?.entries.map((e) => (
            <tr key={e.id}><td>{formatDate(e.at, true)}</td><td>{e.actor}</td><td>{e.action}</td><td>{e.target}</td><td class="detail">{e.detail}</td></tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}
