package imapd

import (
	"strings"

	"wardmail/imapd/wire"
	"wardmail/mail"
)

// cmdThread serves THREAD and UID THREAD (RFC 5256 4) with the
// ORDEREDSUBJECT and REFERENCES algorithms (RFC 5256 2.1, 2.2). The
// criteria are SEARCH's.
//
// The algorithms are the mail service's (mail/rfc5256.go, beside the
// webmail's conversations in mail/threads.go); this file chooses the
// messages, reads their keys (kept by content id, threadcache.go) and
// writes the tree.
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
	var roots []*mail.ThreadNode
	if alg == "REFERENCES" {
		roots = mail.ThreadReferences(msgs)
	} else {
		roots = mail.ThreadOrderedSubject(msgs)
	}
	s := c.sel
	num := func(i int) uint64 {
		if cmd.UID {
			return uint64(s.msgs[msgs[i].Order].uid)
		}
		return uint64(msgs[i].Order + 1)
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
func (c *conn) writeThreadNode(n *mail.ThreadNode, num func(int) uint64) {
	if n.Msg >= 0 {
		c.w.Uint(num(n.Msg))
		if len(n.Kids) == 1 {
			c.w.SP()
			c.writeThreadNode(n.Kids[0], num)
			return
		}
		if len(n.Kids) > 1 {
			c.w.SP()
		}
	}
	for _, k := range n.Kids {
		c.w.Byte('(')
		c.writeThreadNode(k, num)
		c.w.Byte(')')
	}
}

// threadMsgs reads what threading needs of the messages at idx; each
// message's Order is its session index, so ties go by mailbox order.
func (c *conn) threadMsgs(idx []int) ([]mail.ThreadMessage, error) {
	s := c.sel
	out := make([]mail.ThreadMessage, 0, len(idx))
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
		m := *f
		m.Order = i
		if m.Date.IsZero() {
			m.Date = row.InternalDate.UTC()
		}
		out = append(out, m)
	}
	return out, nil
}

// threadFields decodes (or finds decoded) what threading needs of a
// message's content.
func (c *conn) threadFields(row *mail.Message) (*mail.ThreadMessage, error) {
	if f := c.srv.threads.get(row.ContentID); f != nil {
		return f, nil
	}
	f, err := mail.ThreadMessageOf(row.Summary)
	if err != nil {
		c.log.Error("stored summary unreadable", "mailbox", c.sel.mb.ID, "uid", row.UID, "err", err)
		return nil, no("SERVERBUG", "A stored message is damaged; the administrators have been told.")
	}
	c.srv.threads.put(row.ContentID, &f)
	return &f, nil
}
