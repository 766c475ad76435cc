// The console's own calls (docs/openapi.yaml, /api/v1/admin/...) beyond
// the ones in ../api: list editing, a person's detail, the audit trail's
// filters and the trace's history. Same call() and problem+json handling.
import { call, Held, List, Lock, AdminPerson, AuditEntry, Trace } from '../api'

const enc = encodeURIComponent

export interface ListDetail extends List {
  senders?: string[]; members: string[]; sublists: string[]; held: Held[]
  drifted: boolean; approvals_missing: number
}
export interface PersonDetail extends AdminPerson {
  lists: { address: string; name: string; member: boolean; owner: boolean }[]
  locks: Lock[]; last_sign_in?: string; last_sign_in_from?: string
}
export interface AuditFilter { actor: string; action: string; target: string; since: string; until: string }
export interface TraceHistory extends Trace {
  moderation: { list: string; reason: string; state: string; decision?: string; decided_by?: string; at: string; decided_at?: string }[]
  purged?: { by: string; at: string; target: string }
}

// What a purge removes (or, with dry_run, would remove).
export interface PurgeResult {
  submissions: number; posts: number; pending: number; removed: number; mailboxes: number; touched: number
  held: number; sender_copies: number; sender_mailboxes: number; dry_run?: boolean
}
// A message in the quarantine, with the recipients the administrator sees.
export interface Quarantined {
  id: number; queue_id: string; sender: string; subject: string; verdict: string; reason: string; created: string; size: number
  recipients: { address: string; state: 'held' | 'released' | 'deleted'; decided_by?: string; decided_at?: string }[]
}

// A TLS report (RFC 8460) received about one of our domains.
export interface TlsReport {
  id: number; received_at: string; organization: string; report_id: string
  start: string; end: string; policy_domain: string; successes: number; failures: number
}

export interface ListPage { lists: List[]; total: number; offset: number; limit: number; next_offset?: number }

const path = (address: string) => `/api/v1/admin/lists/${enc(address)}`

export const console_ = {
  list: (address: string) => call<ListDetail>('GET', path(address)),
  setPolicy: (address: string, policy: string, senders?: string[]) => call<ListDetail>('PUT', `${path(address)}/policy`, { policy, senders }),
  addMembers: (address: string, members: string[]) => call<ListDetail>('POST', `${path(address)}/members`, { members }),
  removeMembers: (address: string, members: string[]) => call<ListDetail>('DELETE', `${path(address)}/members`, { members }),
  setRule: (address: string, rule: string, scope: string) => call<ListDetail>('PUT', `${path(address)}/rule`, { rule, scope }),
  setOwners: (address: string, owners: string[]) => call<ListDetail>('PUT', `${path(address)}/owners`, { owners }),
  approve: (address: string) => call<ListDetail>('POST', `${path(address)}/approve`, {}),
  deleteList: (address: string) => call<void>('DELETE', path(address)),
  person: (email: string) => call<PersonDetail>('GET', `/api/v1/admin/people/${enc(email)}`),
  audit: (f: AuditFilter, before?: number) => {
    const q = new URLSearchParams({ limit: '50' })
    for (const [k, v] of Object.entries(f)) if (v.trim()) q.set(k, v.trim())
    if (before) q.set('before', String(before))
    return call<{ entries: AuditEntry[]; next_before?: number }>('GET', `/api/v1/admin/audit?${q}`)
  },
  purge: (thread: string, dryRun: boolean) => call<PurgeResult>('POST', '/api/v1/admin/purge', { thread, dry_run: dryRun }),
  lists: (q: { q?: string; offset?: number; limit?: number; alert?: boolean }) => {
    const p = new URLSearchParams()
    if (q.q?.trim()) p.set('q', q.q.trim())
    if (q.offset) p.set('offset', String(q.offset))
    if (q.limit) p.set('limit', String(q.limit))
    if (q.alert) p.set('alert', '1')
    return call<ListPage>('GET', `/api/v1/admin/lists?${p}`)
  },
  quarantine: (all: boolean) => call<{ messages: Quarantined[] }>('GET', `/api/v1/admin/quarantine${all ? '?all=1' : ''}`),
  releaseQuarantined: (id: number) => call<{ recipients: string[] }>('POST', `/api/v1/admin/quarantine/${id}/release`, {}),
  deleteQuarantined: (id: number) => call<{ recipients: string[] }>('DELETE', `/api/v1/admin/quarantine/${id}`),
  tlsReports: (domain: string) => call<{ reports: TlsReport[] }>('GET', `/api/v1/admin/tls-reports${domain ? `?domain=${enc(domain)}` : ''}`),
  tlsReport: (id: number) => call<{ report: TlsReport; json: unknown }>('GET', `/api/v1/admin/tls-reports/${id}`),
  trace: (messageId: string) => call<{ messages: TraceHistory[] }>('GET', `/api/v1/admin/trace?message_id=${enc(messageId)}`),
}

// splitAddresses reads a box of addresses separated by commas, spaces or lines.
export const splitAddresses = (s: string) => s.split(/[\s,;]+/).filter(Boolean)
export const n = (x: number) => x.toLocaleString('en-GB')
