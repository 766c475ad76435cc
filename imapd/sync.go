package imapd

import (
	"errors"
	"slices"
	"sort"
	"strings"

	"wardmail/mail"
)

// msgState is what a session knows of one message: enough to number it,
// to tell a flag change from none, and to answer FETCH FLAGS/UID/MODSEQ
// without the database.
type msgState struct {
	uid    uint32
	flags  []string
	modseq uint64
	// recent: this session owns the message's \Recent flag (RFC 3501
	// 2.3.2; IMAP4rev2 has none, RFC 9051 appendix E).
	recent bool
}

// selected is the session's view of its selected mailbox. The message list
// is the session's sequence-number map (RFC 9051 2.3.1.2): it changes only
// when this session is told of a change, never behind the client's back.
type selected struct {
	mb        *mail.Mailbox
	readOnly  bool
	condstore bool
	msgs      []msgState
	// modseq is the MODSEQ up to which changes have been taken in.
	modseq uint64
	sub    *mail.Subscription
	// lists are the lists whose posts wake an INBOX's subscription.
	lists []int64
	// expunged holds UIDs removed by others but not yet reported, because
	// the command running did not allow EXPUNGE (RFC 9051 7.5.1). They keep
	// their sequence numbers until reported.
	expunged map[uint32]bool
	// woken forces the next sync to ask the store even without a token.
	woken bool
	// takeIn lets the next sync take the INBOX's waiting list posts in
	// (a write): NOOP, CHECK, IDLE and a NOTIFY push set it. The syncs
	// around other commands (FETCH, STORE, SEARCH...) only read what is
	// committed, so that a list flood does not put a write in front of
	// every command of an open INBOX; its posts reach the session at the
	// next poll or push, or with the rows the trickle or another session
	// took in (RFC 9051 7.5.1 lets the server choose when to send EXISTS).
	takeIn bool
	// quietFlags: a NOTIFY push for a client that did not ask for
	// FlagChange takes flag changes in without reporting them (RFC 5465
	// 5.1).
	quietFlags bool
	// keywords are the keywords the client was told of in FLAGS, sorted;
	// known holds them in lower case.
	keywords []string
	known    map[string]bool
	// contexts are the searches kept up to date (RFC 5267 4.3); ctxDirty
	// says the mailbox changed since they were last evaluated.
	contexts []*searchCtx
	ctxDirty bool
	// saved is the search result variable "$" (RFC 5182 2.1): UIDs,
	// ascending; expunged ones are skipped when it is used.
	saved []uint32
}

func (s *selected) close() {
	if s.sub != nil {
		s.sub.Close()
		s.sub = nil
	}
}

// poll makes the next sync look for changes and take in waiting list
// posts: a client asking for new mail (NOOP, CHECK, IDLE, NOTIFY).
func (s *selected) poll() { s.woken, s.takeIn = true, true }

// index returns the index of uid, or -1.
func (s *selected) index(uid uint32) int {
	i := sort.Search(len(s.msgs), func(i int) bool { return s.msgs[i].uid >= uid })
	if i < len(s.msgs) && s.msgs[i].uid == uid {
		return i
	}
	return -1
}

// maxUID is the highest UID the session knows.
func (s *selected) maxUID() uint32 {
	if len(s.msgs) == 0 {
		return 0
	}
	return s.msgs[len(s.msgs)-1].uid
}

// setFlags records flags and MODSEQ this session learnt (from its own STORE
// or FETCH), so the next sync does not report them again.
func (s *selected) setFlags(ref mail.MessageRef) {
	if i := s.index(ref.UID); i >= 0 {
		s.ctxDirty = true
		s.msgs[i].flags = ref.Flags
		if ref.ModSeq > s.msgs[i].modseq {
			s.msgs[i].modseq = ref.ModSeq
		}
	}
}

// sync reports what changed in the selected mailbox since the session last
// looked: new messages as EXISTS, flag changes as FETCH, and removals as
// EXPUNGE or VANISHED when allowExpunge (RFC 9051 7.5.1, RFC 7162 3.2.10).
// It asks the store only when the hub said the mailbox changed.
func (c *conn) sync(allowExpunge bool) error {
	s := c.sel
	pending := s.woken
	select {
	case <-s.sub.C:
		pending = true
	default:
	}
	takeIn := s.takeIn
	s.woken, s.takeIn = false, false
	if pending {
		s.ctxDirty = true
		if err := c.takeChanges(takeIn); err != nil {
			return err
		}
	}
	if allowExpunge && len(s.expunged) > 0 {
		c.reportExpunged()
	}
	return c.updateContexts()
}

// takeChanges reads what changed since the session last looked; with
// takeIn, an INBOX first takes in its waiting list posts.
func (c *conn) takeChanges(takeIn bool) error {
	s := c.sel
	if takeIn && mail.IsInbox(s.mb) {
		// The wake-up may be a post to one of the person's lists, and the
		// person may have joined or left lists since the subscription.
		if err := c.refreshLists(); err != nil {
			return err
		}
		if err := c.materialise(); err != nil {
			return err
		}
	}
	changed, vanished, mb, err := c.srv.cfg.Mail.Changes(c.ctx, s.mb.ID, s.modseq)
	if errors.Is(err, mail.ErrNotFound) {
		// Deleted by another session: every message is gone.
		for _, m := range s.msgs {
			s.markExpunged(m.uid)
		}
		return nil
	}
	if err != nil {
		return err
	}
	for _, uid := range vanished {
		if s.index(uid) >= 0 {
			s.markExpunged(uid)
		}
	}
	last := s.maxUID()
	firstNew := len(s.msgs)
	added := false
	for _, ref := range changed {
		if ref.UID > last {
			c.announceKeywords(ref.Flags)
			s.msgs = append(s.msgs, msgState{uid: ref.UID, flags: ref.Flags, modseq: ref.ModSeq})
			added = true
			continue
		}
		i := s.index(ref.UID)
		if i < 0 || s.expunged[ref.UID] {
			continue
		}
		m := &s.msgs[i]
		same := sameFlags(m.flags, ref.Flags)
		if same && (!s.condstore || m.modseq >= ref.ModSeq) {
			continue
		}
		c.announceKeywords(ref.Flags)
		m.flags = ref.Flags
		m.modseq = max(m.modseq, ref.ModSeq)
		if !s.quietFlags {
			c.writeFlagsFetch(i, false)
		}
	}
	s.mb = mb
	if added {
		c.w.Raw("* ").Uint(uint64(len(s.msgs))).Raw(" EXISTS").CRLF()
		if !c.rev2 {
			if err := c.takeRecent(s, firstNew); err != nil {
				return err
			}
			c.writeRecentCount(s)
		}
		if err := c.notifyNewFetch(firstNew); err != nil {
			return err
		}
	}
	if mb.HighestModSeq > s.modseq {
		s.modseq = mb.HighestModSeq
	}
	return nil
}

func (s *selected) markExpunged(uid uint32) {
	if s.expunged == nil {
		s.expunged = map[uint32]bool{}
	}
	s.expunged[uid] = true
}

// reportExpunged sends the pending removals and renumbers.
func (c *conn) reportExpunged() {
	s := c.sel
	uids := make([]uint32, 0, len(s.expunged))
	for uid := range s.expunged {
		uids = append(uids, uid)
	}
	s.expunged = nil
	c.removeMessages(uids)
}

// removeMessages drops messages from the session and tells the client, as
// VANISHED when QRESYNC is on and EXPUNGE otherwise.
func (c *conn) removeMessages(uids []uint32) {
	s := c.sel
	if len(uids) == 0 {
		return
	}
	slices.Sort(uids)
	if c.qresync {
		var gone []uint32
		for _, uid := range uids {
			if s.index(uid) >= 0 {
				gone = append(gone, uid)
			}
		}
		if len(gone) > 0 {
			c.w.Raw("* VANISHED ").Raw(formatSet(gone)).CRLF()
		}
	} else {
		// Highest first, so earlier numbers stay valid as we go.
		for k := len(uids) - 1; k >= 0; k-- {
			if i := s.index(uids[k]); i >= 0 {
				c.w.Raw("* ").Uint(uint64(i + 1)).Raw(" EXPUNGE").CRLF()
			}
		}
	}
	keep := s.msgs[:0]
	for _, m := range s.msgs {
		if _, found := slices.BinarySearch(uids, m.uid); !found {
			keep = append(keep, m)
		}
	}
	clear(s.msgs[len(keep):])
	s.msgs = keep
	for _, uid := range uids {
		delete(s.expunged, uid)
	}
}

// writeFlagsFetch writes "* n FETCH (UID u FLAGS (...) [MODSEQ (m)])" for a
// message whose flags changed. silentFlags leaves FLAGS out (STORE .SILENT
// with CONDSTORE, RFC 7162 3.1.3).
func (c *conn) writeFlagsFetch(i int, silentFlags bool) {
	m := c.sel.msgs[i]
	c.w.Raw("* ").Uint(uint64(i + 1)).Raw(" FETCH (UID ").Uint(uint64(m.uid))
	if !silentFlags {
		c.w.Raw(" FLAGS ")
		c.writeMsgFlags(m)
	}
	if c.sel.condstore {
		c.w.Raw(" MODSEQ (").Uint(m.modseq).Raw(")")
	}
	c.w.Raw(")").CRLF()
}

// writeMsgFlags writes a message's flag list, with \Recent for an
// IMAP4rev1 session that owns it.
func (c *conn) writeMsgFlags(m msgState) {
	c.w.Byte('(')
	for i, f := range m.flags {
		if i > 0 {
			c.w.SP()
		}
		c.w.Raw(f)
	}
	if m.recent && !c.rev2 {
		if len(m.flags) > 0 {
			c.w.SP()
		}
		c.w.Raw(`\Recent`)
	}
	c.w.Byte(')')
}

func sameFlags(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}

// materialise takes in the signed-in person's pending list posts, or
// waits for the take-in begun at sign-in (mail.Service.TakeInAfter).
func (c *conn) materialise() error {
	ahead := c.takeIn
	c.takeIn = nil
	return c.srv.cfg.Mail.TakeInAfter(c.ctx, c.person.ID, ahead)
}

// refreshLists re-subscribes an INBOX to its owner's lists when they changed.
func (c *conn) refreshLists() error {
	s := c.sel
	lists, err := c.srv.cfg.Mail.PersonLists(c.ctx, c.person.ID)
	if err != nil {
		return err
	}
	slices.Sort(lists)
	if slices.Equal(lists, s.lists) {
		return nil
	}
	old := s.sub
	s.sub, s.lists = c.srv.cfg.Mail.SubscribeInbox(s.mb.ID, lists), lists
	old.Close()
	return nil
}
