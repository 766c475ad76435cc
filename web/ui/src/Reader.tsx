import { useEffect, useState } from 'preact/hooks'
import { api, Item, ReadView, formatDate, who } from './api'

interface Props {
  view: ReadView
  onReply: (all: boolean) => void
  onForward: () => void
  onArchive: () => void
  onDelete: () => void
  onFlag: () => void
  onUnread: () => void
  onEditDraft?: () => void
  // thread: the conversation's messages, newest first (conversation view).
  thread?: Item[]
}

function size(n: number): string {
  if (n >= 1 << 20) return (n / (1 << 20)).toFixed(1) + ' MB'
  if (n >= 1024) return Math.round(n / 1024) + ' KB'
  return n + ' bytes'
}

// MessageBody is one message's headers, attachments and sandboxed frame.
function MessageBody({ view, headingLevel }: { view: ReadView; headingLevel?: boolean }) {
  const [images, setImages] = useState(false)
  useEffect(() => setImages(false), [view.folder, view.uid])
  const base = `/api/v1/folders/${view.folder}/messages/${view.uid}`
  return (
    <>
      {view.origin?.outside && view.origin.banner && (
        <p class={view.origin.strong ? 'notice warn origin' : 'notice origin'} role={view.origin.strong ? 'alert' : 'note'}>
          {view.origin.banner}
        </p>
      )}
      <dl class="headers">
        <dt>From</dt><dd>{view.from.map((a) => <span key={a.email}>{a.name ? `${a.name} <${a.email}>` : a.email}</span>)}</dd>
        <dt>To</dt><dd>{who(view.to) || '—'}</dd>
        {view.cc.length > 0 && <><dt>Cc</dt><dd>{who(view.cc)}</dd></>}
        <dt>Date</dt><dd>{formatDate(view.date, true)}</dd>
      </dl>
      {view.remoteImages > 0 && !images && (
        <p class="notice" role="note">
          {view.remoteImages === 1 ? 'One remote image was' : `${view.remoteImages} remote images were`} blocked to protect your privacy.{' '}
          <button class="link" onClick={() => setImages(true)}>Show images</button>
        </p>
      )}
      {view.attachments.length > 0 && (
        <section aria-label={headingLevel ? 'Attachments' : `Attachments of the message of ${formatDate(view.date, true)}`} class="attachments">
          <ul>
            {view.attachments.map((a) => (
              <li key={a.part}><a href={`${base}/parts/${a.part}`} download={a.filename}>{a.filename}</a> <span class="meta">{a.type}, {size(a.size)}</span></li>
            ))}
          </ul>
        </section>
      )}
      <iframe class="body" title={`Message: ${view.subject || 'no subject'}, ${formatDate(view.date, true)}`} src={view.bodyUrl + (images ? '?images=1' : '')}
        sandbox="allow-popups allow-popups-to-escape-sandbox" referrerpolicy="no-referrer" />
    </>
  )
}

// Earlier is a message further back in the conversation: a header that
// expands to the message (read, and so marked read, when first expanded).
function Earlier({ item, folder }: { item: Item; folder: number }) {
  const [open, setOpen] = useState(false)
  const [view, setView] = useState<ReadView | null>(null)
  const [error, setError] = useState('')
  function toggle() {
    setOpen(!open)
    if (!view) api.read(folder, item.uid).then(setView).catch((e) => setError(e.message))
  }
  const id = `earlier-${item.uid}`
  return (
    <li class={open ? 'earlier open' : 'earlier'}>
      <button class="earlier-head" aria-expanded={open} aria-controls={id} onClick={toggle}>
        <span class="who">{who(item.from) || '(no sender)'}</span> <span class="date">{formatDate(item.date)}</span>
        {!item.seen && <span class="sr-only"> (unread)</span>}
      </button>
      <div id={id} hidden={!open} class="earlier-body">
        {error ? <p class="error" role="alert">{error}</p> : view ? <MessageBody view={view} /> : open && <p class="meta">Loading…</p>}
      </div>
    </li>
  )
}

export function Reader({ view, onReply, onForward, onArchive, onDelete, onFlag, onUnread, onEditDraft, thread }: Props) {
  const blocked = !view.replyAll.allowed
  const until = view.replyAll.until ? formatDate(view.replyAll.until, true) : ''
  const earlier = (thread ?? []).filter((m) => m.uid !== view.uid)
  return (
    <article class={earlier.length ? 'reader conversation' : 'reader'} aria-labelledby="reader-subject">
      <div class="toolbar" role="toolbar" aria-label="Message actions">
        {onEditDraft && <button class="primary" onClick={onEditDraft} title="Edit draft (Enter)">Edit draft</button>}
        <button onClick={() => onReply(false)} title="Reply (r)">Reply</button>
        <button onClick={() => onReply(true)} disabled={blocked} aria-describedby={blocked ? 'replyall-blocked' : undefined}
          title="Reply all (a)">Reply all</button>
        <button onClick={onForward} title="Forward (f)">Forward</button>
        <button onClick={onArchive} title="Archive (e)">Archive</button>
        <button onClick={onDelete} title="Delete (#)">Delete</button>
        <button onClick={onFlag} aria-pressed={view.flagged} title="Flag (s)">{view.flagged ? 'Unflag' : 'Flag'}</button>
        <button onClick={onUnread} title="Mark unread (u)">Mark unread</button>
      </div>
      {blocked && (
        <p id="replyall-blocked" class="notice warn" role="note">
          Reply all is turned off for this conversation: {view.replyAll.reason || 'too many people replied to everyone'}.
          {until && <> It is allowed again from {until}.</>} You can still reply to the sender.
        </p>
      )}
      <h2 id="reader-subject">{view.subject || '(no subject)'}</h2>
      {earlier.length > 0 && <p class="meta">{earlier.length + 1} messages in this conversation, newest first.</p>}
      <MessageBody view={view} headingLevel />
      {earlier.length > 0 && (
        <section aria-label="Earlier in this conversation" class="thread">
          <h3>Earlier in this conversation</h3>
          <ul>{earlier.map((m) => <Earlier key={m.uid} item={m} folder={view.folder} />)}</ul>
        </section>
      )}
    </article>
  )
}
