package imapd

import (
	"wardmail/imapd/wire"
	"wardmail/mail"
)

// cmdCreate creates a mailbox, with an optional special use (RFC 9051 6.3.4,
// RFC 6154 3 CREATE-SPECIAL-USE).
func cmdCreate(c *conn, cmd *wire.Command) error {
	if len(cmd.Args) < 1 || len(cmd.Args) > 2 {
		return bad("CREATE takes a mailbox name and optional parameters.")
	}
	name, err := c.mailboxArg(cmd.Args[0])
	if err != nil {
		return err
	}
	use := ""
	if len(cmd.Args) == 2 {
		p := cmd.Args[1]
		if p.Kind != wire.List || len(p.List) != 2 || !p.List[0].IsAtom("USE") || p.List[1].Kind != wire.List {
			return bad("CREATE parameters must be (USE (attributes)).")
		}
		attrs := p.List[1].List
		if len(attrs) > 1 {
			return no("USEATTR", "A mailbox can have only one special use here.")
		}
		if len(attrs) == 1 {
			if use = canonicalUse(attrs[0]); use == "" {
				return no("USEATTR", "Unknown special-use attribute.")
			}
		}
	}
	mb, err := c.srv.cfg.Mail.CreateMailbox(c.ctx, c.person.ID, name, use)
	if err != nil {
		return err
	}
	c.okText = "[MAILBOXID (" + mailboxObjectID(mb) + ")] CREATE completed." // RFC 8474 4.1
	return nil
}

func canonicalUse(a wire.Arg) string {
	if a.Kind != wire.Atom {
		return ""
	}
	return mail.CanonicalUse(a.S)
}

// cmdDelete deletes a mailbox (RFC 9051 6.3.5).
func cmdDelete(c *conn, cmd *wire.Command) error {
	if len(cmd.Args) != 1 {
		return bad("DELETE takes a mailbox name.")
	}
	name, err := c.mailboxArg(cmd.Args[0])
	if err != nil {
		return err
	}
	return c.srv.cfg.Mail.DeleteMailbox(c.ctx, c.person.ID, name)
}

// cmdRename renames a mailbox and its children (RFC 9051 6.3.6).
func cmdRename(c *conn, cmd *wire.Command) error {
	if len(cmd.Args) != 2 {
		return bad("RENAME takes two mailbox names.")
	}
	from, err := c.mailboxArg(cmd.Args[0])
	if err != nil {
		return err
	}
	to, err := c.mailboxArg(cmd.Args[1])
	if err != nil {
		return err
	}
	return c.srv.cfg.Mail.RenameMailbox(c.ctx, c.person.ID, from, to)
}

func cmdSubscribe(c *conn, cmd *wire.Command) error   { return subscribe(c, cmd, true) }
func cmdUnsubscribe(c *conn, cmd *wire.Command) error { return subscribe(c, cmd, false) }

// subscribe serves SUBSCRIBE and UNSUBSCRIBE (RFC 9051 6.3.7, 6.3.8).
func subscribe(c *conn, cmd *wire.Command, on bool) error {
	if len(cmd.Args) != 1 {
		return bad("%s takes a mailbox name.", cmd.Name)
	}
	name, err := c.mailboxArg(cmd.Args[0])
	if err != nil {
		return err
	}
	return c.srv.cfg.Mail.SetSubscribed(c.ctx, c.person.ID, name, on)
}
