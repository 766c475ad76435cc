package mail

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"wardmail/message"
)

// IMAP THREAD (RFC 5256): the ORDEREDSUBJECT and REFERENCES algorithms, which
// answer a different question from the webmail's conversations (threads.go):
// a tree that keeps every reference in order, and subjects merged only
// between roots. Both read the same message keys (package message: base
// subject, reply prefix, Message-ID and references), so a reply is a reply
// the same way for both. imapd chooses the messages (SEARCH criteria) and
// writes the tree.

// ThreadMessage is one message being threaded.
type ThreadMessage struct {
	// Order breaks ties between equal dates (imapd: the mailbox order).
	Order int
	// Date is the sent date, or the internal date when there is none that
	// can be read (RFC 5256 2.2 step 6, as SORT DATE).
	Date time.Time
	// ID is the Message-ID without its angle brackets ("": none).
	ID string
	// Refs are References, else the In-Reply-To parent (RFC 5256 2.2 1).
	Refs []string
	// Subject is the base subject (RFC 5256 2.1); Reply says whether the
	// subject had a reply or forward prefix.
	Subject string
	Reply   bool
}

// ThreadMessageOf decodes what threading needs from a stored summary
// (message.Summary). Date is zero when the message has no Date that can be
// read: the caller puts the internal date in its place. Order is left to
// the caller.
func ThreadMessageOf(summary []byte) (ThreadMessage, error) {
	tf, err := message.ThreadFieldsOf(summary)
	if err != nil {
		return ThreadMessage{}, err
	}
	m := ThreadMessage{ID: msgID(tf.MessageID), Subject: message.NormalizeSubject(tf.Subject), Reply: message.IsReplySubject(tf.Subject)}
	if t, err := message.ParseDate(tf.Date); err == nil {
		m.Date = t.UTC()
	}
	for _, r := range tf.References {
		if id := msgID(r); id != "" {
			m.Refs = append(m.Refs, id)
		}
	}
	if len(m.Refs) == 0 {
		if p := msgID(firstID(tf.InReplyTo)); p != "" {
			m.Refs = []string{p}
		}
	}
	return m, nil
}

// msgID returns a message id without its angle brackets and white space,
// or "" when there is none.
func msgID(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
	return strings.TrimSpace(s)
}

// firstID returns the first <...> of a header value (In-Reply-To may hold
// several, or comments).
func firstID(v string) string {
	i := strings.IndexByte(v, '<')
	if i < 0 {
		return ""
	}
	j := strings.IndexByte(v[i:], '>')
	if j < 0 {
		return ""
	}
	return v[i : i+j+1]
}

// ThreadNode is a container of RFC 5256 2.2: a message (Msg >= 0, an index
// into the messages being threaded) or a dummy standing for a message that
// is referenced but not there (Msg < 0), with what hangs below it.
type ThreadNode struct {
	Msg    int
	parent *ThreadNode
	Kids   []*ThreadNode
	// date and order sort siblings: a message's own, a dummy's first
	// child's (RFC 5256 2.2 step 6).
	date  time.Time
	order int
}

func (n *ThreadNode) isAncestorOf(m *ThreadNode) bool {
	for p := m; p != nil; p = p.parent {
		if p == n {
			return true
		}
	}
	return false
}

func (n *ThreadNode) unlink() {
	if p := n.parent; p != nil {
		p.Kids = slices.DeleteFunc(p.Kids, func(k *ThreadNode) bool { return k == n })
		n.parent = nil
	}
}

func (n *ThreadNode) adopt(k *ThreadNode) {
	k.unlink()
	k.parent = n
	n.Kids = append(n.Kids, k)
}

// ThreadReferences is RFC 5256 2.2 (after JWZ's algorithm): steps 1 to 6.
func ThreadReferences(msgs []ThreadMessage) []*ThreadNode {
	byID := make(map[string]*ThreadNode, len(msgs))
	all := make([]*ThreadNode, 0, len(msgs))
	get := func(id string) *ThreadNode {
		if n := byID[id]; n != nil {
			return n
		}
		n := &ThreadNode{Msg: -1}
		byID[id] = n
		all = append(all, n)
		return n
	}
	for i := range msgs {
		m := &msgs[i]
		// 1A: the message's container; a duplicate or missing Message-ID
		// makes a container of its own.
		var n *ThreadNode
		if m.ID != "" {
			n = get(m.ID)
			if n.Msg >= 0 {
				n = nil
			}
		}
		if n == nil {
			n = &ThreadNode{Msg: -1}
			all = append(all, n)
		}
		n.Msg = i
		// 1B: link the references in order, leaving links already made
		// and any that would make a loop.
		var prev *ThreadNode
		for _, r := range m.Refs {
			rc := get(r)
			if prev != nil && rc.parent == nil && rc != prev && !rc.isAncestorOf(prev) {
				prev.adopt(rc)
			}
			prev = rc
		}
		// 1C: the last reference is the parent, unless that makes a loop.
		if prev != nil && (prev == n || n.isAncestorOf(prev)) {
			prev = nil
		}
		n.unlink()
		if prev != nil {
			prev.adopt(n)
		}
	}
	// 2-4: the root set, without dummies that hold nothing.
	var roots []*ThreadNode
	for _, n := range all {
		if n.parent == nil {
			roots = append(roots, n)
		}
	}
	roots = prune(roots, true)
	// 5: join roots by base subject.
	subjectOf := func(n *ThreadNode) *ThreadMessage {
		if n.Msg >= 0 {
			return &msgs[n.Msg]
		}
		if len(n.Kids) > 0 && n.Kids[0].Msg >= 0 {
			return &msgs[n.Kids[0].Msg]
		}
		return nil
	}
	table := map[string]*ThreadNode{}
	for _, r := range roots {
		m := subjectOf(r)
		if m == nil || m.Subject == "" {
			continue
		}
		old := table[m.Subject]
		if old == nil || (r.Msg < 0 && old.Msg >= 0) ||
			(old.Msg >= 0 && r.Msg >= 0 && msgs[old.Msg].Reply && !m.Reply) {
			table[m.Subject] = r
		}
	}
	removed := map[*ThreadNode]bool{}
	replaced := map[*ThreadNode]*ThreadNode{}
	for _, r := range roots {
		m := subjectOf(r)
		if m == nil || m.Subject == "" {
			continue
		}
		t := table[m.Subject]
		if t == r || removed[r] {
			continue
		}
		switch {
		case t.Msg < 0 && r.Msg < 0:
			for _, k := range slices.Clone(r.Kids) {
				t.adopt(k)
			}
			removed[r] = true
		case t.Msg < 0:
			t.adopt(r)
			removed[r] = true
		case r.Msg < 0:
			r.adopt(t)
			removed[t] = true
			table[m.Subject] = r
		case m.Reply && !msgs[t.Msg].Reply:
			t.adopt(r)
			removed[r] = true
		default:
			d := &ThreadNode{Msg: -1}
			replaced[t] = d
			d.adopt(t)
			d.adopt(r)
			removed[r] = true
			table[m.Subject] = d
		}
	}
	out := roots[:0]
	for _, r := range roots {
		for replaced[r] != nil {
			r = replaced[r]
		}
		if !removed[r] && r.parent == nil {
			out = append(out, r)
		}
	}
	sortTree(out, msgs)
	return out
}

// prune removes dummies without children and puts the children of other
// dummies in their place, except that several children are not promoted
// to the root set (RFC 5256 2.2 step 4).
func prune(nodes []*ThreadNode, root bool) []*ThreadNode {
	var out []*ThreadNode
	for _, n := range nodes {
		n.Kids = prune(n.Kids, false)
		if n.Msg < 0 {
			if len(n.Kids) == 0 {
				continue
			}
			if !root || len(n.Kids) == 1 {
				for _, k := range n.Kids {
					k.parent = n.parent
					out = append(out, k)
				}
				continue
			}
		}
		out = append(out, n)
	}
	return out
}

// sortTree orders siblings by sent date, then mailbox order; a dummy takes
// the date of its first child once its children are sorted (RFC 5256 2.2
// step 6).
func sortTree(nodes []*ThreadNode, msgs []ThreadMessage) {
	for _, n := range nodes {
		sortTree(n.Kids, msgs)
		if n.Msg >= 0 {
			n.date, n.order = msgs[n.Msg].Date, msgs[n.Msg].Order
		} else if len(n.Kids) > 0 {
			n.date, n.order = n.Kids[0].date, n.Kids[0].order
		}
	}
	slices.SortStableFunc(nodes, func(a, b *ThreadNode) int {
		if r := a.date.Compare(b.date); r != 0 {
			return r
		}
		return cmp.Compare(a.order, b.order)
	})
}

// ThreadOrderedSubject is RFC 5256 2.1: messages with the same base
// subject form a thread, ordered by sent date; the first is the parent of
// the others; threads go in the order of their first messages.
func ThreadOrderedSubject(msgs []ThreadMessage) []*ThreadNode {
	order := make([]int, len(msgs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		x, y := &msgs[a], &msgs[b]
		if r := strings.Compare(x.Subject, y.Subject); r != 0 {
			return r
		}
		if r := x.Date.Compare(y.Date); r != 0 {
			return r
		}
		return cmp.Compare(x.Order, y.Order)
	})
	var roots []*ThreadNode
	var cur *ThreadNode
	for k, i := range order {
		n := &ThreadNode{Msg: i, date: msgs[i].Date, order: msgs[i].Order}
		if k > 0 && cur != nil && msgs[cur.Msg].Subject == msgs[i].Subject {
			cur.adopt(n)
			continue
		}
		cur = n
		roots = append(roots, n)
	}
	slices.SortStableFunc(roots, func(a, b *ThreadNode) int {
		if r := a.date.Compare(b.date); r != 0 {
			return r
		}
		return cmp.Compare(a.order, b.order)
	})
	return roots
}
