package store

import (
	"container/list"
	"context"
	"errors"
	"sync"
	"time"

	"wardmail/message"
)

// SchemaThreads adds each body's conversation keys (message.ThreadKeys):
// hashes of its Message-ID, parent, root and base subject (negative when
// the subject had a reply prefix). They are written with the body, once
// however many people receive it; bodies stored before this step have
// zeros and are worked out from their summary when a folder is grouped.
const SchemaThreads = `
ALTER TABLE contents ADD COLUMN thread_self INTEGER NOT NULL DEFAULT 0;
ALTER TABLE contents ADD COLUMN thread_parent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE contents ADD COLUMN thread_root INTEGER NOT NULL DEFAULT 0;
ALTER TABLE contents ADD COLUMN thread_subject INTEGER NOT NULL DEFAULT 0;
`

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
	byUID    map[uint32]int // uid -> index in List
}

// ThreadOf returns the conversation holding uid.
func (t *Threads) ThreadOf(uid uint32) (*Thread, bool) {
	i, ok := t.byUID[uid]
	if !ok {
		return nil, false
	}
	return &t.List[i], true
}

// Conversations groups a folder's messages into conversations, as Gmail and
// Outlook on the web do: messages linked by Message-ID, In-Reply-To and
// References belong together (whichever of them arrived), and a message with
// a reply prefix and no references joins the latest earlier conversation
// with the same base subject. The grouping is kept per folder and worked out
// again only when messages arrive or leave (UIDNEXT or the count changes),
// not when flags change, so paging deep into a large folder costs a slice.
func (s *Store) Conversations(ctx context.Context, mailboxID int64) (*Threads, error) {
	m, err := s.MailboxByID(ctx, mailboxID)
	if err != nil {
		return nil, err
	}
	var count int
	if err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM mail WHERE mailbox_id = ?`), mailboxID).Scan(&count); err != nil {
		return nil, err
	}
	key := threadsKey{uidNext: m.UIDNext, count: count}
	if t := s.threads.get(mailboxID, key); t != nil {
		return t, nil
	}
	t, err := s.groupThreads(ctx, mailboxID)
	if err != nil {
		return nil, err
	}
	if t.Messages == count { // else something changed while we read; do not keep it
		s.threads.put(mailboxID, key, t)
	}
	return t, nil
}

type threadRow struct {
	uid  uint32
	date int64
	keys message.ThreadKeys
}

func (s *Store) groupThreads(ctx context.Context, mailboxID int64) (*Threads, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT m.uid, m.internal_date, c.thread_self, c.thread_parent, c.thread_root, c.thread_subject,
		CASE WHEN c.thread_self = 0 AND c.thread_subject = 0 THEN c.summary END
		FROM mail m JOIN contents c ON c.id = m.content_id WHERE m.mailbox_id = ? ORDER BY m.internal_date, m.uid`), mailboxID)
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
		if sum != nil { // stored before SchemaThreads
			if k, err := message.ThreadKeysOf(sum); err == nil {
				r.keys = k
			}
		}
		msgs = append(msgs, r)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, err
	}
	return group(msgs), nil
}

// group is the grouping itself, over messages in arrival order: a
// union-find over the ids each message names.
func group(msgs []threadRow) *Threads {
	parent := make([]int32, len(msgs))
	for i := range parent {
		parent[i] = int32(i)
	}
	find := func(i int32) int32 {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	union := func(a, b int32) {
		ra, rb := find(a), find(b)
		if ra != rb {
			parent[rb] = ra
		}
	}
	// An id named by several messages links them, whether or not the
	// message with that id is in the folder.
	byID := make(map[int64]int32, len(msgs)*2)
	link := func(i int32, id int64) {
		if id == 0 {
			return
		}
		if j, ok := byID[id]; ok {
			union(j, i)
		} else {
			byID[id] = i
		}
	}
	lastBySubject := make(map[int64]int32)
	for i := range msgs {
		k := &msgs[i].keys
		n := int32(i)
		link(n, k.Self)
		link(n, k.Parent)
		link(n, k.Root)
		if k.Subject != 0 {
			if k.Parent == 0 && k.Root == 0 && k.SubjectReply {
				if j, ok := lastBySubject[k.Subject]; ok {
					union(j, n)
				}
			}
			lastBySubject[k.Subject] = n
		}
	}
	// Collect, newest message first within each conversation.
	t := &Threads{Messages: len(msgs), byUID: make(map[uint32]int, len(msgs))}
	index := make(map[int32]int)
	for i := len(msgs) - 1; i >= 0; i-- {
		r := find(int32(i))
		at, ok := index[r]
		if !ok {
			at = len(t.List)
			index[r] = at
			t.List = append(t.List, Thread{Newest: time.Unix(msgs[i].date, 0)})
		}
		t.List[at].UIDs = append(t.List[at].UIDs, msgs[i].uid)
		t.byUID[msgs[i].uid] = at
	}
	// Conversations were met newest message first, so List is in order of
	// their newest messages, as the message list is (date, then UID).
	return t
}

// threadCache keeps the grouping of the folders read last.
type threadCache struct {
	mu    sync.Mutex
	lru   *list.List // of *threadEntry, most recent first
	byBox map[int64]*list.Element
}

type threadsKey struct {
	uidNext uint32
	count   int
}

type threadEntry struct {
	box int64
	key threadsKey
	t   *Threads
}

// threadCacheSize bounds the folders kept: a 100,000-message folder's
// grouping is about 3 MB.
const threadCacheSize = 16

func (c *threadCache) get(box int64, key threadsKey) *Threads {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byBox == nil {
		return nil
	}
	e, ok := c.byBox[box]
	if !ok {
		return nil
	}
	ent := e.Value.(*threadEntry)
	if ent.key != key {
		return nil
	}
	c.lru.MoveToFront(e)
	return ent.t
}

func (c *threadCache) put(box int64, key threadsKey, t *Threads) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byBox == nil {
		c.byBox, c.lru = map[int64]*list.Element{}, list.New()
	}
	if e, ok := c.byBox[box]; ok {
		e.Value = &threadEntry{box: box, key: key, t: t}
		c.lru.MoveToFront(e)
		return
	}
	c.byBox[box] = c.lru.PushFront(&threadEntry{box: box, key: key, t: t})
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
