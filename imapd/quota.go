package imapd

import (
	"wardmail/imapd/wire"
)

// Quota (RFC 9208): every person has one quota root, "", covering all their
// mailboxes, with the STORAGE resource in units of 1024 octets.

func cmdGetQuotaRoot(c *conn, cmd *wire.Command) error {
	if len(cmd.Args) != 1 {
		return bad("GETQUOTAROOT takes a mailbox name.")
	}
	name, err := c.mailboxArg(cmd.Args[0])
	if err != nil {
		return err
	}
	mb, err := c.srv.cfg.Mail.MailboxNamed(c.ctx, c.person.ID, name)
	if err != nil {
		return err
	}
	c.w.Raw("* QUOTAROOT ")
	c.writeMailbox(mb.Name)
	c.w.Raw(` ""`).CRLF()
	return c.writeQuota()
}

func cmdGetQuota(c *conn, cmd *wire.Command) error {
	if len(cmd.Args) != 1 {
		return bad("GETQUOTA takes a quota root.")
	}
	root, ok := cmd.Args[0].AString()
	if !ok {
		return bad("GETQUOTA takes a quota root.")
	}
	if root != "" {
		return no("NONEXISTENT", `The only quota root is "".`)
	}
	return c.writeQuota()
}

// writeQuota writes the root's usage and limit. Without a configured limit
// the resource list is empty: there is nothing to run out of.
func (c *conn) writeQuota() error {
	limit := c.lim.QuotaBytes
	if limit <= 0 {
		c.w.Raw(`* QUOTA "" ()`).CRLF()
		return nil
	}
	used, err := c.srv.cfg.Mail.Usage(c.ctx, c.person.ID)
	if err != nil {
		return err
	}
	c.w.Raw(`* QUOTA "" (STORAGE `).Int((used + 1023) / 1024).SP().Int(limit / 1024).Raw(")").CRLF()
	return nil
}
