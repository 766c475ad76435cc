import { useEffect, useState } from 'preact/hooks'
import { admin, errorText } from '../api'
import { People } from './People'
import { Lockouts } from './Lockouts'
import { Lists } from './Lists'
import { Moderation } from './Moderation'
import { Storms } from './Storms'
import { Quarantine } from './Quarantine'
import { Trace } from './Trace'
import { Queue } from './Queue'
import { Audit } from './Audit'
import { TlsReports } from './TlsReports'
import { console_, n } from './api'
import './console.css'

// The administrators' console. Every action goes through the admin API
// (/api/v1/admin/...), the same store calls as the CLI; the server scopes
// each call to the administrator's organisations.
const areas = ['People', 'Lockouts', 'Lists', 'Moderation', 'Quarantine', 'Storms', 'Queue', 'Trace', 'Audit', 'TLS reports'] as const
type Area = typeof areas[number]

export interface Scope { national: boolean; orgs: { id: number; name: string; people: number }[] }

export function Admin() {
  const [area, setArea] = useState<Area>('People')
  const [scope, setScope] = useState<Scope | null>(null)
  const [error, setError] = useState('')
  const [openList, setOpenList] = useState('')
  // nav remounts the area when its tab is chosen (back to its first view);
  // changes makes the drift alerts look again after a list changed.
  const [nav, setNav] = useState(0)
  const [changes, setChanges] = useState(0)
  useEffect(() => { admin.scope().then(setScope).catch((e) => setError(errorText(e))) }, [])
  const open = (address: string) => { setArea('Lists'); setOpenList(address) }

  return (
    <section class="admin" aria-labelledby="admin-title">
      <div class="admin-head">
        <h2 id="admin-title">Administration</h2>
        {scope && <p class="meta">{scope.national ? 'National administrator: every organisation' : `Local administrator: ${scope.orgs.map((o) => o.name).join(', ')}`}</p>}
      </div>
      <nav class="admin-nav" aria-label="Administration areas">
        {areas.filter((a) => a !== 'Queue' || scope?.national).map((a) => (
          <button key={a} class={a === area ? 'current' : ''} aria-current={a === area ? 'page' : undefined} onClick={() => { setArea(a); setOpenList(''); setNav(nav + 1) }}>{a}</button>
        ))}
      </nav>
      {error && <p class="error" role="alert">{error}</p>}
      {scope && <DriftAlerts refresh={[area, openList, changes]} onOpen={open} />}
      {scope && (
        <div class="admin-body" key={nav}>
          {area === 'People' && <People scope={scope} />}
          {area === 'Lockouts' && <Lockouts scope={scope} />}
          {area === 'Lists' && <Lists scope={scope} open={openList} onOpen={setOpenList} onChanged={() => setChanges((c) => c + 1)} />}
          {area === 'Moderation' && <Moderation />}
          {area === 'Quarantine' && <Quarantine scope={scope} />}
          {area === 'Storms' && <Storms scope={scope} />}
          {area === 'Queue' && <Queue />}
          {area === 'Trace' && <Trace />}
          {area === 'Audit' && <Audit scope={scope} />}
          {area === 'TLS reports' && <TlsReports />}
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

// DriftAlerts stands above every area while a list has grown past its
// approved size (or was suspended for it), until administrators approve it
// again: the table alone is too easy to miss (DESIGN: "alerts admins").
function DriftAlerts({ refresh, onOpen }: { refresh: unknown[]; onOpen: (address: string) => void }) {
  const { data } = useLoad(() => console_.lists({ alert: true, limit: 1000 }), refresh)
  const drifted = data?.lists ?? []
  if (!drifted.length) return null
  return (
    <section class="drift-alerts" aria-labelledby="drift-title">
      <h3 id="drift-title">Lists past their approved size</h3>
      <ul>
        {drifted.map((l) => (
          <li key={l.id}>
            <strong>{l.address}</strong> has {n(l.size)} members; {n(l.approved_size)} were approved. {l.suspended ? 'Posting is suspended' : 'Posting stops at its next post'} until
            {' '}{l.needs_approvals === 1 ? 'a national administrator approves' : `${l.needs_approvals} national administrators approve`} it again.
            {' '}<button onClick={() => onOpen(l.address)} aria-label={`Review ${l.address}`}>Review</button>
          </li>
        ))}
      </ul>
    </section>
  )
}
