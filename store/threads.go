package store

import (
	"container/list"
	"context"
	"database/sql"
	"errors"
	"sort"
	"sync"
	"time"

	"wardmail/message"
)

func subjectColumn(k message.ThreadKeys) int64 {
	if k.SubjectReply {
		return -k.Subject
	}
	return k.Subject
}

// Thread is one conversation in a folder.
type Thread struct {
	// UIDs are the conversation's messages in the folder, newest first.
	UIDs []uint32
	// Newest is the arrival time of UIDs[0], which orders conversations.
	Newest time.Time
}

// Threads is a folder grouped into conversations, newest conversation first.
type Threads struct {
	List []Thread
	// Messages counts the folder's messages.
	Messages int
}

// ThreadOf returns the conversation holding uid. It looks through the list
// (about 50 µs at 100,000 messages), which spares every grouping a map.
func (t *Threads) ThreadOf(uid uint32) (*Thread, bool) {
	for i := range t.List {
		for _, u := range t.List[i].UIDs {
			if u == uid {
				return &t.List[i], true
			}
		}
	}
	return nil, false
}

// Conversations groups a folder's messages into conversations, as Gmail and
// Outlook on the web do: messages linked by Message-ID, In-Reply-To and
// References belong together (whichever of them arrived), and a message with
// a reply prefix and no references joins the latest earlier conversation
// with the same base subject.
//
// The grouping of the folders read last is kept (threadCache) and brought up
// to date from what changed since: rows above the UIDNEXT it saw, and the
// VANISHED tombstones above the MODSEQ it saw (RFC 7162), read in one
// snapshot. A flag change costs nothing, an arrival or a removal a few rows,
// and only a folder not kept (or one that changed by more than a tenth) is
// grouped from scratch (290 ms at 100,000 messages, docs/benchmarks.md).
func (s *Store) Conversations(ctx context.Context, mailboxID int64) (*Threads, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback() }()
	m, err := scanMailbox(tx.QueryRowContext(ctx, s.q(`SELECT `+mailboxCols+` FROM mailboxes WHERE id = ?`), mailboxID))
	if err != nil {
		return nil, err
	}
	// A kept grouping is brought up to date in place, under its lock; what
	// callers hold (Threads) is never changed once returned.
	if st := s.threads.get(mailboxID); st != nil {
		st.mu.Lock()
		defer st.mu.Unlock()
		if st.uidNext == m.UIDNext && st.modseq == m.HighestModSeq {
			return st.view, nil
		}
		gone, err := s.vanishedSince(ctx, tx, mailboxID, st.modseq)
		if err != nil {
			return nil, err
		}
		if len(gone)+int(m.UIDNext-st.uidNext) <= max(len(st.msgs)/10, 100) {
			rows, err := s.threadRows(ctx, tx, mailboxID, st.uidNext)
			if err != nil {
				return nil, err
			}
			st.remove(gone)
			st.add(rows)
			st.uidNext, st.modseq = m.UIDNext, m.HighestModSeq
			st.view = st.threads()
			return st.view, nil
		}
	}
	rows, err := s.threadRows(ctx, tx, mailboxID, 0)
	if err != nil {
		return nil, err
	}
	st := newGroupState()
	st.add(rows)
	st.uidNext, st.modseq = m.UIDNext, m.HighestModSeq
	st.view = st.threads()
	s.threads.put(mailboxID, st)
	return st.view, nil
}

type threadRow struct {
	uid  uint32
	date int64
	keys message.ThreadKeys
}

// threadRows reads the keys of a folder's messages from UID from on, in
// arrival order.
func (s *Store) threadRows(ctx context.Context, tx *sql.Tx, mailboxID int64, from uint32) ([]threadRow, error) {
	rows, err := tx.QueryContext(ctx, s.q(`SELECT m.uid, m.internal_date, c.thread_self, c.thread_parent, c.thread_root, c.thread_subject,
		CASE WHEN c.thread_self = 0 AND c.thread_subject = 0 THEN c.summary END
		FROM mail m JOIN contents c ON c.id = m.content_id WHERE m.mailbox_id = ? AND m.uid >= ? ORDER BY m.internal_date, m.uid`), mailboxID, from)
	if err != nil {
		return nil, err
	}
	var msgs []threadRow
	for rows.Next() {
		var r threadRow
		var subj int64
		var sum []byte
		if err := rows.Scan(&r.uid, &r.date, &r.keys.Self, &r.keys.Parent, &r.keys.Root, &subj, &sum); err != nil {
			rows.Close()
			return nil, err
		}
		r.keys.Subject, r.keys.SubjectReply = subj, subj < 0
		if subj < 0 {
			r.keys.Subject = -subj
		}
		if sum != nil { // stored before the thread-key columns
			if k, err := message.ThreadKeysOf(sum); err == nil {
				r.keys = k
			}
		}
		msgs = append(msgs, r)
	}
	return msgs, errors.Join(rows.Err(), rows.Close())
}

func (s *Store) vanishedSince(ctx context.Context, tx *sql.Tx, mailboxID int64, modseq uint64) ([]uint32, error) {
	rows, err := tx.QueryContext(ctx, s.q(`SELECT uid FROM vanished WHERE mailbox_id = ? AND modseq > ?`), mailboxID, modseq)
	if err != nil {
		return nil, err
	}
	var out []uint32
	for rows.Next() {
		var u uint32
		if err := rows.Scan(&u); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, u)
	}
	return out, errors.Join(rows.Err(), rows.Close())
}

// groupState is a folder's grouping: a union-find over its messages, in the
// order they were added, with the ids each message names.
type groupState struct {
	mu      sync.Mutex
	uidNext uint32
	modseq  uint64
	msgs    []threadRow
	gone    []bool // removed since added
	parent  []int32
	byID    map[int64]int32
	bySubj  map[int64]int32 // base subject -> latest message with it
	byUID   map[uint32]int32
	sorted  bool // msgs are in arrival order
	view    *Threads
}

func newGroupState() *groupState {
	return &groupState{byID: map[int64]int32{}, bySubj: map[int64]int32{}, byUID: map[uint32]int32{}, sorted: true}
}

func (g *groupState) find(i int32) int32 {
	for g.parent[i] != i {
		g.parent[i] = g.parent[g.parent[i]]
		i = g.parent[i]
	}
	return i
}

func (g *groupState) union(a, b int32) {
	if ra, rb := g.find(a), g.find(b); ra != rb {
		g.parent[rb] = ra
	}
}

// link joins message i with the others that name id, whether or not the
// message with that id is in the folder.
func (g *groupState) link(i int32, id int64) {
	if id == 0 {
		return
	}
	if j, ok := g.byID[id]; ok {
		g.union(j, i)
	} else {
		g.byID[id] = i
	}
}

func (g *groupState) add(rows []threadRow) {
	for _, r := range rows {
		n := int32(len(g.msgs))
		if n > 0 && (r.date < g.msgs[n-1].date || r.date == g.msgs[n-1].date && r.uid < g.msgs[n-1].uid) {
			g.sorted = false
		}
		g.msgs = append(g.msgs, r)
		g.gone = append(g.gone, false)
		g.parent = append(g.parent, n)
		g.byUID[r.uid] = n
		k := &r.keys
		g.link(n, k.Self)
		g.link(n, k.Parent)
		g.link(n, k.Root)
		if k.Subject != 0 {
			if k.Parent == 0 && k.Root == 0 && k.SubjectReply {
				if j, ok := g.bySubj[k.Subject]; ok {
					g.union(j, n)
				}
			}
			g.bySubj[k.Subject] = n
		}
	}
}

// remove drops messages; their links stay, so a conversation does not split
// when a message in its middle goes (as in Gmail).
func (g *groupState) remove(uids []uint32) {
	for _, u := range uids {
		if i, ok := g.byUID[u]; ok {
			g.gone[i] = true
			delete(g.byUID, u)
		}
	}
}

// threads lists the conversations, newest message first within each, in
// order of their newest messages (the message list's order: date, then UID).
func (g *groupState) threads() *Threads {
	order := make([]int32, 0, len(g.msgs))
	for i := range g.msgs {
		if !g.gone[i] {
			order = append(order, int32(i))
		}
	}
	if !g.sorted {
		sort.Slice(order, func(a, b int) bool {
			x, y := &g.msgs[order[a]], &g.msgs[order[b]]
			return x.date < y.date || x.date == y.date && x.uid < y.uid
		})
	}
	t := &Threads{Messages: len(order)}
	at := make([]int32, len(g.msgs)) // root -> index in t.List, plus one
	for k := len(order) - 1; k >= 0; k-- {
		i := order[k]
		r := g.find(i)
		if at[r] == 0 {
			t.List = append(t.List, Thread{Newest: time.Unix(g.msgs[i].date, 0)})
			at[r] = int32(len(t.List))
		}
		n := int(at[r]) - 1
		t.List[n].UIDs = append(t.List[n].UIDs, g.msgs[i].uid)
	}
	return t
}

// threadCache keeps the grouping of the folders read last.
type threadCache struct {
	mu    sync.Mutex
	lru   *list.List // of *threadEntry, most recent first
	byBox map[int64]*list.Element
}

type threadEntry struct {
	box int64
	st  *groupState
}

// threadCacheSize bounds the folders kept: a 100,000-message folder's
// grouping takes about 20 MB.
const threadCacheSize = 8

func (c *threadCache) get(box int64) *groupState {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byBox[box]
	if !ok {
		return nil
	}
	c.lru.MoveToFront(e)
	return e.Value.(*threadEntry).st
}

func (c *threadCache) put(box int64, st *groupState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byBox == nil {
		c.byBox, c.lru = map[int64]*list.Element{}, list.New()
	}
	if e, ok := c.byBox[box]; ok {
		e.Value = &threadEntry{box: box, st: st}
		c.lru.MoveToFront(e)
		return
	}
	c.byBox[box] = c.lru.PushFront(&threadEntry{box: box, st: st})
	for c.lru.Len() > threadCacheSize {
		last := c.lru.Back()
		delete(c.byBox, last.Value.(*threadEntry).box)
		c.lru.Remove(last)
	}
}

// FlagsOf returns the flags of some messages of a mailbox (for a page of
// conversations: which are unread, which flagged).
func (s *Store) FlagsOf(ctx context.Context, mailboxID int64, uids []uint32) (map[uint32][]string, error) {
	out := make(map[uint32][]string, len(uids))
	for start := 0; start < len(uids); start += 500 {
		chunk := uids[start:min(start+500, len(uids))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, mailboxID)
		q := make([]byte, 0, len(chunk)*2)
		for i, u := range chunk {
			if i > 0 {
				q = append(q, ',')
			}
			q = append(q, '?')
			args = append(args, u)
		}
		rows, err := s.r.QueryContext(ctx, s.q(`SELECT uid, flags, keywords FROM mail WHERE mailbox_id = ? AND uid IN (`+string(q)+`)`), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var u uint32
			var bits int64
			var kw string
			if err := rows.Scan(&u, &bits, &kw); err != nil {
				rows.Close()
				return nil, err
			}
			out[u] = decodeFlags(bits, kw)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return nil, err
		}
	}
	return out, nil
}
