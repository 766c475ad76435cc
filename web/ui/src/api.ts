// The JSON API (docs/openapi.yaml). Every call goes through call(), which
// adds the CSRF token to unsafe methods and turns problem+json answers into
// ApiError with the server's sentence.

export interface Person { email: string; name: string; org: string; role?: string }
export interface SessionInfo { person: Person; csrf: string; expires: string; idleSeconds: number; admin: boolean; totpSetupNeeded?: boolean }
export interface Folder { id: number; name: string; role?: string; total: number; unread: number }
export interface Address { name?: string; email: string }
export interface Item {
  uid: number; folder?: number; date: string; from: Address[]; to: Address[]; subject: string
  seen: boolean; flagged: boolean; answered: boolean; draft: boolean; size: number; hasAttachment: boolean; thread: string
  // Conversation rows only: its size, unread messages and UIDs (newest first).
  count?: number; unread?: number; uids?: number[]
}
export interface Attachment { part: string; filename: string; type: string; size: number }
export interface ReadView extends Item {
  folder: number; cc: Address[]; replyTo: Address[]; messageId: string; inReplyTo?: string; references?: string[]
  text: string; hasHtml: boolean; bodyUrl: string; remoteImages: number; attachments: Attachment[]
  replyAll: { allowed: boolean; reason?: string; until?: string }
  // Where the message came from (Wardmail-Origin): outside mail gets a
  // banner, a stronger one for look-alike senders and Junk.
  origin?: { outside: boolean; lookAlike?: string; junk?: string; banner?: string; strong?: boolean }
}
export interface Page { total: number; offset: number; messages: Item[]; complete?: boolean }
export interface Moved { folder: number; uids: number[]; undo?: { folder: number; uids: number[]; to: number }; deleted?: number }
export interface Suggestion { name: string; email: string; org?: string; role?: string; size?: number; suspended?: boolean; list?: boolean }
export interface ListSuggestion { name: string; email: string; size: number; suspended?: boolean }
// PartRef names an attachment of a message the person can read (a
// forwarded message's, or the draft's own); PartInfo adds what the composer shows.
export interface PartRef { folder: number; uid: number; part: string }
export interface PartInfo extends PartRef { filename: string; type: string; size: number }
export interface Compose {
  to: string[]; cc: string[]; bcc: string[]; subject: string; text: string
  inReplyTo?: string; references?: string[]; attachments?: string[]; draft?: number
}
// What the composer starts from: a message, with attachments of other messages.
export interface ComposeStart extends Compose { parts?: PartInfo[] }
export interface Draft extends ComposeStart { folder: number; uid: number; parts: PartInfo[] }
// Audience is what POST /api/v1/audience answers (submit.Audience).
export interface Audience {
  people: number; organisations: { name: string; people: number }[]; warnings: string[]
  blocked: { code: number; enhanced: string; reason: string } | null
  needs_confirmation: boolean; confirm_above: number
  lists: { address: string; name: string; size: number; verdict: string; reason?: string; via?: string }[]
  unknown?: string[]; external?: string[]
}
// Sent is what POST /api/v1/send answers: people is how many it reached
// after list expansion, lists the lists among the recipients, held those
// where it waits for moderators.
export interface Sent { id: string; recipients: number; people?: number; lists?: string[]; held?: string[] }

export class ApiError extends Error {
  constructor(public status: number, message: string, public field?: string, public until?: string, public type?: string) {
    super(message)
  }
}

let csrf = ''
export function setCsrf(token: string) { csrf = token }

export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {}
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf
  let resp: Response
  try {
    resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' })
  } catch {
    throw new ApiError(0, 'The mail server cannot be reached. Check the network connection and try again.')
  }
  if (resp.status === 204) return undefined as T
  const ct = resp.headers.get('Content-Type') || ''
  if (!resp.ok) {
    if (ct.includes('json')) {
      const p = await resp.json()
      throw new ApiError(resp.status, p.detail || resp.statusText, p.field, p.until, p.type)
    }
    throw new ApiError(resp.status, `The server answered ${resp.status} ${resp.statusText}.`)
  }
  return (await resp.json()) as T
}

export const api = {
  session: () => call<SessionInfo>('GET', '/api/v1/session'),
  signIn: (email: string, password: string, totp?: string) =>
    call<SessionInfo>('POST', '/api/v1/session', totp ? { email, password, totp } : { email, password }),
  signOut: () => call<void>('DELETE', '/api/v1/session'),
  signOutEverywhere: () => call<{ ended: number }>('POST', '/api/v1/sessions/revoke-all'),
  sessions: () => call<{ sessions: { current: boolean; created: string; lastSeen: string; remote: string; agent: string }[] }>('GET', '/api/v1/sessions'),
  folders: () => call<{ folders: Folder[] }>('GET', '/api/v1/folders'),
  list: (folder: number, offset: number, limit: number) =>
    call<Page>('GET', `/api/v1/folders/${folder}/messages?offset=${offset}&limit=${limit}`),
  conversations: (folder: number, offset: number, limit: number) =>
    call<Page>('GET', `/api/v1/folders/${folder}/conversations?offset=${offset}&limit=${limit}`),
  conversation: (folder: number, uid: number) => call<{ count: number; messages: Item[] }>('GET', `/api/v1/folders/${folder}/conversations/${uid}`),
  search: (q: string, offset: number, limit: number) =>
    call<Page>('GET', `/api/v1/search?q=${encodeURIComponent(q)}&offset=${offset}&limit=${limit}`),
  read: (folder: number, uid: number) => call<ReadView>('GET', `/api/v1/folders/${folder}/messages/${uid}`),
  flags: (folder: number, uids: number[], add: string[], remove: string[]) =>
    call<void>('POST', '/api/v1/messages/flags', { folder, uids, add, remove }),
  move: (folder: number, uids: number[], to: number) => call<Moved>('POST', '/api/v1/messages/move', { folder, uids, to }),
  remove: (folder: number, uids: number[]) => call<Moved>('POST', '/api/v1/messages/delete', { folder, uids }),
  archive: (folder: number, uids: number[]) => call<Moved>('POST', '/api/v1/messages/archive', { folder, uids }),
  send: (c: Compose & { parts: PartRef[] }) => call<Sent>('POST', '/api/v1/send', c),
  saveDraft: (c: Compose & { parts: PartRef[] }) => call<{ folder: number; uid: number; saved: string; parts: PartRef[] }>('PUT', '/api/v1/drafts', c),
  draft: (uid: number) => call<Draft>('GET', `/api/v1/drafts/${uid}`),
  deleteDraft: (uid: number) => call<void>('DELETE', `/api/v1/drafts/${uid}`),
  suggest: (q: string) => call<{ people: Suggestion[]; lists?: ListSuggestion[] }>('GET', `/api/v1/directory/suggest?q=${encodeURIComponent(q)}`),
  // The audience endpoint arrives with distribution lists; until then it
  // answers 404 and compose sends without an audience step.
  audience: (c: Compose) => call<Audience>('POST', '/api/v1/audience', { to: c.to, cc: c.cc, bcc: c.bcc }),
  appPasswords: () => call<{ app_passwords: AppPassword[] }>('GET', '/api/v1/settings/app-passwords'),
  createAppPassword: (name: string, scopes: string[]) =>
    call<{ app_password: AppPassword; password: string }>('POST', '/api/v1/settings/app-passwords', { name, scopes }),
  revokeAppPassword: (id: number) => call<void>('DELETE', `/api/v1/settings/app-passwords/${id}`),
  totp: () => call<TotpStatus>('GET', '/api/v1/settings/totp'),
  // With two-step sign-in on, enrolling a new phone needs a code from the
  // current app or a recovery code; the current app stays in force until the
  // new one is confirmed.
  totpEnrol: (code?: string) => call<{ secret: string; uri: string; account: string; issuer: string }>('POST', '/api/v1/settings/totp', code ? { code } : {}),
  totpConfirm: (code: string) => call<{ enabled: boolean; recovery_codes: string[] }>('POST', '/api/v1/settings/totp/confirm', { code }),
  totpDisable: (code: string) => call<void>('POST', '/api/v1/settings/totp/disable', { code }),
  recoveryCodes: (code: string) => call<{ recovery_codes: string[] }>('POST', '/api/v1/settings/recovery-codes', { code }),
}

export interface AppPassword { id: number; name: string; scopes: string[]; created_at: string; last_used_at?: string; last_used_from?: string }
export interface TotpStatus { enabled: boolean; required: boolean; recovery_codes_left: number }

// The administrators' console (docs/openapi.yaml, /api/v1/admin/...): the
// same calls the CLI's commands make, scoped on the server. List editing,
// people's pages, the audit trail and trace are in admin/api.ts.
export interface AdminPerson { email: string; name: string; org: string; role?: string; site?: string; disabled: boolean; can_sign_in: boolean }
export interface Lock { account: string; source: string; familiar: boolean; failures: number; locks: number; locked_at: string; locked_until: string; name?: string; org?: string }
export interface List {
  id: number; address: string; name: string; kind: string; rule?: string; scope?: string; policy: string; effective_policy: string
  size: number; approved_size: number; suspended: boolean; owners: string[]; needs_approvals: number; approvals?: { admin: string; size: number; at: string }[]
}
// Held: list is whose moderators decide; post_to the list the post goes to
// once approved (list itself, or a list it is inside); waiting the other
// lists inside post_to whose moderators have still to approve.
export interface Held { id: number; list: string; post_to: string; waiting?: string[]; sender: string; subject: string; reason: string; state: string; at: string; expires: string }
export interface StormRules {
  min_audience: number
  threshold: number
  window_minutes: number
  block_hours: number
  brake_from: number
  brake_delay_minutes: number
}

export interface StormThread {
  thread: string; subject: string; original_sender: string; audience: number; replies: number; braked: number; blocked: number
  replies_window: number; state: string; first_at: string; last_at: string; blocked_until?: string; blocked_by?: string
}
export interface QueueDomain {
  domain: string; queued: number; held: number; deferred: number; oldest: string; next_attempt: string
  failures: number; last_error?: string; last_attempt: string
}
export interface QueuedRecipient { id: number; recipient: string; domain: string; state: string; attempts: number; last_reply?: string; mx?: string; tls?: string }
export interface QueuedMessage { queue_id: string; message_id: string; subject: string; sender: string; size: number; created_at: string; recipients: QueuedRecipient[] }
export interface AuditEntry { id: number; at: string; actor: string; action: string; target: string; detail: string }

const enc = encodeURIComponent
export const admin = {
  scope: () => call<{ national: boolean; orgs: { id: number; name: string; people: number }[] }>('GET', '/api/v1/admin/scope'),
  people: (q: string) => call<{ people: AdminPerson[] }>('GET', `/api/v1/admin/people?q=${enc(q)}&limit=100`),
  addPerson: (p: { email: string; name: string; org: string; role: string; password: string }) => call<AdminPerson>('POST', '/api/v1/admin/people', p),
  setDisabled: (email: string, disabled: boolean) => call<AdminPerson>('POST', `/api/v1/admin/people/${enc(email)}/${disabled ? 'disable' : 'enable'}`, {}),
  resetPassword: (email: string, password: string) => call<AdminPerson>('POST', `/api/v1/admin/people/${enc(email)}/password`, { password }),
  lockouts: () => call<{ incident: boolean; locks: Lock[] }>('GET', '/api/v1/admin/lockouts'),
  unlock: (body: { accounts?: string[]; all_locked_since?: string }) => call<{ unlocked: string[]; locks_ended: number }>('POST', '/api/v1/admin/unlock', body),
  incident: (on: boolean) => call<{ incident: boolean }>('PUT', '/api/v1/admin/incident', { on }),
  lists: () => call<{ lists: List[] }>('GET', '/api/v1/admin/lists'),
  createList: (l: { address: string; name: string; rule?: string; scope?: string; members?: string[]; policy?: string }) => call<List>('POST', '/api/v1/admin/lists', l),
  previewList: (l: { rule?: string; scope?: string; members?: string[] }) =>
    call<{ people: number; organisations: { name: string; people: number }[]; notes: string[] }>('POST', '/api/v1/admin/lists/preview', l),
  held: () => call<{ held: Held[] }>('GET', '/api/v1/admin/held'),
  moderate: (id: number, approve: boolean, reason: string) => call<Held>('POST', `/api/v1/admin/held/${id}`, { approve, reason }),
  storms: () => call<{ threads: StormThread[]; at: string; rules?: StormRules }>('GET', '/api/v1/admin/storms'),
  storm: (thread: string, action: 'block' | 'unblock') => call<StormThread>('POST', `/api/v1/admin/storms/${enc(thread)}/${action}`, {}),
  purge: (thread: string) => call<{ mailboxes?: number; pending?: number }>('POST', '/api/v1/admin/purge', { thread }),
  queue: () => call<{ domains: QueueDomain[]; messages: QueuedMessage[]; at: string }>('GET', '/api/v1/admin/queue'),
  queueDomain: (domain: string, action: 'retry' | 'hold' | 'release' | 'delete') =>
    call<{ action: string; recipients: number }>('POST', `/api/v1/admin/queue/domains/${enc(domain)}/${action}`, {}),
}

// upload sends a file with progress (fetch has no upload progress).
export function upload(file: File, onProgress: (fraction: number) => void): Promise<{ id: string; filename: string; size: number }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', `/api/v1/uploads?filename=${encodeURIComponent(file.name)}`)
    xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream')
    xhr.setRequestHeader('X-CSRF-Token', csrf)
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total) }
    xhr.onload = () => {
      let body: any = {}
      try { body = JSON.parse(xhr.responseText) } catch { /* not JSON */ }
      if (xhr.status === 201) resolve(body)
      else reject(new ApiError(xhr.status, body.detail || `Upload failed (${xhr.status}).`))
    }
    xhr.onerror = () => reject(new ApiError(0, 'The upload was interrupted. Check the connection and try again.'))
    xhr.send(file)
  })
}

export function who(list: Address[]): string {
  return list.map((a) => a.name || a.email).join(', ')
}

export function formatDate(iso: string, full = false): string {
  const d = new Date(iso)
  const now = new Date()
  if (full) return d.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' })
  if (d.toDateString() === now.toDateString()) return d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' })
  if (d.getFullYear() === now.getFullYear()) return d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short' })
  return d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric' })
}

export interface Trace {
  id: number; queue_id: string; message_id: string; thread_id: string; subject: string; sender: string; at: string
  audience: number; lists: string[]; direct: number; state: string; materialised: number; pending: number; held: number
}

// errorText is what a failed call shows: the server's sentence.
export function errorText(e: unknown): string { return e instanceof Error ? e.message : String(e) }
