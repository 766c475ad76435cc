import { useEffect, useRef, useState } from 'preact/hooks'
import { api, ApiError, Audience, ComposeStart, PartInfo, PartRef, Sent, Suggestion, upload } from './api'

// Recipients are typed as comma-separated addresses; the part being typed is
// looked up in the national directory and among distribution lists (ARIA
// 1.2 combobox). The first suggestion is highlighted, so Enter or Tab takes
// it: "laura" then Enter is Laura's address, never the bare word.
function RecipientInput({ id, label, value, onChange, autoFocus, outside }:
  { id: string; label: string; value: string; onChange: (v: string) => void; autoFocus?: boolean; outside?: string[] }) {
  const [items, setItems] = useState<Suggestion[]>([])
  const [active, setActive] = useState(-1)
  const timer = useRef<number>()
  const seq = useRef(0)
  const current = value.split(',').pop()!.trim()

  const lookup = (q: string) => api.suggest(q).then((r) => [
    ...r.people, ...(r.lists ?? []).map((l): Suggestion => ({ name: l.name, email: l.email, size: l.size, suspended: l.suspended, list: true }))])

  useEffect(() => {
    window.clearTimeout(timer.current)
    if (current.length < 2 || current.includes(',')) { setItems([]); return }
    const n = ++seq.current
    timer.current = window.setTimeout(() => {
      lookup(current).then((r) => { if (n === seq.current) { setItems(r); setActive(r.length ? 0 : -1) } }).catch(() => setItems([]))
    }, 120)
  }, [current])

  function choose(s: Suggestion) {
    const parts = value.split(',').slice(0, -1).map((p) => p.trim()).filter(Boolean)
    parts.push(s.email)
    onChange(parts.join(', ') + ', ')
    seq.current++
    setItems([])
  }

  const open = items.length > 0
  const mine = (outside ?? []).filter((a) => value.toLowerCase().includes(a.toLowerCase()))
  return (
    <div class="field combo">
      <label for={id}>{label}</label>
      <input id={id} type="text" role="combobox" aria-autocomplete="list" aria-expanded={open} aria-controls={`${id}-list`}
        aria-activedescendant={open && active >= 0 ? `${id}-opt-${active}` : undefined} autocomplete="off" value={value} autoFocus={autoFocus}
        aria-describedby={mine.length ? `${id}-outside` : undefined} class={mine.length ? 'has-outside' : undefined}
        onInput={(e) => onChange((e.target as HTMLInputElement).value)}
        onBlur={() => window.setTimeout(() => setItems([]), 150)}
        onKeyDown={(e) => {
          if (!open) {
            // Enter on a name typed faster than the suggestions came: look
            // it up now and take the first match rather than send a word.
            if (e.key === 'Enter' && current.length >= 2 && !current.includes('@')) {
              e.preventDefault()
              const n = ++seq.current
              lookup(current).then((r) => { if (n === seq.current && r.length) choose(r[0]) }).catch(() => undefined)
            }
            return
          }
          if (e.key === 'ArrowDown') { e.preventDefault(); setActive((a) => Math.min(items.length - 1, a + 1)) }
          else if (e.key === 'ArrowUp') { e.preventDefault(); setActive((a) => Math.max(0, a - 1)) }
          else if (e.key === 'Enter' && active >= 0) { e.preventDefault(); choose(items[active]) }
          else if (e.key === 'Tab' && active >= 0 && !e.shiftKey) choose(items[active])
          else if (e.key === 'Escape') { e.stopPropagation(); setItems([]) }
        }} />
      <ul id={`${id}-list`} role="listbox" aria-label={`${label} suggestions`} class={open ? 'suggest' : 'suggest hidden'}>
        {items.map((s, i) => (
          <li key={s.email} id={`${id}-opt-${i}`} role="option" aria-selected={i === active} class={i === active ? 'active' : ''}
            onMouseDown={(e) => { e.preventDefault(); choose(s) }}>
            <strong>{s.name}</strong> <span>{s.email}</span>{' '}
            {s.list
              ? <span class="meta">list, {(s.size ?? 0).toLocaleString('en-GB')} {s.size === 1 ? 'person' : 'people'}{s.suspended ? ', suspended' : ''}</span>
              : <span class="meta">{s.role ? `${s.role}, ` : ''}{s.org}</span>}
          </li>
        ))}
      </ul>
      {mine.length > 0 && <p id={`${id}-outside`} class="outside-note"><span class="badge outside">Outside</span> {mine.join(', ')}: not in the health service's directory.</p>}
    </div>
  )
}

const split = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean)

interface Props { initial: ComposeStart; onClose: (status?: string) => void }

interface Upload { key: number; name: string; progress: number; id?: string; error?: string }
// A kept attachment of another message (forwarded, or the draft's own).
interface Kept extends PartInfo { key: number }
let uploadKey = 0

function size(n: number): string {
  if (n >= 1 << 20) return (n / (1 << 20)).toFixed(1) + ' MB'
  if (n >= 1024) return Math.round(n / 1024) + ' KB'
  return n + ' bytes'
}

export function ComposeDialog({ initial, onClose }: Props) {
  const [to, setTo] = useState(initial.to.join(', '))
  const [cc, setCc] = useState(initial.cc.join(', '))
  const [bcc, setBcc] = useState(initial.bcc.join(', '))
  const [showBcc, setShowBcc] = useState(initial.bcc.length > 0)
  const [subject, setSubject] = useState(initial.subject)
  const [text, setText] = useState(initial.text)
  const [uploads, setUploads] = useState<Upload[]>([])
  const [kept, setKept] = useState<Kept[]>(() => (initial.parts ?? []).map((p) => ({ ...p, key: ++uploadKey })))
  const [draft, setDraft] = useState<number | undefined>(initial.draft)
  const [saved, setSaved] = useState('')
  const [error, setError] = useState('')
  const [audience, setAudience] = useState<Audience | null>(null)
  // The recipients the audience was worked out for: a confirmation is only
  // offered for the recipients it counted.
  const [audienceFor, setAudienceFor] = useState('')
  const [sending, setSending] = useState(false)
  const dirty = useRef(false)
  const dialog = useRef<HTMLDivElement>(null)

  const message = () => ({
    to: split(to), cc: split(cc), bcc: split(bcc), subject, text,
    inReplyTo: initial.inReplyTo, references: initial.references,
    attachments: uploads.filter((u) => u.id).map((u) => u.id!), draft,
    parts: kept.map((k): PartRef => ({ folder: k.folder, uid: k.uid, part: k.part })),
  })

  // Drafts are saved automatically a few seconds after typing stops. A
  // saved draft replaces the one before, so the kept attachments are then
  // referenced in the new draft (the server says where).
  useEffect(() => {
    if (!dirty.current) { dirty.current = true; return }
    const t = window.setTimeout(() => {
      const keys = kept.map((k) => k.key)
      api.saveDraft(message()).then((r) => {
        setDraft(r.uid)
        setKept((list) => list.map((k) => { const i = keys.indexOf(k.key); return i >= 0 && r.parts[i] ? { ...k, ...r.parts[i] } : k }))
        setSaved(`Draft saved at ${new Date(r.saved).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' })}`)
      }).catch((e) => setSaved(`Draft not saved: ${e.message}`))
    }, 3000)
    return () => window.clearTimeout(t)
  }, [to, cc, bcc, subject, text, uploads, kept.length])

  // The audience as the sender adds recipients, before Send: how many
  // people, the full warning above the threshold, a list they may not post
  // to, addresses outside the directory.
  const recipientsKey = JSON.stringify([split(to), split(cc), split(bcc)])
  useEffect(() => {
    const whole = (l: string[]) => l.filter((a) => /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(a))
    const r = { to: whole(split(to)), cc: whole(split(cc)), bcc: whole(split(bcc)) }
    if (r.to.length + r.cc.length + r.bcc.length === 0) { setAudience(null); setAudienceFor(''); return }
    const t = window.setTimeout(() => {
      api.audience({ ...r, subject: '', text: '' }).then((a) => { setAudience(a); setAudienceFor(JSON.stringify([r.to, r.cc, r.bcc])) }).catch(() => undefined)
    }, 400)
    return () => window.clearTimeout(t)
  }, [recipientsKey])

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => { if (e.key === 'Escape') onClose() }
    dialog.current?.addEventListener('keydown', onKey)
    return () => dialog.current?.removeEventListener('keydown', onKey)
  }, [])

  function attach(files: FileList | null) {
    if (!files) return
    for (const f of Array.from(files)) {
      const key = ++uploadKey
      setUploads((u) => [...u, { key, name: f.name, progress: 0 }])
      const update = (patch: Partial<Upload>) => setUploads((list) => list.map((u) => (u.key === key ? { ...u, ...patch } : u)))
      upload(f, (p) => update({ progress: p })).then((r) => update({ id: r.id, progress: 1 })).catch((e) => update({ error: e.message }))
    }
  }

  async function send(confirmed = false) {
    setError('')
    const m = message()
    if (m.to.length + m.cc.length + m.bcc.length === 0) { setError('Add at least one recipient.'); return }
    if (uploads.some((u) => !u.id && !u.error)) { setError('Wait for the attachments to finish uploading.'); return }
    setSending(true)
    try {
      if (!confirmed) {
        try {
          const a = await api.audience(m)
          setAudience(a)
          setAudienceFor(JSON.stringify([m.to, m.cc, m.bcc]))
          if (a.blocked) { setError(a.blocked.reason); setSending(false); return }
          if (a.needs_confirmation) { setSending(false); return }
        } catch (e) {
          if (!(e instanceof ApiError) || (e.status !== 404 && e.status !== 501)) throw e
        }
      }
      const r = await api.send(m)
      onClose(sentText(r))
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e))
    } finally {
      setSending(false)
    }
  }

  async function discard() {
    if (draft) await api.deleteDraft(draft).catch(() => undefined)
    onClose('Draft discarded.')
  }

  return (
    <div class="overlay">
      <div class="compose" role="dialog" aria-modal="true" aria-labelledby="compose-title" ref={dialog}>
        <h2 id="compose-title">{initial.subject ? initial.subject : 'New message'}</h2>
        <form onSubmit={(e) => { e.preventDefault(); send() }}>
          <RecipientInput id="to" label="To" value={to} onChange={setTo} autoFocus={initial.to.length === 0} outside={audience?.external} />
          <RecipientInput id="cc" label="Cc" value={cc} onChange={setCc} outside={audience?.external} />
          {showBcc ? <RecipientInput id="bcc" label="Bcc" value={bcc} onChange={setBcc} outside={audience?.external} />
            : <button type="button" class="link" onClick={() => setShowBcc(true)}>Add Bcc</button>}
          <div class="field">
            <label for="subject">Subject</label>
            <input id="subject" type="text" value={subject} maxLength={998} onInput={(e) => setSubject((e.target as HTMLInputElement).value)} />
          </div>
          <div class="field grow">
            <label for="body">Message</label>
            <textarea id="body" value={text} autoFocus={initial.to.length > 0} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} />
          </div>
          <div class="field">
            <label for="files">Attach files</label>
            <input id="files" type="file" multiple onChange={(e) => attach((e.target as HTMLInputElement).files)} />
            {uploads.length + kept.length > 0 && (
              <ul class="uploads" aria-label="Attachments">
                {kept.map((k) => (
                  <li key={k.key}>{k.filename} <span class="meta">{size(k.size)}</span>{' '}
                    <button type="button" class="link" aria-label={`Remove ${k.filename}`} onClick={() => setKept((l) => l.filter((x) => x.key !== k.key))}>Remove</button>
                  </li>
                ))}
                {uploads.map((u) => (
                  <li key={u.key}>{u.name}{' '}
                    {u.error ? <span class="error">{u.error}</span>
                      : u.id ? <span class="meta">attached</span>
                      : <progress value={u.progress} max={1} aria-label={`Uploading ${u.name}`} />}{' '}
                    {(u.id || u.error) && <button type="button" class="link" aria-label={`Remove ${u.name}`} onClick={() => setUploads((l) => l.filter((x) => x.key !== u.key))}>Remove</button>}
                  </li>
                ))}
              </ul>
            )}
          </div>
          {audience && <AudienceNote audience={audience} current={audienceFor === recipientsKey} sending={sending} onConfirm={() => send(true)} />}
          {error && <p class="error" role="alert">{error}</p>}
          <div class="actions">
            <button type="submit" class="primary" disabled={sending}>{sending ? 'Sending…' : 'Send'}</button>
            <button type="button" onClick={discard}>Discard</button>
            <button type="button" onClick={() => onClose(draft ? 'Draft saved.' : undefined)}>Close</button>
            <span class="meta" role="status">{saved}</span>
          </div>
        </form>
      </div>
    </div>
  )
}

const people = (n: number) => `${n.toLocaleString('en-GB')} ${n === 1 ? 'person' : 'people'}`
const local = (a: string) => a.split('@')[0]

// sentText is what the status bar says after sending: a list by name with
// the people it reached, not "1 person".
export function sentText(r: Sent): string {
  const lists = r.lists ?? []
  if (!lists.length) return `Message sent to ${people(r.recipients)}.`
  const others = r.recipients - lists.length
  const to = lists.map(local).join(', ') + (others > 0 ? ` and ${others} other ${others === 1 ? 'address' : 'addresses'}` : '')
  let s = `Message sent to ${to} (${people(r.people ?? 0)}).`
  if (r.held?.length) s += ` Held for the moderators of ${r.held.map(local).join(', ')}.`
  return s
}

// AudienceNote is who the message will reach, as the recipients are added:
// a line for a small audience, the full warning (and the confirmation)
// above the threshold, and why a list will not take it.
function AudienceNote({ audience: a, current, sending, onConfirm }: { audience: Audience; current: boolean; sending: boolean; onConfirm: () => void }) {
  const orgs = a.organisations.length
  const notes = a.warnings.filter((w) => !w.startsWith('This will reach') && w !== a.blocked?.reason)
  const top = a.lists.filter((l) => !l.via)
  const nested = <Inside lists={a.lists} />
  if (a.blocked) {
    return <div class="notice warn" role="alert"><p><strong>{a.blocked.reason}</strong></p>{notes.map((w) => <p key={w}>{w}</p>)}{nested}</div>
  }
  if (a.needs_confirmation) {
    return (
      <div class="notice warn" role="alert">
        <p><strong>This will reach {people(a.people)} in {orgs.toLocaleString('en-GB')} {orgs === 1 ? 'organisation' : 'organisations'}.</strong></p>
        {notes.map((w) => <p key={w}>{w}</p>)}
        {nested}
        {current && <button type="button" class="danger" onClick={onConfirm} disabled={sending}>Send to {a.people.toLocaleString('en-GB')} people</button>}
      </div>
    )
  }
  return (
    <div class={notes.length ? 'notice' : 'audience-line'} role="status">
      <p>This will reach {people(a.people)}{top.length > 0 && <> ({top.map((l) => `${local(l.address)}: ${people(l.size)}`).join('; ')})</>}.</p>
      {notes.map((w) => <p key={w}>{w}</p>)}
      {nested}
    </div>
  )
}

// What each list inside a recipient list says of the post: each decides as
// if the sender had posted to it directly (docs/lists.md, "Lists inside
// lists"), and the whole post follows the strictest.
const insideVerdict: Record<string, string> = {
  accept: 'takes it', hold: 'holds it for its moderators', refuse: 'refuses it', wait: 'makes it wait', suspend: 'is suspended: it waits',
}
function Inside({ lists }: { lists: Audience['lists'] }) {
  const inner = lists.filter((l) => l.via)
  if (!inner.length) return null
  return (
    <ul class="inside" aria-label="Lists inside the lists">
      {inner.map((l) => (
        <li key={l.via + ' ' + l.address}>{local(l.address)}, inside {local(l.via!)}, {insideVerdict[l.verdict] ?? l.verdict}{l.reason ? ` (${l.reason})` : ''}.</li>
      ))}
    </ul>
  )
}
