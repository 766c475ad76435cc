import { useState } from 'preact/hooks'
import { Folder } from './api'

// The toolbar for checked messages (x, the row's box, shift-click for a
// range): read, unread, flag, move, archive and delete (undoable) at once.
interface Props {
  count: number
  folders: Folder[]
  current: number
  labelOf: (f: Folder) => string
  onFlags: (add: string[], remove: string[], text: string) => void
  onMove: (to: number) => void
  onArchive: () => void
  onDelete: () => void
  onClear: () => void
}

export function Bulk({ count, folders, current, labelOf, onFlags, onMove, onArchive, onDelete, onClear }: Props) {
  const [to, setTo] = useState(0)
  const targets = folders.filter((f) => f.id !== current)
  const dest = to || targets[0]?.id || 0
  return (
    <div class="bulk" role="toolbar" aria-label="Selected messages">
      <span class="bulk-count" aria-live="polite">{count} selected</span>
      <button class="small" onClick={() => onFlags(['seen'], [], 'Marked as read.')}>Mark read</button>
      <button class="small" onClick={() => onFlags([], ['seen'], 'Marked as unread.')}>Mark unread</button>
      <button class="small" onClick={() => onFlags(['flagged'], [], 'Flagged.')}>Flag</button>
      <button class="small" onClick={() => onFlags([], ['flagged'], 'Flag removed.')}>Unflag</button>
      <button class="small" onClick={onArchive}>Archive</button>
      <button class="small" onClick={onDelete}>Delete</button>
      <label for="bulk-move" class="sr-only">Move to folder</label>
      <select id="bulk-move" class="small" value={dest} onChange={(e) => setTo(Number((e.target as HTMLSelectElement).value))}>
        {targets.map((f) => <option key={f.id} value={f.id}>{labelOf(f)}</option>)}
      </select>
      <button class="small" onClick={() => dest && onMove(dest)}>Move</button>
      <button class="small link" onClick={onClear}>Clear selection</button>
    </div>
  )
}
