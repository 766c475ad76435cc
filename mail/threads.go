package mail

import (
	"container/list"
	"context"
	"slices"
	"sort"
	"sync"
	"time"
)

// Conversations, as the webmail shows them (Gmail and Outlook on the web do
// the same): messages linked by Message-ID, In-Reply-To and References
// belong together, whichever of them arrived, and a message with a reply
// prefix and no references joins the latest earlier conversation with the
// same base subject. The keys are message.ThreadKeys: the base subject is
// RFC 5256 2.1's, as IMAP THREAD=ORDEREDSUBJECT uses (imapd/thread.go).
// IMAP THREAD=REFERENCES builds RFC 5256's tree instead, which needs every
// reference in order and never merges by subject across the folder, so it
// does not use this grouping.

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

// Conversations groups a folder's messages into conversations.
//
// The grouping of the folders read last is kept (threadCache) and brought up
// to date from what changed since (Storage.ThreadRows: the rows that arrived
// and the UIDs that vanished, read in one snapshot). A flag change costs
// nothing, an arrival or a removal a few rows, and only a folder not kept (or
// one that changed by more than a tenth) is grouped from scratch (290 ms at
// 100,000 messages, docs/benchmarks.md). What callers hold (Threads) is never
// changed once returned.
func (s *Service) Conversations(ctx context.Context, mailboxID int64) (*Threads, error) {
	if st := s.threads.get(mailboxID); st != nil {
		st.mu.Lock()
		defer st.mu.Unlock()
		read, err := s.st.ThreadRows(ctx, mailboxID, st.mark, max(len(st.msgs)/10, 100))
		if err != nil {
			return nil, err
		}
		if read.Mark == st.mark && !read.Full {
			return st.view, nil
		}
		if !read.Full {
			st.remove(read.Vanished)
			st.add(read.Rows)
			st.mark = read.Mark
			st.view = st.threads()
			return st.view, nil
		}
		// Changed by too much: grouped afresh below from these rows.
		return s.group(mailboxID, read), nil
	}
	read, err := s.st.ThreadRows(ctx, mailboxID, ThreadMark{}, 0)
	if err != nil {
		return nil, err
	}
	return s.group(mailboxID, read), nil
}

// group groups a whole folder and keeps the grouping.
func (s *Service) group(mailboxID int64, read *ThreadRead) *Threads {
	st := newGroupState()
	st.add(read.Rows)
	st.mark = read.Mark
	st.view = st.threads()
	s.threads.put(mailboxID, st)
	return st.view
}

// Conversation is one row of a conversation list: the conversation's
// newest message and what it holds.
type Conversation struct {
	// Newest is the UID of the conversation's newest message.
	Newest uint32
	// Count is how many messages the conversation has in the folder.
	Count int
	// UIDs are its messages still in the folder, newest first, at most the
	// maxUIDs asked for (a storm thread can hold thousands).
	UIDs []uint32
	// Unread counts the messages of UIDs without \Seen; Flagged says
	// whether any of them is \Flagged.
	Unread  int
	Flagged bool
}

// ConversationPage is one page of a folder's conversations.
type ConversationPage struct {
	Conversations []Conversation
	// Total counts the folder's conversations, Messages its messages.
	Total, Messages int
}

// ConversationList returns the folder's conversations from offset, at most
// limit, newest first, each with its unread count and whether it is
// flagged, read live (a message read a moment ago counts as read). The
// grouping is kept between calls; the flags are read for the page only.
func (s *Service) ConversationList(ctx context.Context, mailboxID int64, offset, limit, maxUIDs int) (*ConversationPage, error) {
	t, err := s.Conversations(ctx, mailboxID)
	if err != nil {
		return nil, err
	}
	page := t.List[min(max(offset, 0), len(t.List)):min(max(offset, 0)+max(limit, 0), len(t.List))]
	var all []uint32
	for _, th := range page {
		all = append(all, th.UIDs[:min(len(th.UIDs), maxUIDs)]...)
	}
	flags, err := s.st.FlagsOf(ctx, mailboxID, all)
	if err != nil {
		return nil, err
	}
	out := &ConversationPage{Conversations: make([]Conversation, 0, len(page)), Total: len(t.List), Messages: t.Messages}
	for _, th := range page {
		c := Conversation{Newest: th.UIDs[0], Count: len(th.UIDs), UIDs: []uint32{}}
		for _, u := range th.UIDs[:min(len(th.UIDs), maxUIDs)] {
			f, ok := flags[u]
			if !ok {
				continue // removed since the grouping was made
			}
			c.UIDs = append(c.UIDs, u)
			if !slices.Contains(f, FlagSeen) {
				c.Unread++
			}
			c.Flagged = c.Flagged || slices.Contains(f, FlagFlagged)
		}
		out.Conversations = append(out.Conversations, c)
	}
	return out, nil
}

// ConversationOf returns the conversation holding uid in the folder; false
// when no message of the folder has that UID.
func (s *Service) ConversationOf(ctx context.Context, mailboxID int64, uid uint32) (*Thread, bool, error) {
	t, err := s.Conversations(ctx, mailboxID)
	if err != nil {
		return nil, false, err
	}
	th, ok := t.ThreadOf(uid)
	return th, ok, nil
}

// groupState is a folder's grouping: a union-find over its messages, in the
// order they were added, with the ids each message names.
type groupState struct {
	mu     sync.Mutex
	mark   ThreadMark // how far the folder has been read
	msgs   []ThreadRow
	gone   []bool // removed since added
	parent []int32
	byID   map[int64]int32
	bySubj map[int64]int32 // base subject -> latest message with it
	byUID  map[uint32]int32
	sorted bool // msgs are in arrival order
	view   *Threads
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

func (g *groupState) add(rows []ThreadRow) {
	for _, r := range rows {
		n := int32(len(g.msgs))
		if n > 0 && (r.Date < g.msgs[n-1].Date || r.Date == g.msgs[n-1].Date && r.UID < g.msgs[n-1].UID) {
			g.sorted = false
		}
		g.msgs = append(g.msgs, r)
		g.gone = append(g.gone, false)
		g.parent = append(g.parent, n)
		g.byUID[r.UID] = n
		k := &r.Keys
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
			return x.Date < y.Date || x.Date == y.Date && x.UID < y.UID
		})
	}
	t := &Threads{Messages: len(order)}
	at := make([]int32, len(g.msgs)) // root -> index in t.List, plus one
	for k := len(order) - 1; k >= 0; k-- {
		i := order[k]
		r := g.find(i)
		if at[r] == 0 {
			t.List = append(t.List, Thread{Newest: time.Unix(g.msgs[i].Date, 0)})
			at[r] = int32(len(t.List))
		}
		n := int(at[r]) - 1
		t.List[n].UIDs = append(t.List[n].UIDs, g.msgs[i].UID)
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
