import { useEffect, useState } from 'preact/hooks'
import { ReadView, formatDate, who } from './api'

interface Props {
  view: ReadView
  onReply: (all: boolean) => void
  onForward: () => void
  onArchive: () => void
  onDelete: () => void
  onFlag: () => void
  onUnread: () => void
  onEditDraft?: () => void
}

function size(n: number): string {
  if (n >= 1 << 20) return (n / (1 << 20)).toFixed(1) + ' MB'
  if (n >= 1024) return Math.round(n / 1024) + ' KB'
  return n + ' bytes'
}

export function Reader({ view, onReply, onForward, onArchive, onDelete, onFlag, onUnread, onEditDraft }: Props) {
  const [images, setImages] = useState(false)
  useEffect(() => setImages(false), [view.folder, view.uid])
  const base = `/api/v1/folders/${view.folder}/messages/${view.uid}`
  const blocked = !view.replyAll.allowed
  const until = view.replyAll.until ? formatDate(view.replyAll.until, true) : ''
  return (
    <article class="reader" aria-labelledby="reader-subject">
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
        <section aria-label="Attachments" class="attachments">
          <h3 class="sr-only">Attachments</h3>
          <ul>
            {view.attachments.map((a) => (
              <li key={a.part}><a href={`${base}/parts/${a.part}`} download={a.filename}>{a.filename}</a> <span class="meta">{a.type}, {size(a.size)}</span></li>
            ))}
          </ul>
        </section>
      )}
      <iframe class="body" title={`Message: ${view.subject || 'no subject'}`} src={view.bodyUrl + (images ? '?images=1' : '')}
        sandbox="allow-popups allow-popups-to-escape-sandbox" referrerpolicy="no-referrer" />
    </article>
  )
}
