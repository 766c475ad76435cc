package imapd

import (
	"slices"
	"strings"

	"wardmail/imapd/wire"
	"wardmail/mail"
)

// cmdStatus reports a mailbox's counts (RFC 9051 6.3.11, RFC 8438
// STATUS=SIZE, RFC 7162 3.1.6 HIGHESTMODSEQ).
func cmdStatus(c *conn, cmd *wire.Command) error {
	if len(cmd.Args) != 2 || cmd.Args[1].Kind != wire.List {
		return bad("STATUS takes a mailbox name and a list of items.")
	}
	name, err := c.mailboxArg(cmd.Args[0])
	if err != nil {
		return err
	}
	items, err := statusItems(cmd.Args[1].List)
	if err != nil {
		return err
	}
	mb, err := c.srv.cfg.Mail.MailboxNamed(c.ctx, c.person.ID, name)
	if err != nil {
		return err
	}
	if mb.PersonID != c.person.ID {
		return no("NONEXISTENT", "No such mailbox.")
	}
	return c.writeStatus(mb, items)
}

// statusItems validates STATUS data item names and returns them upper case.
func statusItems(l []wire.Arg) ([]string, error) {
	if len(l) == 0 {
		return nil, bad("STATUS needs at least one item.")
	}
	items := make([]string, 0, len(l))
	for _, a := range l {
		if a.Kind != wire.Atom {
			return nil, bad("Invalid STATUS item.")
		}
		it := strings.ToUpper(a.S)
		switch it {
		case "MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "DELETED", "SIZE", "HIGHESTMODSEQ", "RECENT", "APPENDLIMIT", "MAILBOXID":
		default:
			return nil, bad("Unknown STATUS item %q.", a.S)
		}
		items = append(items, it)
	}
	return items, nil
}

// writeStatus writes "* STATUS name (...)".
func (c *conn) writeStatus(mb *mail.Mailbox, items []string) error {
	if mail.IsInbox(mb) && mb.PersonID == c.person.ID {
		if err := c.materialise(); err != nil {
			return err
		}
	}
	st, err := c.srv.cfg.Mail.Status(c.ctx, mb.ID)
	if err != nil {
		return err
	}
	if slices.Contains(items, "HIGHESTMODSEQ") {
		c.enableCondstore() // before the STATUS line: it may answer first
	}
	c.w.Raw("* STATUS ")
	c.writeMailbox(mb.Name)
	c.w.Raw(" (")
	for i, it := range items {
		if i > 0 {
			c.w.SP()
		}
		c.w.Raw(it).SP()
		switch it {
		case "MESSAGES":
			c.w.Uint(uint64(st.Messages))
		case "UIDNEXT":
			c.w.Uint(uint64(st.UIDNext))
		case "UIDVALIDITY":
			c.w.Uint(uint64(st.UIDValidity))
		case "UNSEEN":
			c.w.Uint(uint64(st.Unseen))
		case "DELETED":
			c.w.Uint(uint64(st.Deleted))
		case "SIZE":
			c.w.Int(st.Size)
		case "HIGHESTMODSEQ":
			c.w.Uint(st.HighestModSeq)
		case "RECENT":
			c.w.Uint(uint64(st.Recent))
		case "APPENDLIMIT":
			c.w.Int(c.lim.MaxLiteral)
		case "MAILBOXID": // RFC 8474 4.3
			c.w.Byte('(').Raw(mailboxObjectID(mb)).Byte(')')
		}
	}
	c.w.Raw(")").CRLF()
	return nil
}
