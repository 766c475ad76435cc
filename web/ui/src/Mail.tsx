import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { api, ComposeStart, Folder, Item, Moved, ReadView, SessionInfo, ApiError, formatDate } from './api'
import { MessageList, ListSource, itemKey } from './MessageList'
import { Bulk } from './Bulk'
import { Reader } from './Reader'
import { ComposeDialog } from './Compose'
import { Settings } from './Settings'
import { Admin } from './admin/Admin'

type Mode = 'folder' | 'search' | 'settings' | 'admin'
// Pane is what a narrow screen shows: below 768 px one of the three at a
// time (folders, the list, a message); from 768 px to 1099 px the folders,
// or the list beside the message; wider, all three (styles.css decides).
export type Pane = 'folders' | 'list' | 'message'
const phone = () => window.matchMedia('(max-width: 767.98px)').matches
const tablet = () => window.matchMedia('(min-width: 768px) and (max-width: 1099.98px)').matches
const parentOf: Record<Pane, Pane> = { folders: 'folders', list: 'folders', message: 'list' }
type Undo = NonNullable<Moved['undo']>
interface Status { text: string; undo?: Undo[] }

const roleLabel: Record<string, string> = { inbox: 'Inbox', drafts: 'Drafts', sent: 'Sent', archive: 'Archive', junk: 'Junk', trash: 'Trash' }

function quote(v: ReadView): string {
  const from = v.from[0] ? (v.from[0].name || v.from[0].email) : 'someone'
  return `\n\nOn ${formatDate(v.date, true)}, ${from} wrote:\n` + v.text.split('\n').map((l) => '> ' + l).join('\n')
}

const labelOf = (f?: Folder) => (f ? roleLabel[f.role ?? ''] ?? f.name : '')

function prefixed(prefix: string, subject: string): string {
  return subject.toLowerCase().startsWith(prefix.toLowerCase()) ? subject : `${prefix} ${subject}`
}

export function Mail({ session, onSignOut }: { session: SessionInfo; onSignOut: () => void }) {
  const me = session.person.email.toLowerCase()
  const [folders, setFolders] = useState<Folder[]>([])
  const [folder, setFolder] = useState<number>(0)
  const [mode, setMode] = useState<Mode>('folder')
  const [query, setQuery] = useState('')
  const [searchText, setSearchText] = useState('')
  const [version, setVersion] = useState(0)
  const [selected, setSelected] = useState(-1)
  const [item, setItem] = useState<Item | undefined>()
  const [view, setView] = useState<ReadView | null>(null)
  const [thread, setThread] = useState<Item[] | undefined>()
  // Conversation view: one row per conversation; remembered in this browser.
  const [threaded, setThreaded] = useState(() => localStorage.getItem('wardmail.conversations') === 'on')
  const [compose, setCompose] = useState<ComposeStart | null>(null)
  const [status, setStatus] = useState<Status | null>(null)
  // Checked rows (multi-select), by folder:uid.
  const [checked, setChecked] = useState<Map<string, Item>>(new Map())
  const anchor = useRef(-1)
  const [error, setError] = useState('')
  const loadedKey = useRef('')
  const searchBox = useRef<HTMLInputElement>(null)
  const [pane, setPane] = useState<Pane>('list')
  const paneNow = useRef<Pane>('list')
  paneNow.current = pane

  // Each step deeper on a narrow screen is a history entry, so the browser's
  // back (and a phone's back gesture) goes back a pane; depth says how many
  // of the entries are ours, so the back button never leaves the webmail.
  useEffect(() => {
    history.replaceState({ wardmailPane: 'list', depth: 0 }, '')
    const onPop = (e: PopStateEvent) => { setPane(e.state?.wardmailPane ?? 'list') }
    window.addEventListener('popstate', onPop)
    return () => window.removeEventListener('popstate', onPop)
  }, [])
  const go = useCallback((p: Pane) => {
    const from = paneNow.current
    if (p === from) return
    paneNow.current = p
    setPane(p)
    const seen = phone() || (tablet() && (p === 'folders' || from === 'folders'))
    if (seen) history.pushState({ wardmailPane: p, depth: (history.state?.depth ?? 0) + 1 }, '')
  }, [])
  function back() {
    if ((history.state?.depth ?? 0) > 0) { history.back(); return }
    const p = parentOf[paneNow.current]
    paneNow.current = p
    setPane(p)
    history.replaceState({ wardmailPane: p, depth: 0 }, '')
  }

  const fail = useCallback((e: unknown) => {
    if (e instanceof ApiError && e.status === 401) { onSignOut(); return }
    setError(e instanceof Error ? e.message : String(e))
  }, [onSignOut])

  const refreshFolders = useCallback(() => {
    api.folders().then((r) => {
      setFolders(r.folders)
      setFolder((f) => f || (r.folders.find((x) => x.role === 'inbox')?.id ?? 0))
    }).catch(fail)
  }, [fail])

  useEffect(() => {
    refreshFolders()
    const t = window.setInterval(refreshFolders, 30000)
    return () => window.clearInterval(t)
  }, [])

  const source: ListSource = useMemo(() => (mode === 'search'
    ? { key: `s:${query}:${version}`, fetch: (o, l) => api.search(query, o, l),
        folderLabel: (id: number) => labelOf(folders.find((f) => f.id === id)) || 'Folder' }
    : threaded
      ? { key: `c:${folder}:${version}`, fetch: (o, l) => api.conversations(folder, o, l) }
      : { key: `f:${folder}:${version}`, fetch: (o, l) => api.list(folder, o, l) }), [mode, folder, query, version, threaded])

  function toggleThreaded() {
    localStorage.setItem('wardmail.conversations', threaded ? 'off' : 'on')
    setThreaded(!threaded); clearChecked(); setSelected(-1); setItem(undefined); setView(null); setThread(undefined); loadedKey.current = ''
  }
  // The messages an action on the selected row applies to: a conversation's all.
  const uidsOf = (it: Item) => it.uids?.length ? it.uids : [it.uid]

  const folderOf = (it: Item) => it.folder ?? folder

  // The selection as last set, for calls that arrive after it moved on
  // (keys pressed faster than the list renders).
  const selectedNow = useRef(-1)
  selectedNow.current = selected
  const onSelect = useCallback((index: number, it: Item | undefined, moved?: boolean) => {
    if (moved && index !== selectedNow.current) return
    setSelected(index)
    setItem(it)
    if (!it) return
    if (!moved) go('message')
    const key = `${folderOf(it)}:${it.uid}`
    if (key === loadedKey.current) return
    loadedKey.current = key
    setThread(undefined)
    api.read(folderOf(it), it.uid).then((v) => {
      if (loadedKey.current !== key) return
      setView(v)
      // Reading marked it read: count it here rather than ask the server
      // for every folder's counts at each j (the 30 s refresh corrects any drift).
      if (!it.seen) setFolders((fs) => fs.map((f) => (f.id === folderOf(it) ? { ...f, unread: Math.max(0, f.unread - 1) } : f)))
    }).catch(fail)
    if ((it.count ?? 1) > 1) {
      api.conversation(folderOf(it), it.uid).then((t) => { if (loadedKey.current === key) setThread(t.messages) }).catch(fail)
      // Opening a conversation reads all of it, as in Gmail.
      const unread = (it.unread ?? 0) - (it.seen ? 0 : 1)
      if (unread > 0 && it.uids) api.flags(folderOf(it), it.uids, ['seen'], []).then(() => refreshFolders()).catch(fail)
    }
  }, [folder, fail, go])

  function changed(text?: string, undo?: Undo[]) {
    if (text) setStatus({ text, undo: undo?.length ? undo : undefined })
    loadedKey.current = ''
    setView(null)
    setVersion((v) => v + 1)
    refreshFolders()
  }

  const checkedKeys = useMemo(() => new Set(checked.keys()), [checked])
  function onCheck(items: Item[], on: boolean) {
    setChecked((old) => {
      const m = new Map(old)
      for (const it of items) { if (on) m.set(itemKey(it), it); else m.delete(itemKey(it)) }
      return m
    })
  }
  const clearChecked = () => { setChecked(new Map()); anchor.current = -1 }

  // What an action applies to: the checked rows, else the open one; a
  // conversation row stands for all its messages. Grouped by folder (search
  // results span folders), in calls of at most 1,000 messages.
  function targets(): [number, number[]][] {
    const rows = checked.size ? [...checked.values()] : item ? [item] : []
    const byFolder = new Map<number, number[]>()
    for (const it of rows) byFolder.set(folderOf(it), [...(byFolder.get(folderOf(it)) ?? []), ...uidsOf(it)])
    const out: [number, number[]][] = []
    for (const [f, uids] of byFolder) for (let i = 0; i < uids.length; i += 1000) out.push([f, uids.slice(i, i + 1000)])
    return out
  }
  const plural = (n: number) => (n === 1 ? '' : `${n} messages `)

  async function act(kind: 'archive' | 'delete' | 'move', to = 0) {
    const groups = targets()
    if (!groups.length) return
    const undos: Undo[] = []
    let n = 0, gone = 0
    try {
      for (const [f, uids] of groups) {
        const r = kind === 'archive' ? await api.archive(f, uids) : kind === 'move' ? await api.move(f, uids, to) : await api.remove(f, uids)
        if (r.undo) undos.push(r.undo)
        n += uids.length
        gone += r.deleted ?? 0
      }
      if (!checked.size && paneNow.current === 'message') back()
      const where = kind === 'move' ? `moved to ${labelOf(folders.find((x) => x.id === to))}.` : ''
      changed(kind === 'archive' ? `${plural(n)}Archived.` : kind === 'move' ? `${plural(n) || 'Message '}${where}`
        : gone ? `${plural(gone)}Deleted for good.` : `${plural(n)}Moved to Trash.`, undos)
      clearChecked()
    } catch (e) { fail(e); changed() }
  }

  async function undo() {
    const list = status?.undo
    if (!list) return
    try {
      for (const u of list) await api.move(u.folder, u.uids, u.to)
      changed('Undone.')
    } catch (e) { fail(e) }
  }

  async function setFlags(add: string[], remove: string[], text: string) {
    try {
      for (const [f, uids] of targets()) await api.flags(f, uids, add, remove)
      if (view && !checked.size && (add.includes('flagged') || remove.includes('flagged'))) setView({ ...view, flagged: add.includes('flagged') })
      setVersion((v) => v + 1); refreshFolders(); setStatus({ text })
    } catch (e) { fail(e) }
  }
  const toggleFlag = () => { if (checked.size || view) setFlags(!checked.size && view?.flagged ? [] : ['flagged'], !checked.size && view?.flagged ? ['flagged'] : [], checked.size || !view?.flagged ? 'Flagged.' : 'Flag removed.') }
  const markUnread = () => setFlags([], ['seen'], 'Marked as unread.')

  function reply(all: boolean) {
    if (!view) return
    if (all && !view.replyAll.allowed) { setStatus({ text: 'Reply all is turned off for this conversation; reply to the sender instead.' }); return }
    const to = (view.replyTo.length ? view.replyTo : view.from).map((a) => a.email)
    const cc = all ? [...view.to, ...view.cc].map((a) => a.email).filter((e) => e.toLowerCase() !== me && !to.includes(e)) : []
    setCompose({ to, cc, bcc: [], subject: prefixed('Re:', view.subject), text: quote(view),
      inReplyTo: view.messageId, references: [...(view.references ?? []), view.messageId].filter(Boolean) })
  }

  function forward() {
    if (!view) return
    setCompose({ to: [], cc: [], bcc: [], subject: prefixed('Fwd:', view.subject),
      text: `\n\n---------- Forwarded message ----------\nFrom: ${view.from.map((a) => a.email).join(', ')}\nDate: ${formatDate(view.date, true)}\nSubject: ${view.subject}\n\n${view.text}`,
      parts: view.attachments.map((a) => ({ ...a, folder: view.folder, uid: view.uid })) })
  }

  // A draft opens in the composer, as it was saved (attachments included).
  async function openDraft(uid: number) {
    try {
      const d = await api.draft(uid)
      setCompose({ ...d, draft: d.uid })
    } catch (e) { fail(e) }
  }

  const inDrafts = mode === 'folder' && folders.find((f) => f.id === folder)?.role === 'drafts'
  const onOpen = (_: number, it: Item | undefined) => { if (it && inDrafts) openDraft(it.uid) }

  // Opening a folder (again) fetches it afresh.
  function openFolder(id: number) {
    clearChecked()
    setSearchText('') // the box shows what the list shows
    setMode('folder'); setFolder(id); setSelected(-1); setItem(undefined); setView(null); loadedKey.current = ''
    setVersion((v) => v + 1)
    go('list')
  }

  function search(e: Event) {
    e.preventDefault()
    if (!searchText.trim()) { openFolder(folder); return }
    clearChecked()
    setQuery(searchText.trim()); setMode('search'); setSelected(-1); setItem(undefined); setView(null); loadedKey.current = ''
    setVersion((v) => v + 1)
    go('list')
  }

  async function signOut() {
    try { await api.signOut() } catch { /* signed out anyway */ }
    onSignOut()
  }

  // Keyboard shortcuts, as in Gmail and Outlook on the web.
  const total = useRef(0)
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement
      if (compose || e.ctrlKey || e.metaKey || e.altKey || t.closest('input, textarea, select, [contenteditable], [role=dialog]')) return
      const k = e.key
      if (k === 'j' || k === 'ArrowDown' && t.getAttribute('role') === 'listbox') { e.preventDefault(); setSelected((s) => Math.min(total.current - 1, s + 1)) }
      else if (k === 'k' || k === 'ArrowUp' && t.getAttribute('role') === 'listbox') { e.preventDefault(); setSelected((s) => Math.max(0, s - 1)) }
      else if (k === 'r') reply(false)
      else if (k === 'a') reply(true)
      else if (k === 'f') forward()
      else if (k === 'e') act('archive')
      else if (k === '#' || k === 'Delete') act('delete')
      else if (k === 's') toggleFlag()
      else if (k === 'u') markUnread()
      else if (k === 'x' && item) { onCheck([item], !checked.has(itemKey(item))); anchor.current = selected }
      else if (k === 'Escape' && checked.size) clearChecked()
      else if (k === 'z') undo()
      else if (k === 'Enter' && t.getAttribute('role') === 'listbox') onOpen(selected, item)
      else if (k === 'c') setCompose({ to: [], cc: [], bcc: [], subject: '', text: '' })
      else if (k === '/') { e.preventDefault(); searchBox.current?.focus() }
      else return
    }
    document.addEventListener('keydown', onKey)
    return () => document.removeEventListener('keydown', onKey)
  })

  const current = folders.find((f) => f.id === folder)
  const label = mode === 'search' ? `Search results for ${query}` : current ? labelOf(current) : 'Messages'

  return (
    <div class={`app pane-${pane}`}>
      <a href="#main" class="skip">Skip to messages</a>
      <header class="top" role="banner">
        <span class="brand">Wardmail</span>
        <form role="search" onSubmit={search} class="searchform">
          <label for="search" class="sr-only">Search mail</label>
          <input id="search" ref={searchBox} type="search" placeholder="Search mail (from:, to:, subject:, has:attachment, after:2026-01-31)"
            value={searchText} onInput={(e) => setSearchText((e.target as HTMLInputElement).value)} />
          <button type="submit">Search</button>
        </form>
        <span class="me" title={session.person.email}>{session.person.name || session.person.email}</span>
        {session.admin && <button onClick={() => { setMode('admin'); setView(null); go('list') }}>Administration</button>}
        <button onClick={() => { setMode('settings'); setView(null); go('list') }}>Settings</button>
        <button onClick={signOut}>Sign out</button>
      </header>
      <nav class="folders" aria-label="Folders">
        <button class="primary compose-btn" onClick={() => setCompose({ to: [], cc: [], bcc: [], subject: '', text: '' })}>New message</button>
        <ul>
          {folders.map((f) => (
            <li key={f.id}>
              <button class={mode === 'folder' && f.id === folder ? 'folder current' : 'folder'} aria-current={mode === 'folder' && f.id === folder ? 'page' : undefined}
                onClick={() => openFolder(f.id)}>
                <span>{roleLabel[f.role ?? ''] ?? f.name}</span>
                {f.unread > 0 && <span class="count" aria-label={`${f.unread} unread`}>{f.unread}</span>}
              </button>
            </li>
          ))}
        </ul>
        <p class="shortcuts small">Keys: j/k next/previous, x select (shift-click: a range), r reply, a reply all, f forward, e archive, # delete, s flag, u unread, z undo, c new, / search</p>
      </nav>
      <main id="main" class="main">
        {error && <p class="error" role="alert">{error} <button class="link" onClick={() => setError('')}>Dismiss</button></p>}
        {mode === 'admin' ? <Admin /> : mode === 'settings' ? <Settings onSignedOut={onSignOut} /> : (
          <div class="panes">
            <section class="listpane" aria-label={label}>
              <div class="listhead">
                <button class="narrow-only folders-btn" onClick={() => go('folders')}>‹ Folders</button>
                <h1 class="listtitle">{label}</h1>
                {mode === 'folder' && <button class="small" aria-pressed={threaded} onClick={toggleThreaded} title="Group messages into conversations">Conversations</button>}
              </div>
              {checked.size > 0 && <Bulk count={checked.size} folders={folders} current={mode === 'folder' ? folder : 0} labelOf={labelOf}
                onFlags={setFlags} onMove={(to) => act('move', to)} onArchive={() => act('archive')} onDelete={() => act('delete')} onClear={clearChecked} />}
              <button class="narrow-only primary compose-fab" onClick={() => setCompose({ to: [], cc: [], bcc: [], subject: '', text: '' })}>New message</button>
              {(mode === 'search' || folder > 0) && <MessageList source={source} selected={selected} onSelect={onSelect} onOpen={onOpen} label={label}
                checked={checkedKeys} onCheck={onCheck} anchor={anchor} onTotal={(n) => { total.current = n }} />}
            </section>
            <section class="readpane" aria-label="Reading pane">
              <button class="narrow-only back-btn" onClick={back}>‹ Back to {mode === 'search' ? 'search results' : labelOf(current) || 'messages'}</button>
              {view ? <Reader view={view} onReply={reply} onForward={forward} onArchive={() => act('archive')} onDelete={() => act('delete')}
                onFlag={toggleFlag} onUnread={markUnread} thread={thread} onEditDraft={inDrafts ? () => openDraft(view.uid) : undefined} />
                : <p class="empty">{item ? 'Loading…' : 'Select a message to read it.'}</p>}
            </section>
          </div>
        )}
      </main>
      <div class="status" role="status" aria-live="polite">
        {status && <>{status.text} {status.undo && <button class="link" onClick={undo}>Undo</button>}</>}
      </div>
      {compose && <ComposeDialog initial={compose} onClose={(s) => { setCompose(null); if (s) changed(s) }} />}
    </div>
  )
}
