package imapd

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"wardmail/imapd/wire"
	"wardmail/mail"
	"wardmail/message"
)

// cmdThread serves THREAD and UID THREAD (RFC 5256 4) with the
// ORDEREDSUBJECT and REFERENCES algorithms (RFC 5256 2.1, 2.2). The
// criteria are SEARCH's.
//
// REFERENCES is RFC 5256's algorithm over each message's Message-ID,
// References and In-Reply-To as stored in its summary: the webmail's
// conversation grouping (store/threads.go) answers a different question (it
// merges by subject across the folder and flattens each conversation), so
// its keys are not used for the tree, which needs every reference in order.
func cmdThread(c *conn, cmd *wire.Command) error {
	args := cmd.Args
	if len(args) < 3 || args[0].Kind != wire.Atom {
		return bad("THREAD takes an algorithm, a charset and search criteria.")
	}
	alg := strings.ToUpper(args[0].S)
	if alg != "REFERENCES" && alg != "ORDEREDSUBJECT" {
		return bad("Unknown threading algorithm %q.", args[0].S)
	}
	_, matched, _, err := c.searchCharset("THREAD", args[1], args[2:])
	if err != nil {
		return err
	}
	msgs, err := c.threadMsgs(matched)
	if err != nil {
		return err
	}
	var roots []*tnode
	if alg == "REFERENCES" {
		roots = threadReferences(msgs)
	} else {
		roots = threadOrderedSubject(msgs)
	}
	s := c.sel
	num := func(i int) uint64 {
		if cmd.UID {
			return uint64(s.msgs[msgs[i].idx].uid)
		}
		return uint64(msgs[i].idx + 1)
	}
	c.w.Raw("* THREAD")
	if len(roots) > 0 {
		c.w.SP()
	}
	for _, r := range roots {
		c.w.Byte('(')
		c.writeThreadNode(r, num)
		c.w.Byte(')')
	}
	c.w.CRLF()
	return nil
}

// writeThreadNode writes a node and what hangs below it (RFC 5256 4,
// thread-members): an only child follows its parent after a space, several
// children are each in parentheses; a dummy has no number of its own.
func (c *conn) writeThreadNode(n *tnode, num func(int) uint64) {
	if n.msg >= 0 {
		c.w.Uint(num(n.msg))
		if len(n.kids) == 1 {
			c.w.SP()
			c.writeThreadNode(n.kids[0], num)
			return
		}
		if len(n.kids) > 1 {
			c.w.SP()
		}
	}
	for _, k := range n.kids {
		c.w.Byte('(')
		c.writeThreadNode(k, num)
		c.w.Byte(')')
	}
}

// tmsg is one message being threaded.
type tmsg struct {
	idx     int // session index: ties go by mailbox order
	date    time.Time
	id      string
	refs    []string // References, else the In-Reply-To parent (RFC 5256 2.2 1)
	subject string   // base subject (RFC 5256 2.1)
	reply   bool     // the subject had a reply or forward prefix
}

// threadMsgs reads what threading needs of the messages at idx.
func (c *conn) threadMsgs(idx []int) ([]tmsg, error) {
	s := c.sel
	out := make([]tmsg, 0, len(idx))
	if len(idx) == 0 {
		return out, nil
	}
	uids := make([]uint32, len(idx))
	for k, i := range idx {
		uids[k] = s.msgs[i].uid
	}
	rows, err := c.messages(uids)
	if err != nil {
		return nil, err
	}
	for _, i := range idx {
		row := rows[s.msgs[i].uid]
		if row == nil {
			continue // removed by another session
		}
		f, err := c.threadFields(row)
		if err != nil {
			return nil, err
		}
		m := tmsg{idx: i, id: f.id, refs: f.refs, subject: f.subject, reply: f.reply, date: f.date}
		if m.date.IsZero() {
			m.date = row.InternalDate.UTC()
		}
		out = append(out, m)
	}
	return out, nil
}

// threadFields decodes (or finds decoded) what threading needs of a
// message's content.
func (c *conn) threadFields(row *mail.Message) (*threadFields, error) {
	if f := c.srv.threads.get(row.ContentID); f != nil {
		return f, nil
	}
	tf, err := message.ThreadFieldsOf(row.Summary)
	if err != nil {
		c.log.Error("stored summary unreadable", "mailbox", c.sel.mb.ID, "uid", row.UID, "err", err)
		return nil, no("SERVERBUG", "A stored message is damaged; the administrators have been told.")
	}
	f := &threadFields{id: msgID(tf.MessageID), subject: message.NormalizeSubject(tf.Subject), reply: message.IsReplySubject(tf.Subject)}
	// The sent date, or the internal date when there is none that can
	// be read (RFC 5256 2.2 step 6, as SORT DATE).
	if t, err := message.ParseDate(tf.Date); err == nil {
		f.date = t.UTC()
	}
	for _, r := range tf.References {
		if id := msgID(r); id != "" {
			f.refs = append(f.refs, id)
		}
	}
	if len(f.refs) == 0 {
		if p := msgID(firstID(tf.InReplyTo)); p != "" {
			f.refs = []string{p}
		}
	}
	c.srv.threads.put(row.ContentID, f)
	return f, nil
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

// tnode is a container of RFC 5256 2.2: a message (msg >= 0, an index into
// the messages being threaded) or a dummy standing for a message that is
// referenced but not there (msg < 0).
type tnode struct {
	msg    int
	parent *tnode
	kids   []*tnode
	// date and order sort siblings: a message's own, a dummy's first
	// child's (RFC 5256 2.2 step 6).
	date  time.Time
	order int
}

func (n *tnode) isAncestorOf(m *tnode) bool {
	for p := m; p != nil; p = p.parent {
		if p == n {
			return true
		}
	}
	return false
}

func (n *tnode) unlink() {
	if p := n.parent; p != nil {
		p.kids = slices.DeleteFunc(p.kids, func(k *tnode) bool { return k == n })
		n.parent = nil
	}
}

func (n *tnode) adopt(k *tnode) {
	k.unlink()
	k.parent = n
	n.kids = append(n.kids, k)
}

// threadReferences is RFC 5256 2.2 (after JWZ's algorithm): steps 1 to 6.
func threadReferences(msgs []tmsg) []*tnode {
	byID := make(map[string]*tnode, len(msgs))
	all := make([]*tnode, 0, len(msgs))
	get := func(id string) *tnode {
		if n := byID[id]; n != nil {
			return n
		}
		n := &tnode{msg: -1}
		byID[id] = n
		all = append(all, n)
		return n
	}
	for i := range msgs {
		m := &msgs[i]
		// 1A: the message's container; a duplicate or missing Message-ID
		// makes a container of its own.
		var n *tnode
		if m.id != "" {
			n = get(m.id)
			if n.msg >= 0 {
				n = nil
			}
		}
		if n == nil {
			n = &tnode{msg: -1}
			all = append(all, n)
		}
		n.msg = i
		// 1B: link the references in order, leaving links already made
		// and any that would make a loop.
		var prev *tnode
		for _, r := range m.refs {
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
	var roots []*tnode
	for _, n := range all {
		if n.parent == nil {
			roots = append(roots, n)
		}
	}
	roots = prune(roots, true)
	// 5: join roots by base subject.
	subjectOf := func(n *tnode) *tmsg {
		if n.msg >= 0 {
			return &msgs[n.msg]
		}
		if len(n.kids) > 0 && n.kids[0].msg >= 0 {
			return &msgs[n.kids[0].msg]
		}
		return nil
	}
	table := map[string]*tnode{}
	for _, r := range roots {
		m := subjectOf(r)
		if m == nil || m.subject == "" {
			continue
		}
		old := table[m.subject]
		if old == nil || (r.msg < 0 && old.msg >= 0) ||
			(old.msg >= 0 && r.msg >= 0 && msgs[old.msg].reply && !m.reply) {
			table[m.subject] = r
		}
	}
	removed := map[*tnode]bool{}
	replaced := map[*tnode]*tnode{}
	for _, r := range roots {
		m := subjectOf(r)
		if m == nil || m.subject == "" {
			continue
		}
		t := table[m.subject]
		if t == r || removed[r] {
			continue
		}
		switch {
		case t.msg < 0 && r.msg < 0:
			for _, k := range slices.Clone(r.kids) {
				t.adopt(k)
			}
			removed[r] = true
		case t.msg < 0:
			t.adopt(r)
			removed[r] = true
		case r.msg < 0:
			r.adopt(t)
			removed[t] = true
			table[m.subject] = r
		case m.reply && !msgs[t.msg].reply:
			t.adopt(r)
			removed[r] = true
		default:
			d := &tnode{msg: -1}
			replaced[t] = d
			d.adopt(t)
			d.adopt(r)
			removed[r] = true
			table[m.subject] = d
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
func prune(nodes []*tnode, root bool) []*tnode {
	var out []*tnode
	for _, n := range nodes {
		n.kids = prune(n.kids, false)
		if n.msg < 0 {
			if len(n.kids) == 0 {
				continue
			}
			if !root || len(n.kids) == 1 {
				for _, k := range n.kids {
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
func sortTree(nodes []*tnode, msgs []tmsg) {
	for _, n := range nodes {
		sortTree(n.kids, msgs)
		if n.msg >= 0 {
			n.date, n.order = msgs[n.msg].date, msgs[n.msg].idx
		} else if len(n.kids) > 0 {
			n.date, n.order = n.kids[0].date, n.kids[0].order
		}
	}
	slices.SortStableFunc(nodes, func(a, b *tnode) int {
		if r := a.date.Compare(b.date); r != 0 {
			return r
		}
		return cmp.Compare(a.order, b.order)
	})
}

// threadOrderedSubject is RFC 5256 2.1: messages with the same base
// subject form a thread, ordered by sent date; the first is the parent of
// the others; threads go in the order of their first messages.
func threadOrderedSubject(msgs []tmsg) []*tnode {
	order := make([]int, len(msgs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		x, y := &msgs[a], &msgs[b]
		if r := strings.Compare(x.subject, y.subject); r != 0 {
			return r
		}
		if r := x.date.Compare(y.date); r != 0 {
			return r
		}
		return cmp.Compare(x.idx, y.idx)
	})
	var roots []*tnode
	var cur *tnode
	for k, i := range order {
		n := &tnode{msg: i, date: msgs[i].date, order: msgs[i].idx}
		if k > 0 && cur != nil && msgs[cur.msg].subject == msgs[i].subject {
			cur.adopt(n)
			continue
		}
		cur = n
		roots = append(roots, n)
	}
	slices.SortStableFunc(roots, func(a, b *tnode) int {
		if r := a.date.Compare(b.date); r != 0 {
			return r
		}
		return cmp.Compare(a.order, b.order)
	})
	return roots
}
