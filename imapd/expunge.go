package imapd

import "wardmail/imapd/wire"

// cmdExpunge removes \Deleted messages (RFC 9051 6.4.3); UID EXPUNGE only
// those in a UID set (RFC 4315 2.1, RFC 9051 6.4.9).
func cmdExpunge(c *conn, cmd *wire.Command) error {
	s := c.sel
	var uids []uint32
	if cmd.UID {
		if len(cmd.Args) != 1 || cmd.Args[0].Kind != wire.Atom {
			return bad("UID EXPUNGE takes a UID set.")
		}
		set, err := parseNumSet(cmd.Args[0].S)
		if err != nil {
			return err
		}
		idx, err := s.indices(set, true)
		if err != nil {
			return err
		}
		if len(idx) == 0 {
			return nil
		}
		uids = make([]uint32, len(idx))
		for k, i := range idx {
			uids[k] = s.msgs[i].uid
		}
	} else if len(cmd.Args) != 0 {
		return bad("EXPUNGE takes no arguments.")
	}
	if s.readOnly {
		return no("CANNOT", "The mailbox is open read-only (EXAMINE).")
	}
	gone, err := c.srv.cfg.Mail.Expunge(c.ctx, s.mb.ID, uids)
	if err != nil {
		return err
	}
	c.removeMessages(gone)
	return nil
}
