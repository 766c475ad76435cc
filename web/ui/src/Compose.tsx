import { useEffect, useRef, useState } from 'preact/hooks'
import { api, ApiError, Audience, ComposeStart, PartInfo, PartRef, Suggestion, upload } from './api'

// Recipients are typed as comma-separated addresses; the part being typed is
// looked up in the national directory (ARIA 1.2 combobox).
function RecipientInput({ id, label, value, onChange, autoFocus }: { id: string; label: string; value: string; onChange: (v: string) => void; autoFocus?: boolean }) {
  const [items, setItems] = useState<Suggestion[]>([])
  const [active, setActive] = useState(-1)
  const timer = useRef<number>()
  const seq = useRef(0)
  const current = value.split(',').pop()!.trim()

  useEffect(() => {
    window.clearTimeout(timer.current)
    if (current.length < 2) { setItems([]); return }
    const n = ++seq.current
    timer.current = window.setTimeout(() => {
      api.suggest(current).then((r) => { if (n === seq.current) { setItems(r.people); setActive(-1) } }).catch(() => setItems([]))
    }, 120)
  }, [current])

  function choose(s: Suggestion) {
    const parts = value.split(',').slice(0, -1).map((p) => p.trim()).filter(Boolean)
    parts.push(s.email)
    onChange(parts.join(', ') + ', ')
    setItems([])
  }

  const open = items.length > 0
  return (
    <div class="field combo">
      <label for={id}>{label}</label>
      <input id={id} type="text" role="combobox" aria-autocomplete="list" aria-expanded={open} aria-controls={`${id}-list`}
        aria-activedescendant={active >= 0 ? `${id}-opt-${active}` : undefined} autocomplete="off" value={value} autoFocus={autoFocus}
        onInput={(e) => onChange((e.target as HTMLInputElement).value)}
        onBlur={() => window.setTimeout(() => setItems([]), 150)}
        onKeyDown={(e) => {
          if (!open) return
          if (e.key === 'ArrowDown') { e.preventDefault(); setActive((a) => Math.min(items.length - 1, a + 1)) }
          else if (e.key === 'ArrowUp') { e.preventDefault(); setActive((a) => Math.max(0, a - 1)) }
          else if (e.key === 'Enter' && active >= 0) { e.preventDefault(); choose(items[active]) }
          else if (e.key === 'Escape') { e.stopPropagation(); setItems([]) }
        }} />
      <ul id={`${id}-list`} role="listbox" aria-label={`${label} suggestions`} class={open ? 'suggest' : 'suggest hidden'}>
        {items.map((s, i) => (
          <li key={s.email} id={`${id}-opt-${i}`} role="option" aria-selected={i === active} class={i === active ? 'active' : ''}
            onMouseDown={(e) => { e.preventDefault(); choose(s) }}>
            <strong>{s.name}</strong> <span>{s.email}</span> <span class="meta">{s.role ? `${s.role}, ` : ''}{s.org}</span>
          </li>
        ))}
      </ul>
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
    setAudience(null)
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
          if (a.blocked) { setError(a.blocked.reason); setSending(false); return }
          if (a.needs_confirmation) { setSending(false); return }
        } catch (e) {
          if (!(e instanceof ApiError) || (e.status !== 404 && e.status !== 501)) throw e
        }
      }
      const r = await api.send(m)
      onClose(`Message sent to ${r.recipients} ${r.recipients === 1 ? 'person' : 'people'}.`)
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
          <RecipientInput id="to" label="To" value={to} onChange={setTo} autoFocus={initial.to.length === 0} />
          <RecipientInput id="cc" label="Cc" value={cc} onChange={setCc} />
          {showBcc ? <RecipientInput id="bcc" label="Bcc" value={bcc} onChange={setBcc} />
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
          {audience && (audience.needs_confirmation || audience.warnings.length > 0) && (
            <div class={audience.needs_confirmation ? 'notice warn' : 'notice'} role="alert">
              <p><strong>This will reach {audience.people.toLocaleString('en-GB')} {audience.people === 1 ? 'person' : 'people'} in{' '}
                {audience.organisations.length.toLocaleString('en-GB')} {audience.organisations.length === 1 ? 'organisation' : 'organisations'}.</strong></p>
              {audience.warnings.filter((w) => !w.startsWith('This will reach')).map((w) => <p key={w}>{w}</p>)}
              {audience.needs_confirmation && !audience.blocked && (
                <button type="button" class="danger" onClick={() => send(true)} disabled={sending}>
                  Send to {audience.people.toLocaleString('en-GB')} people
                </button>
              )}
            </div>
          )}
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
