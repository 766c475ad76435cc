package imapd

import (
	"errors"
	"strconv"

	"wardmail/imapd/wire"
	"wardmail/mail"
)

func cmdCopy(c *conn, cmd *wire.Command) error { return copyOrMove(c, cmd, false) }
func cmdMove(c *conn, cmd *wire.Command) error { return copyOrMove(c, cmd, true) }

// copyOrMove serves COPY (RFC 9051 6.4.7) and MOVE (RFC 6851), answering
// COPYUID (RFC 4315 3).
func copyOrMove(c *conn, cmd *wire.Command, move bool) error {
	if len(cmd.Args) != 2 || cmd.Args[0].Kind != wire.Atom {
		return bad("%s takes a sequence set and a mailbox name.", cmd.Name)
	}
	set, err := parseNumSet(cmd.Args[0].S)
	if err != nil {
		return err
	}
	name, err := c.mailboxArg(cmd.Args[1])
	if err != nil {
		return err
	}
	s := c.sel
	if move && s.readOnly {
		return no("CANNOT", "The mailbox is open read-only (EXAMINE).")
	}
	dst, err := c.srv.cfg.Mail.MailboxNamed(c.ctx, c.person.ID, name)
	if errors.Is(err, mail.ErrNotFound) {
		return no("TRYCREATE", "The destination mailbox does not exist.")
	}
	if err != nil {
		return err
	}
	if dst.PersonID != c.person.ID {
		return no("TRYCREATE", "The destination mailbox does not exist.")
	}
	idx, err := s.indices(set, cmd.UID)
	if err != nil {
		return err
	}
	uids := make([]uint32, 0, len(idx))
	for _, i := range idx {
		if !s.expunged[s.msgs[i].uid] {
			uids = append(uids, s.msgs[i].uid)
		}
	}
	if len(uids) == 0 {
		if move {
			c.okText = "No messages to move."
		} else {
			c.okText = "No messages to copy."
		}
		return nil
	}
	var from, to []uint32
	if move {
		from, to, err = c.srv.cfg.Mail.Move(c.ctx, s.mb, dst, uids)
	} else {
		from, to, err = c.srv.cfg.Mail.Copy(c.ctx, s.mb, dst, uids)
	}
	if err != nil {
		return err
	}
	code := ""
	if len(from) > 0 {
		// Source and destination UIDs both ascend, so the two sets pair
		// up in order (RFC 4315 3).
		code = "COPYUID " + strconv.FormatUint(uint64(dst.UIDValidity()), 10) + " " + formatSet(from) + " " + formatSet(to)
	}
	if !move {
		if code != "" {
			c.okText = "[" + code + "] COPY completed."
		}
		return nil
	}
	// RFC 6851 3.3: COPYUID comes in an untagged OK before the expunges.
	if code != "" {
		c.untagged("OK", code, "Moved.")
	}
	c.removeMessages(from)
	return nil
}
