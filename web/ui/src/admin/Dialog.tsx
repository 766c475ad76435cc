import { ComponentChildren } from 'preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import { errorText } from '../api'

// Dialog is the console's in-page question, in place of the browser's
// prompt() and confirm(): a modal <dialog> named by its heading, with focus
// moved into it (the first field, else the safe button) and back to what
// opened it when it closes. Escape and Cancel close it without acting. The
// action's error stays in the dialog, so the administrator can change the
// answer and try again.
export function Dialog({ id, title, children, confirm, danger, onConfirm, onClose }: {
  id: string
  title: string
  children: ComponentChildren
  confirm: string // the action's button, in words: "Reject the post"
  danger?: boolean
  onConfirm: () => Promise<void> // throws to keep the dialog open with the error
  onClose: () => void
}) {
  const ref = useRef<HTMLDialogElement>(null)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null
    const d = ref.current
    if (d && !d.open) d.showModal()
    const first = d?.querySelector<HTMLElement>('textarea, input, select') ?? d?.querySelector<HTMLElement>('button[data-cancel]')
    first?.focus()
    // Close before giving focus back: outside an open modal dialog the page
    // is inert, and focus() there would do nothing.
    return () => {
      if (d?.open) d.close()
      if (opener && opener.isConnected) opener.focus()
    }
  }, [])

  async function submit(e: Event) {
    e.preventDefault()
    setBusy(true); setError('')
    try { await onConfirm() } catch (err) { setError(errorText(err)); setBusy(false) }
  }

  return (
    <dialog ref={ref} id={id} class="console-dialog" aria-labelledby={`${id}-title`} aria-describedby={`${id}-body`}
      onCancel={(e) => { e.preventDefault(); if (!busy) onClose() }}>
      <form method="dialog" onSubmit={submit}>
        <h3 id={`${id}-title`}>{title}</h3>
        <div id={`${id}-body`}>{children}</div>
        {error && <p class="error" role="alert">{error}</p>}
        <div class="dialog-actions">
          <button type="submit" class={danger ? 'danger' : 'primary'} disabled={busy}>{busy ? 'Working…' : confirm}</button>
          <button type="button" data-cancel onClick={onClose} disabled={busy}>Cancel</button>
        </div>
      </form>
    </dialog>
  )
}
