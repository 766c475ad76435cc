import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks'
import { Item, Page, formatDate, who } from './api'

// A virtualised message list: only the rows in view (and a few around them)
// are in the DOM, and pages of PAGE rows are fetched as they scroll into
// view, so a folder of 100,000 messages scrolls as smoothly as one of ten.

export const ROW = 68
const PAGE = 100
const OVERSCAN = 8

export interface ListSource {
  key: string // changes when the list must be fetched again
  fetch: (offset: number, limit: number) => Promise<Page>
  // folderLabel names each row's folder (search results span folders).
  folderLabel?: (folder: number) => string
}

interface Props {
  source: ListSource
  selected: number
  // onSelect: a row was chosen (a click), or, with moved set, the selection
  // the parent made (keyboard) has its item now; the parent must not take
  // the index back then, as it may have moved on since this render.
  onSelect: (index: number, item: Item | undefined, moved?: boolean) => void
  // onOpen: a row was clicked (or Enter pressed): a draft opens in the composer.
  onOpen?: (index: number, item: Item | undefined) => void
  onTotal?: (total: number) => void
  label: string
  // Multi-select: the keys of checked rows, and a change to some rows.
  checked?: Set<string>
  onCheck?: (items: Item[], on: boolean) => void
  // anchor: the row a shift-click range starts from (the last checked).
  anchor?: { current: number }
}

export const itemKey = (it: Item) => `${it.folder ?? ''}:${it.uid}`

export function MessageList({ source, selected, onSelect, onOpen, onTotal, label, checked, onCheck, anchor: anchorProp }: Props) {
  const [total, setTotal] = useState<number | null>(null)
  const [pages, setPages] = useState<Map<number, Item[]>>(new Map())
  const [scrollTop, setScrollTop] = useState(0)
  const [height, setHeight] = useState(600)
  const [error, setError] = useState('')
  const box = useRef<HTMLDivElement>(null)
  const loading = useRef<Set<number>>(new Set())
  const keyRef = useRef(source.key)

  // A new source: start again.
  useEffect(() => {
    keyRef.current = source.key
    loading.current = new Set()
    setPages(new Map())
    setError('')
    load(0, true)
  }, [source.key])

  function load(page: number, first = false) {
    if (loading.current.has(page)) return
    loading.current.add(page)
    const key = source.key
    source.fetch(page * PAGE, PAGE).then((p) => {
      if (keyRef.current !== key) return
      setTotal(p.total)
      onTotal?.(p.total)
      setPages((old) => { const m = new Map(first ? [] : old); m.set(page, p.messages); return m })
    }).catch((e) => {
      if (keyRef.current === key) setError(e.message)
      loading.current.delete(page)
    })
  }

  useLayoutEffect(() => {
    const el = box.current
    if (!el) return
    const ro = new ResizeObserver(() => setHeight(el.clientHeight))
    ro.observe(el)
    setHeight(el.clientHeight)
    return () => ro.disconnect()
  }, [])

  const count = total ?? 0
  const first = Math.max(0, Math.floor(scrollTop / ROW) - OVERSCAN)
  const last = Math.min(count - 1, Math.ceil((scrollTop + height) / ROW) + OVERSCAN)

  // Fetch the pages the visible rows are on.
  useEffect(() => {
    if (total === null) return
    for (let p = Math.floor(first / PAGE); p <= Math.floor(Math.max(last, 0) / PAGE); p++) {
      if (!pages.has(p)) load(p)
    }
  }, [first, last, total, pages])

  // Keep the selected row in view (keyboard navigation).
  useEffect(() => {
    const el = box.current
    if (!el || selected < 0) return
    const top = selected * ROW
    if (top < el.scrollTop) el.scrollTop = top
    else if (top + ROW > el.scrollTop + el.clientHeight) el.scrollTop = top + ROW - el.clientHeight
  }, [selected])

  const itemAt = (i: number) => pages.get(Math.floor(i / PAGE))?.[i % PAGE]
  const isChecked = (it: Item | undefined) => !!it && !!checked?.has(itemKey(it))

  // Checking: one row, or with shift the rows from the last one checked
  // (those loaded), as in Gmail and Outlook.
  const ownAnchor = useRef(-1)
  const anchor = anchorProp ?? ownAnchor
  function check(i: number, it: Item | undefined, range: boolean) {
    if (!it || !onCheck) return
    const on = !isChecked(it)
    if (range && anchor.current >= 0) {
      const list: Item[] = []
      for (let j = Math.min(anchor.current, i); j <= Math.max(anchor.current, i); j++) { const x = itemAt(j); if (x) list.push(x) }
      onCheck(list, true)
    } else onCheck([it], on)
    anchor.current = i
  }

  // Tell the parent which item is selected when the selection moves
  // (keyboard) or its page arrives.
  useEffect(() => {
    if (selected >= 0 && selected < count) onSelect(selected, itemAt(selected), true)
  }, [selected, pages])

  const rows = []
  for (let i = first; i <= last; i++) {
    const it = itemAt(i)
    const sel = i === selected
    const on = isChecked(it)
    rows.push(
      <div key={it ? `${it.folder ?? ''}:${it.uid}` : `p${i}`} id={`msg-${i}`} role="option" aria-selected={on}
        aria-posinset={i + 1} aria-setsize={count}
        class={'row' + (sel ? ' selected' : '') + (on ? ' checked' : '') + (it && !it.seen ? ' unread' : '')}
        style={{ transform: `translateY(${i * ROW}px)` }}
        onClick={(e) => {
          if (e.shiftKey || e.ctrlKey || e.metaKey) { e.preventDefault(); check(i, it, e.shiftKey); return }
          onSelect(i, it); onOpen?.(i, it)
        }}>
        {it ? (
          <>
            {onCheck && <span class="check" aria-hidden="true" onClick={(e) => { e.stopPropagation(); check(i, it, e.shiftKey) }} />}
            <span class="who">{who(it.from) || '(no sender)'}</span>
            <span class="date">{formatDate(it.date)}</span>
            <span class="subject">
              {source.folderLabel && it.folder !== undefined && <span class="in-folder">{source.folderLabel(it.folder)}</span>}
              {it.draft && !source.folderLabel && <span class="in-folder">Draft</span>}
              {!it.seen && <span class="sr-only">Unread. </span>}
              {it.flagged && <span class="flag" aria-label="Flagged" role="img">⚑</span>}
              {it.hasAttachment && <Paperclip />}
              {it.subject || '(no subject)'}
              {(it.count ?? 1) > 1 && <span class="thread-count">{it.count}<span class="sr-only"> messages</span></span>}
            </span>
          </>
        ) : <span class="placeholder">Loading…</span>}
      </div>,
    )
  }

  return (
    <div class="list-wrap">
      {error && <p class="error" role="alert">{error}</p>}
      {total === 0 && <p class="empty">No messages here.</p>}
      <div ref={box} class={onCheck ? 'list checkable' : 'list'} role="listbox" aria-label={label} tabIndex={0} aria-multiselectable={onCheck ? true : undefined}
        aria-activedescendant={selected >= first && selected <= last ? `msg-${selected}` : undefined}
        onScroll={(e) => setScrollTop((e.target as HTMLDivElement).scrollTop)}>
        <div class="list-inner" style={{ height: `${count * ROW}px` }}>{rows}</div>
      </div>
    </div>
  )
}

// Paperclip is the attachment mark, drawn rather than an emoji: ward PCs and
// Debian's Chromium often have no emoji font, which shows an empty box.
function Paperclip() {
  return (
    <svg class="clip" role="img" aria-label="Has attachment" width="12" height="14" viewBox="0 0 12 14">
      <path d="M8.5 4v6a2.5 2.5 0 0 1-5 0V3a1.7 1.7 0 0 1 3.4 0v6.5a.9.9 0 0 1-1.8 0V4" fill="none" stroke="currentColor" stroke-width="1.2" stroke-linecap="round" />
    </svg>
  )
}
