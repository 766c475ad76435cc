import { useEffect, useState } from 'preact/hooks'
import { AuditEntry, errorText, formatDate } from '../api'
import { Scope } from './Admin'
import { AuditFilter, console_ } from './api'

const empty: AuditFilter = { actor: '', action: '', target: '', since: '', until: '' }
// The browser's date-time fields are local time; the server takes RFC 3339.
const iso = (local: string) => (local ? new Date(local).toISOString() : '')

// The audit trail, newest first, filtered by who acted, the action (a
// prefix: "list." is every list action), the target and a time range, 50
// entries a page. Local administrators see the entries about their
// organisations' people and lists (the server decides).
export function Audit({ scope }: { scope: Scope }) {
  const [f, setF] = useState<AuditFilter>(empty)
  const [entries, setEntries] = useState<AuditEntry[] | null>(null)
  const [next, setNext] = useState<number | undefined>()
  const [shown, setShown] = useState<AuditFilter>(empty)
  const [error, setError] = useState('')

  async function load(filter: AuditFilter, before?: number) {
    setError('')
    try {
      const r = await console_.audit({ ...filter, since: iso(filter.since), until: iso(filter.until) }, before)
      setEntries(before ? [...(entries ?? []), ...r.entries] : r.entries)
      setNext(r.next_before)
      setShown(filter)
    } catch (e) { setError(errorText(e)) }
  }
  useEffect(() => { load(empty) }, [])

  const field = (k: keyof AuditFilter, label: string, type = 'text', placeholder = '') => (
    <label>{label}<input type={type} value={f[k]} placeholder={placeholder} onInput={(e) => setF({ ...f, [k]: (e.target as HTMLInputElement).value })} /></label>
  )
  const active = Object.entries(shown).filter(([, v]) => v).map(([k, v]) => `${k} ${v}`)
  return (
    <section aria-labelledby="audit-title">
      <h3 id="audit-title">Audit trail</h3>
      {!scope.national && <p id="audit-scope">Entries about the people and lists of {scope.orgs.map((o) => o.name).join(', ')}. Entries that concern no single organisation (purges, storms, settings), or written before entries recorded their organisation, are for national administrators.</p>}
      <form class="audit-filters" aria-label="Filter the audit trail" onSubmit={(e) => { e.preventDefault(); load(f) }}>
        {field('actor', 'Who', 'text', 'an address, breaker, cli:…')}
        {field('action', 'Action starts with', 'text', 'list.')}
        {field('target', 'Target', 'text', 'an address or list')}
        {field('since', 'From', 'datetime-local')}
        {field('until', 'Until', 'datetime-local')}
        <div class="inline-form">
          <button type="submit" class="primary">Show</button>
          <button type="button" onClick={() => { setF(empty); load(empty) }}>Clear</button>
        </div>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {entries && <p class="meta" role="status">{entries.length} entr{entries.length === 1 ? 'y' : 'ies'} shown{active.length ? `, where ${active.join(', ')}` : ''}{next ? '; there are older ones' : ''}.</p>}
      <table class="grid">
        <caption class="sr-only">Audit entries, newest first</caption>
        <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Detail</th></tr></thead>
        <tbody>
          {entries?.length === 0 && <tr><td colSpan={5}>No entries match.</td></tr>}
          {entries?.map((e) => (
            <tr key={e.id}><td>{formatDate(e.at, true)}</td><td>{e.actor}</td><td>{e.action}</td><td>{e.target}</td><td class="detail">{detailText(e.detail)}</td></tr>
          ))}
        </tbody>
      </table>
      {next && <button onClick={() => load(shown, next)}>Show older entries</button>}
    </section>
  )
}

// detailText writes an entry's detail (JSON) as words: "role: national,
// org id: 0" rather than {"role":"national","org_id":0}.
export function detailText(detail: string): string {
  let v: unknown
  try { v = JSON.parse(detail) } catch { return detail }
  const words = (x: unknown): string => {
    if (Array.isArray(x)) return x.map(words).join(', ')
    if (x && typeof x === 'object') return Object.entries(x).map(([k, y]) => `${k.replace(/_/g, ' ')}: ${words(y)}`).join('; ')
    if (x === true) return 'yes'
    if (x === false) return 'no'
    return x === null || x === undefined || x === '' ? '—' : String(x)
  }
  return words(v)
}
