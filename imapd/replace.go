package imapd

import (
	"errors"
	"strconv"
	"strings"

	"wardmail/imapd/wire"
	"wardmail/mail"
)

// cmdReplace serves REPLACE and UID REPLACE (RFC 8508): a message of the
// selected mailbox is replaced by a new one appended to the named mailbox
// (often the same Drafts), in one transaction: the new message is stored
// and the old one expunged, or neither (RFC 8508 3.3). The new message's UID
// comes in an untagged OK [APPENDUID] before the EXPUNGE (RFC 8508 3.3
// example); the append-message may take any APPEND form (UTF8, CATENATE).
func cmdReplace(c *conn, cmd *wire.Command) error {
	if len(cmd.Args) < 3 || cmd.Args[0].Kind != wire.Atom {
		return bad("%s takes a message number, a mailbox and a message.", cmd.Name)
	}
	num := cmd.Args[0].S
	if strings.ContainsAny(num, ",:$") {
		return bad("%s replaces one message: give one number.", cmd.Name)
	}
	set, err := parseNumSet(num)
	if err != nil {
		return err
	}
	name, err := c.mailboxArg(cmd.Args[1])
	if err != nil {
		return err
	}
	m, rest, err := c.parseAppendMsg(cmd.Args[2:])
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return bad("REPLACE takes one message.")
	}
	s := c.sel
	if s.readOnly {
		return no("CANNOT", "The mailbox is open read-only (EXAMINE).")
	}
	idx, err := s.indices(set, cmd.UID)
	if err != nil {
		return err
	}
	if len(idx) == 0 || s.expunged[s.msgs[idx[0]].uid] {
		return no("NONEXISTENT", "No message has that UID.")
	}
	old := s.msgs[idx[0]].uid
	dst, err := c.appendTarget(name)
	if err != nil {
		return err
	}
	nm, err := c.prepareAppend(m)
	if err != nil {
		return err
	}
	uid, err := c.srv.cfg.Mail.Replace(c.ctx, s.mb.ID, old, dst.ID, nm)
	if errors.Is(err, mail.ErrNotFound) {
		// Expunged by another session since this one last looked.
		return no("EXPUNGEISSUED", "The message was expunged meanwhile.")
	}
	if err != nil {
		return err
	}
	c.untagged("OK", "APPENDUID "+strconv.FormatUint(uint64(dst.UIDValidity()), 10)+" "+
		strconv.FormatUint(uint64(uid), 10), "Replacement message.")
	c.removeMessages([]uint32{old})
	return nil
}
