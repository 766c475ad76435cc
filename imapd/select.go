package imapd

import (
	"slices"
	"strconv"
	"strings"

	"wardmail/imapd/wire"
	"wardmail/mail"
)

func cmdSelect(c *conn, cmd *wire.Command) error  { return c.selectMailbox(cmd, false) }
func cmdExamine(c *conn, cmd *wire.Command) error { return c.selectMailbox(cmd, true) }

// qresyncParams are SELECT's QRESYNC parameters (RFC 7162 3.2.5).
type qresyncParams struct {
	uidValidity uint32
	modseq      uint64
	known       numSet // known UIDs, or nil for all
}

// selectMailbox serves SELECT and EXAMINE (RFC 9051 6.3.2, 6.3.3) with the
// CONDSTORE and QRESYNC parameters (RFC 7162 3.1.8, 3.2.5).
func (c *conn) selectMailbox(cmd *wire.Command, readOnly bool) error {
	if len(cmd.Args) < 1 || len(cmd.Args) > 2 {
		return bad("%s takes a mailbox name and optional parameters.", cmd.Name)
	}
	name, err := c.mailboxArg(cmd.Args[0])
	if err != nil {
		return err
	}
	var qr *qresyncParams
	condstore := false
	if len(cmd.Args) == 2 {
		if cmd.Args[1].Kind != wire.List {
			return bad("%s parameters must be a list.", cmd.Name)
		}
		params := cmd.Args[1].List
		for i := 0; i < len(params); i++ {
			switch {
			case params[i].IsAtom("CONDSTORE"):
				condstore = true
			case params[i].IsAtom("QRESYNC"):
				if !c.qresync {
					return bad("Enable QRESYNC first.")
				}
				if i+1 >= len(params) {
					return bad("QRESYNC needs its parameters.")
				}
				i++
				if qr, err = parseQresync(params[i]); err != nil {
					return err
				}
			default:
				return bad("Unknown %s parameter.", cmd.Name)
			}
		}
	}

	// Leaving the old mailbox happens even if the new one fails
	// (RFC 9051 6.3.2); IMAP4rev2 and QRESYNC clients are told so.
	if c.sel != nil {
		c.sel.close()
		c.sel = nil
		c.state = stateAuth
		if c.qresync || c.rev2 {
			c.untagged("OK", "CLOSED", "Previous mailbox closed.")
		}
	}
	if condstore {
		c.enableCondstore()
	}
	mb, err := c.srv.cfg.Mail.MailboxNamed(c.ctx, c.person.ID, name)
	if err != nil {
		return err
	}
	// Subscribe before the snapshot, so no change falls between them
	// (mail.Service.Watch; an INBOX takes in its pending list posts, or
	// waits for the take-in begun at sign-in).
	var ahead *mail.TakeIn
	if mail.IsInbox(mb) {
		ahead, c.takeIn = c.takeIn, nil
	}
	sub, lists, err := c.srv.cfg.Mail.WatchAfter(c.ctx, c.person.ID, mb, ahead)
	if err != nil {
		return err
	}
	refs, mb, err := c.srv.cfg.Mail.Snapshot(c.ctx, mb.ID)
	if err != nil {
		sub.Close()
		return err
	}
	s := &selected{mb: mb, readOnly: readOnly, condstore: c.condstore, modseq: mb.HighestModSeq, sub: sub, lists: lists,
		msgs: make([]msgState, len(refs))}
	for i, r := range refs {
		s.msgs[i] = msgState{uid: r.UID, flags: r.Flags, modseq: r.ModSeq}
		s.learnKeywords(r.Flags)
	}
	flags := s.flagList()
	c.w.Raw("* FLAGS (").Raw(flags).Raw(")\r\n")
	c.w.Raw("* ").Uint(uint64(len(s.msgs))).Raw(" EXISTS\r\n")
	if !c.rev2 {
		// IMAP4rev1 only (RFC 3501 6.3.1): \Recent and the first unseen
		// message; IMAP4rev2 dropped both (RFC 9051 appendix E).
		if err := c.takeRecent(s, 0); err != nil {
			sub.Close()
			return err
		}
		c.writeRecentCount(s)
		for i, m := range s.msgs {
			if !hasFlag(m.flags, mail.FlagSeen) {
				c.untagged("OK", "UNSEEN "+strconv.Itoa(i+1), "First unseen.")
				break
			}
		}
	}
	c.untagged("OK", "UIDVALIDITY "+strconv.FormatUint(uint64(mb.UIDValidity()), 10), "UIDs valid.")
	c.untagged("OK", "UIDNEXT "+strconv.FormatUint(uint64(mb.UIDNext), 10), "Predicted next UID.")
	c.writePermanentFlags(s, flags)
	c.untagged("OK", "HIGHESTMODSEQ "+strconv.FormatUint(mb.HighestModSeq, 10), "Highest MODSEQ.")
	c.untagged("OK", "MAILBOXID ("+mailboxObjectID(mb)+")", "Mailbox id.") // RFC 8474 4.1
	if c.rev2 {
		c.w.Raw(`* LIST () "/" `)
		c.writeMailbox(mb.Name)
		c.w.CRLF()
	}
	c.sel = s
	c.state = stateSelected
	if qr != nil && qr.uidValidity == mb.UIDValidity() {
		if err := c.qresyncSelect(qr, refs); err != nil {
			return err
		}
	}
	if readOnly {
		c.okText = "[READ-ONLY] EXAMINE completed."
	} else {
		c.okText = "[READ-WRITE] SELECT completed."
	}
	return nil
}

func parseQresync(a wire.Arg) (*qresyncParams, error) {
	if a.Kind != wire.List || len(a.List) < 2 || len(a.List) > 4 {
		return nil, bad("QRESYNC takes (uidvalidity modseq [known-uids [seq-match]]).")
	}
	l := a.List
	uv, err := parseNumber(l[0], 32)
	if err != nil || uv == 0 {
		return nil, bad("Invalid UIDVALIDITY in QRESYNC.")
	}
	ms, err := parseNumber(l[1], 63)
	if err != nil || ms == 0 {
		return nil, bad("Invalid MODSEQ in QRESYNC.")
	}
	q := &qresyncParams{uidValidity: uint32(uv), modseq: ms}
	if len(l) >= 3 {
		if l[2].Kind != wire.Atom {
			return nil, bad("Invalid known UIDs in QRESYNC.")
		}
		if q.known, err = parseNumSet(l[2].S); err != nil {
			return nil, err
		}
		if q.known.isSaved() {
			return nil, bad("Invalid known UIDs in QRESYNC.")
		}
	}
	// The sequence match data (l[3]) only helps a server that forgot old
	// expunges; this one keeps every tombstone, so it is checked for form
	// and otherwise ignored.
	if len(l) == 4 && (l[3].Kind != wire.List || len(l[3].List) != 2) {
		return nil, bad("Invalid sequence match data in QRESYNC.")
	}
	return q, nil
}

// qresyncSelect reports what changed since the client's MODSEQ: removed
// UIDs as VANISHED (EARLIER) and changed messages as FETCH (RFC 7162 3.2.5.1).
// Changed messages come from the snapshot; removals come from a read after
// it, minus the UIDs the snapshot still holds (those vanished later and are
// reported by the next sync).
func (c *conn) qresyncSelect(qr *qresyncParams, refs []mail.MessageRef) error {
	s := c.sel
	_, vanished, _, err := c.srv.cfg.Mail.Changes(c.ctx, s.mb.ID, qr.modseq)
	if err != nil {
		return err
	}
	var gone []uint32
	for _, uid := range vanished {
		if s.index(uid) >= 0 {
			continue
		}
		if qr.known != nil && !qr.known.contains(uid, s.maxUID()) {
			continue
		}
		gone = append(gone, uid)
	}
	if len(gone) > 0 {
		c.w.Raw("* VANISHED (EARLIER) ").Raw(formatSet(gone)).CRLF()
	}
	for i, r := range refs {
		if r.ModSeq > qr.modseq {
			c.writeFlagsFetch(i, false)
		}
	}
	return nil
}

// parseNumber reads an atom as an unsigned number of at most bits bits.
func parseNumber(a wire.Arg, bits int) (uint64, error) {
	if a.Kind != wire.Atom || a.S == "" || a.S[0] == '+' {
		return 0, bad("Expected a number.")
	}
	n, err := strconv.ParseUint(a.S, 10, bits)
	if err != nil {
		return 0, bad("Expected a number.")
	}
	return n, nil
}

// cmdClose leaves the mailbox, silently removing \Deleted messages when it
// was selected read-write (RFC 9051 6.4.1).
func cmdClose(c *conn, cmd *wire.Command) error {
	if len(cmd.Args) != 0 {
		return bad("CLOSE takes no arguments.")
	}
	s := c.sel
	if !s.readOnly {
		if _, err := c.srv.cfg.Mail.Expunge(c.ctx, s.mb.ID, nil); err != nil {
			return err
		}
	}
	s.close()
	c.sel = nil
	c.state = stateAuth
	return nil
}

// cmdUnselect leaves the mailbox without expunging (RFC 3691).
func cmdUnselect(c *conn, cmd *wire.Command) error {
	if len(cmd.Args) != 0 {
		return bad("UNSELECT takes no arguments.")
	}
	c.sel.close()
	c.sel = nil
	c.state = stateAuth
	return nil
}

// writePermanentFlags writes the PERMANENTFLAGS response code (RFC 9051
// 7.1): none in a read-only mailbox, else every flag and new keywords.
func (c *conn) writePermanentFlags(s *selected, flags string) {
	if s.readOnly {
		c.untagged("OK", "PERMANENTFLAGS ()", "No permanent flags in a read-only mailbox.")
	} else {
		c.untagged("OK", `PERMANENTFLAGS (`+flags+` \*)`, "Flags allowed.")
	}
}

// learnKeywords adds the keywords among flags to those the client was told
// of, and reports whether there were new ones.
func (s *selected) learnKeywords(flags []string) bool {
	added := false
	for _, f := range flags {
		if strings.HasPrefix(f, `\`) {
			continue
		}
		k := strings.ToLower(f)
		if s.known[k] {
			continue
		}
		if s.known == nil {
			s.known = map[string]bool{}
		}
		s.known[k] = true
		s.keywords = append(s.keywords, f)
		added = true
	}
	if added {
		slices.Sort(s.keywords)
	}
	return added
}

// flagList is the FLAGS list: the system flags and the keywords in use.
func (s *selected) flagList() string {
	flags := `\Answered \Flagged \Deleted \Seen \Draft`
	for _, k := range s.keywords {
		flags += " " + k
	}
	return flags
}

// announceKeywords sends FLAGS and PERMANENTFLAGS again when flags hold a
// keyword the client was not told of, before any response shows it (RFC
// 3501 7.2.6, RFC 9051 7.3.5).
func (c *conn) announceKeywords(flags []string) {
	s := c.sel
	if !s.learnKeywords(flags) {
		return
	}
	list := s.flagList()
	c.w.Raw("* FLAGS (").Raw(list).Raw(")\r\n")
	c.writePermanentFlags(s, list)
}

// takeRecent gives \Recent to the session's messages from index from on
// that no session has seen yet (RFC 3501 2.3.2). A read-write session
// claims them, so no other session sees them as recent; a read-only one
// (EXAMINE) only looks (RFC 3501 6.3.2: EXAMINE does not change \Recent).
// The store is written only when there is something to claim.
func (c *conn) takeRecent(s *selected, from int) error {
	if from >= len(s.msgs) {
		return nil
	}
	mark := s.mb.RecentUID
	top := s.msgs[len(s.msgs)-1].uid
	if top <= mark {
		return nil
	}
	if !s.readOnly {
		prev, err := c.srv.cfg.Mail.ClaimRecent(c.ctx, s.mb.ID, top)
		if err != nil {
			return err
		}
		mark = prev
		s.mb.RecentUID = max(prev, top)
	}
	for i := from; i < len(s.msgs); i++ {
		if s.msgs[i].uid > mark {
			s.msgs[i].recent = true
		}
	}
	return nil
}

// writeRecentCount writes "* n RECENT" (RFC 3501 7.3.2).
func (c *conn) writeRecentCount(s *selected) {
	n := 0
	for _, m := range s.msgs {
		if m.recent {
			n++
		}
	}
	c.w.Raw("* ").Uint(uint64(n)).Raw(" RECENT").CRLF()
}
