// The JSON API (docs/openapi.yaml). Every call goes through call(), which
// adds the CSRF token to unsafe methods and turns problem+json answers into
// ApiError with the server's sentence.

export interface Person { email: string; name: string; org: string; role?: string }
export interface SessionInfo { person: Person; csrf: string; expires: string; idleSeconds: number; admin: boolean }
export interface Folder { id: number; name: string; role?: string; total: number; unread: number }
export interface Address { name?: string; email: string }
export interface Item {
  uid: number; folder?: number; date: string; from: Address[]; to: Address[]; subject: string
  seen: boolean; flagged: boolean; answered: boolean; draft: boolean; size: number; hasAttachment: boolean; thread: string
}
export interface Attachment { part: string; filename: string; type: string; size: number }
export interface ReadView extends Item {
  folder: number; cc: Address[]; replyTo: Address[]; messageId: string; inReplyTo?: string; references?: string[]
  text: string; hasHtml: boolean; bodyUrl: string; remoteImages: number; attachments: Attachment[]
  replyAll: { allowed: boolean; reason?: string; until?: string }
}
export interface Page { total: number; offset: number; messages: Item[]; complete?: boolean }
export interface Moved { folder: number; uids: number[]; undo?: { folder: number; uids: number[]; to: number }; deleted?: number }
export interface Suggestion { name: string; email: string; org: string; role?: string }
export interface Compose {
  to: string[]; cc: string[]; bcc: string[]; subject: string; text: string
  inReplyTo?: string; references?: string[]; attachments?: string[]; draft?: number
}
// Audience is what POST /api/v1/audience answers (submit.Audience).
export interface Audience {
  people: number; organisations: { name: string; people: number }[]; warnings: string[]
  blocked: { code: number; enhanced: string; reason: string } | null
  needs_confirmation: boolean; confirm_above: number
  lists: { address: string; name: string; size: number; verdict: string; reason?: string }[]
}

export class ApiError extends Error {
  constructor(public status: number, message: string, public field?: string, public until?: string, public type?: string) {
    super(message)
  }
}

let csrf = ''
export function setCsrf(token: string) { csrf = token }

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
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
  search: (q: string, offset: number, limit: number) =>
    call<Page>('GET', `/api/v1/search?q=${encodeURIComponent(q)}&offset=${offset}&limit=${limit}`),
  read: (folder: number, uid: number) => call<ReadView>('GET', `/api/v1/folders/${folder}/messages/${uid}`),
  flags: (folder: number, uids: number[], add: string[], remove: string[]) =>
    call<void>('POST', '/api/v1/messages/flags', { folder, uids, add, remove }),
  move: (folder: number, uids: number[], to: number) => call<Moved>('POST', '/api/v1/messages/move', { folder, uids, to }),
  remove: (folder: number, uids: number[]) => call<Moved>('POST', '/api/v1/messages/delete', { folder, uids }),
  archive: (folder: number, uids: number[]) => call<Moved>('POST', '/api/v1/messages/archive', { folder, uids }),
  send: (c: Compose) => call<{ id: string; recipients: number }>('POST', '/api/v1/send', c),
  saveDraft: (c: Compose) => call<{ folder: number; uid: number; saved: string }>('PUT', '/api/v1/drafts', c),
  deleteDraft: (uid: number) => call<void>('DELETE', `/api/v1/drafts/${uid}`),
  suggest: (q: string) => call<{ people: Suggestion[] }>('GET', `/api/v1/directory/suggest?q=${encodeURIComponent(q)}`),
  // The audience endpoint arrives with distribution lists; until then it
  // answers 404 and compose sends without an audience step.
  audience: (c: Compose) => call<Audience>('POST', '/api/v1/audience', { to: c.to, cc: c.cc, bcc: c.bcc }),
  appPasswords: () => call<unknown>('GET', '/api/v1/settings/app-passwords'),
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
