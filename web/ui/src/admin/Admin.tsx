import { useEffect, useState } from 'preact/hooks'
import { admin, errorText } from '../api'
import { People } from './People'
import { Lockouts } from './Lockouts'
import { Lists } from './Lists'
import { Moderation } from './Moderation'
import { Storms } from './Storms'
import { Trace } from './Trace'
import { Audit } from './Audit'

// The administrators' console. Every action goes through the admin API
// (/api/v1/admin/...), the same store calls as the CLI; the server scopes
// each call to the administrator's organisations.
const areas = ['People', 'Lockouts', 'Lists', 'Moderation', 'Storms', 'Trace', 'Audit'] as const
type Area = typeof areas[number]

export interface Scope { national: boolean; orgs: { id: number; name: string; people: number }[] }

export function Admin() {
  const [area, setArea] = useState<Area>('People')
  const [scope, setScope] = useState<Scope | null>(null)
  const [error, setError] = useState('')
  useEffect(() => { admin.scope().then(setScope).catch((e) => setError(errorText(e))) }, [])

  return (
    <section class="admin" aria-labelledby="admin-title">
      <div class="admin-head">
        <h2 id="admin-title">Administration</h2>
        {scope && <p class="meta">{scope.national ? 'National administrator: every organisation' : `Local administrator: ${scope.orgs.map((o) => o.name).join(', ')}`}</p>}
      </div>
      <nav class="admin-nav" aria-label="Administration areas">
        {areas.map((a) => (
          <button key={a} class={a === area ? 'current' : ''} aria-current={a === area ? 'page' : undefined} onClick={() => setArea(a)}>{a}</button>
        ))}
      </nav>
      {error && <p class="error" role="alert">{error}</p>}
      {scope && (
        <div class="admin-body">
          {area === 'People' && <People scope={scope} />}
          {area === 'Lockouts' && <Lockouts scope={scope} />}
          {area === 'Lists' && <Lists scope={scope} />}
          {area === 'Moderation' && <Moderation />}
          {area === 'Storms' && <Storms scope={scope} />}
          {area === 'Trace' && <Trace />}
          {area === 'Audit' && <Audit scope={scope} />}
        </div>
      )}
    </section>
  )
}

// useLoad runs a loader now and whenever reload() is called.
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []): { data: T | null; error: string; reload: () => void; setError: (s: string) => void } {
  const [data, setData] = useState<T | null>(null)
  const [error, setError] = useState('')
  const [n, setN] = useState(0)
  useEffect(() => { load().then((d) => { setData(d); setError('') }).catch((e) => setError(errorText(e))) }, [n, ...deps])
  return { data, error, reload: () => setN((x) => x + 1), setError }
}
