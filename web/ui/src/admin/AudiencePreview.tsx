import { useEffect, useState } from 'preact/hooks'
import { admin, ApiError, errorText } from '../api'
import { n } from './api'

type Preview = Awaited<ReturnType<typeof admin.previewList>>
export type PreviewBody = { rule: string; scope: string } | { members: string[] }

// AudiencePreview shows who a list would reach, asked of the server 400 ms
// after the last keystroke (POST /api/v1/admin/lists/preview): the same
// numbers and governance notes whether the list is new or being edited.
export function AudiencePreview({ body, id, verb = 'would reach' }: { body: PreviewBody | null; id: string; verb?: string }) {
  const [preview, setPreview] = useState<Preview | null>(null)
  const [error, setError] = useState('')
  const key = JSON.stringify(body)
  useEffect(() => {
    if (!body) { setPreview(null); setError(''); return }
    const t = window.setTimeout(() => {
      admin.previewList(body).then((p) => { setPreview(p); setError('') })
        .catch((e) => { setPreview(null); setError(e instanceof ApiError ? e.message : errorText(e)) })
    }, 400)
    return () => window.clearTimeout(t)
  }, [key])
  return (
    <div class="audience-preview" aria-live="polite" id={id}>
      {error ? <p class="error">{error}</p> : preview && (
        <>
          <p><strong>This list {verb} {n(preview.people)} {preview.people === 1 ? 'person' : 'people'} in {n(preview.organisations.length)} organisation{preview.organisations.length === 1 ? '' : 's'}.</strong></p>
          <ul class="meta">{preview.organisations.slice(0, 5).map((o) => <li key={o.name}>{o.name}: {n(o.people)}</li>)}
            {preview.organisations.length > 5 && <li>and {preview.organisations.length - 5} more</li>}</ul>
          {preview.notes.map((t) => <p key={t} class="notice">{t}</p>)}
        </>
      )}
    </div>
  )
}

// ScopeOptions are the scopes an administrator may give a dynamic list
// (the server checks again), plus the list's current one.
export function ScopeOptions({ orgs, national, current }: { orgs: { id: number; name: string }[]; national: boolean; current?: string }) {
  const values = orgs.map((o) => `org:${o.name}`)
  return (
    <>
      {current && !values.includes(current) && current !== 'national' && <option value={current}>{current}</option>}
      {orgs.map((o) => <option key={o.id} value={`org:${o.name}`}>{o.name}</option>)}
      {orgs.length > 1 && <option value={`set:${orgs.map((o) => o.name).join('|')}`}>All my organisations</option>}
      {national && <option value="national">National: everyone in England</option>}
    </>
  )
}

export const policyOptions = (
  <>
    <option value="members">members</option><option value="org">anyone in its organisations</option>
    <option value="senders">named senders</option><option value="announce">announcements (owners only)</option><option value="moderated">moderated</option>
  </>
)
