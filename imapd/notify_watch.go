package imapd

import (
	"slices"
	"strings"

	"wardmail/mail"
)

// notifier is a session's NOTIFY state (RFC 5465): what the client asked
// for, the hub subscription that wakes it, and what it was last told of
// each mailbox, so that only changes are reported.
type notifier struct {
	spec *notifySpec
	sub  *mail.Subscription
	keys []int64 // sub's hub keys, sorted

	names  map[int64]string       // mailbox names by id, as last seen
	subs   map[string]bool        // subscribed names, as last seen
	status map[int64]notifyStatus // what STATUS last said (or would have)
}

// notifyStatus is what a STATUS notification reports of a mailbox.
type notifyStatus struct {
	messages, uidNext, validity, unseen uint32
	modseq                              uint64
}

// startNotify replaces the session's NOTIFY state (RFC 5465 3.1) and, with
// the STATUS indicator, reports every mailbox it covers but the selected
// one before the tagged OK.
func (c *conn) startNotify(spec *notifySpec) error {
	c.stopNotify()
	c.notify = &notifier{spec: spec, status: map[int64]notifyStatus{}}
	if err := c.notifyCheck(true); err != nil {
		c.stopNotify()
		return err
	}
	return nil
}

// stopNotify turns NOTIFY off (NOTIFY NONE, sign-out, the end of the
// connection, an overflow).
func (c *conn) stopNotify() {
	if c.notify != nil && c.notify.sub != nil {
		c.notify.sub.Close()
	}
	c.notify = nil
}

// notifyC is the channel that wakes the session for its other mailboxes,
// nil without NOTIFY.
func (c *conn) notifyC() <-chan struct{} {
	if c.notify == nil || c.notify.sub == nil {
		return nil
	}
	return c.notify.sub.C
}

// selectedGroup is the group that governs the selected mailbox: the first
// SELECTED or SELECTED-DELAYED group, or nil.
func (c *conn) selectedGroup() *notifyGroup {
	if c.notify == nil || c.sel == nil {
		return nil
	}
	for i := range c.notify.spec.groups {
		if f := c.notify.spec.groups[i].filter; f == filterSelected || f == filterSelectedDelayed {
			return &c.notify.spec.groups[i]
		}
	}
	return nil
}

// selectedPush says whether changes to the selected mailbox are sent
// without a command (in IDLE, or between commands with NOTIFY) and whether
// EXPUNGE may be among them. Without NOTIFY, or with no group for the
// selected mailbox, only IDLE pushes (RFC 2177). SELECTED pushes everything
// at once; SELECTED-DELAYED holds expunges for a command that may report
// them, IDLE included; NONE pushes nothing (RFC 5465 5.1, 6).
func (c *conn) selectedPush(idle bool) (push, expunge bool) {
	if c.sel == nil {
		return false, false
	}
	g := c.selectedGroup()
	if g == nil {
		return idle, true
	}
	if g.events == 0 {
		return false, false
	}
	return true, idle || g.filter == filterSelected
}

// pushSelected reports the selected mailbox's changes without a command.
// Flag changes stay unreported when the client did not ask for FlagChange;
// the session takes them in silently.
func (c *conn) pushSelected(expunge bool) error {
	g := c.selectedGroup()
	c.sel.quietFlags = g != nil && g.events&evFlagChange == 0
	defer func() {
		if c.sel != nil {
			c.sel.quietFlags = false
		}
	}()
	c.sel.poll()
	return c.sync(expunge)
}

// notifyNewFetch sends the MessageNew fetch attributes for the messages
// from index first on, after their EXISTS (RFC 5465 5.2).
func (c *conn) notifyNewFetch(first int) error {
	g := c.selectedGroup()
	if g == nil || len(g.fetch) == 0 || first >= len(c.sel.msgs) {
		return nil
	}
	idx := make([]int, 0, len(c.sel.msgs)-first)
	for i := first; i < len(c.sel.msgs); i++ {
		idx = append(idx, i)
	}
	return c.fetch(idx, g.fetch, true)
}

// groupFor returns the first group other than SELECTED and
// SELECTED-DELAYED that covers a mailbox name, or nil (RFC 5465 6).
func (n *notifier) groupFor(name string, subscribed bool) *notifyGroup {
	for i := range n.spec.groups {
		g := &n.spec.groups[i]
		switch g.filter {
		case filterInboxes:
			// Only INBOX receives mail here.
			if name == "INBOX" {
				return g
			}
		case filterPersonal:
			return g
		case filterSubscribed:
			if subscribed {
				return g
			}
		case filterSubtree:
			for _, s := range g.names {
				if name == s || strings.HasPrefix(name, s+mail.Delimiter) {
					return g
				}
			}
		case filterMailboxes:
			if slices.Contains(g.names, name) {
				return g
			}
		}
	}
	return nil
}

// notifyCheck looks at the person's mailboxes and reports what changed in
// those the client watches: names (MailboxName, as LIST), subscriptions
// (SubscriptionChange, as LIST) and messages (as STATUS). initial takes the
// first picture, reporting STATUS only when the client asked for it.
// More responses than Limits.NotifyBurst at once end NOTIFY with
// NOTIFICATIONOVERFLOW (RFC 5465 5.8): the client then looks for itself.
func (c *conn) notifyCheck(initial bool) error {
	n := c.notify
	st := c.srv.cfg.Mail
	all, err := st.Mailboxes(c.ctx, c.person.ID)
	if err != nil {
		return err
	}
	mbs := all[:0:0]
	for _, mb := range all {
		if mb.PersonID == c.person.ID {
			mbs = append(mbs, mb)
		}
	}
	subList, err := st.Subscriptions(c.ctx, c.person.ID)
	if err != nil {
		return err
	}
	subs := make(map[string]bool, len(subList))
	for _, s := range subList {
		subs[s] = true
	}
	selID := int64(0)
	if c.sel != nil {
		selID = c.sel.mb.ID
	}
	// List posts reach INBOX when it is read: take them in first when
	// the client watches it.
	for _, mb := range mbs {
		if mb.Name == "INBOX" && mb.ID != selID {
			if g := n.groupFor(mb.Name, subs[mb.Name]); g != nil && g.events&evMessage != 0 {
				if err := c.materialise(); err != nil {
					return err
				}
				if all, err = st.Mailboxes(c.ctx, c.person.ID); err != nil {
					return err
				}
				mbs = mbs[:0]
				for _, mb := range all {
					if mb.PersonID == c.person.ID {
						mbs = append(mbs, mb)
					}
				}
			}
			break
		}
	}

	var out []func()
	if !initial {
		out = c.nameChanges(mbs, subs)
	}
	names := make(map[int64]string, len(mbs))
	var keys []int64
	watchInbox := false
	for i := range mbs {
		mb := &mbs[i]
		names[mb.ID] = mb.Name
		g := n.groupFor(mb.Name, subs[mb.Name])
		if g == nil || g.events&evMessage == 0 {
			delete(n.status, mb.ID)
			continue
		}
		keys = append(keys, mb.ID)
		if mb.Name == "INBOX" {
			watchInbox = true
		}
		if mb.ID == selID {
			// The selected mailbox is reported by its own rules, and
			// its picture is taken afresh once it is closed.
			delete(n.status, mb.ID)
			continue
		}
		prev, known := n.status[mb.ID]
		if known && prev.modseq == mb.HighestModSeq && prev.uidNext == mb.UIDNext {
			continue
		}
		s, err := st.Status(c.ctx, mb.ID)
		if err != nil {
			return err
		}
		cur := notifyStatus{messages: s.Messages, uidNext: s.UIDNext, validity: s.UIDValidity, unseen: s.Unseen, modseq: s.HighestModSeq}
		n.status[mb.ID] = cur
		report := initial && n.spec.status
		if known {
			report = prev.messages != cur.messages || prev.uidNext != cur.uidNext || prev.validity != cur.validity ||
				(g.events&evFlagChange != 0 && (prev.unseen != cur.unseen || (c.condstore && prev.modseq != cur.modseq)))
		}
		if report {
			name := mb.Name
			out = append(out, func() { c.writeNotifyStatus(name, cur) })
		}
	}
	for id := range n.status {
		if _, ok := names[id]; !ok {
			delete(n.status, id)
		}
	}
	n.names, n.subs = names, subs

	if len(out) > c.lim.NotifyBurst {
		c.untagged("OK", "NOTIFICATIONOVERFLOW", "Too many changes at once; notifications are off.")
		c.srv.metrics.notifications.WithLabelValues("overflow").Inc()
		c.stopNotify()
		return nil
	}
	for _, f := range out {
		f()
	}
	return c.notifyResubscribe(keys, watchInbox)
}

// nameChanges compares the mailboxes and subscriptions with the last
// picture and returns the LIST responses the client asked for: a new name,
// a renamed one with its OLDNAME, a deleted one as \NonExistent (RFC 5465
// 5.4), a subscription gained or lost (RFC 5465 5.5).
func (c *conn) nameChanges(mbs []mail.Mailbox, subs map[string]bool) []func() {
	n := c.notify
	wants := func(name string, ev notifyEvents) bool {
		g := n.groupFor(name, subs[name] || n.subs[name])
		return g != nil && g.events&ev != 0
	}
	var out []func()
	seen := make(map[int64]bool, len(mbs))
	for i := range mbs {
		mb := &mbs[i]
		seen[mb.ID] = true
		old, had := n.names[mb.ID]
		name := mb.Name
		switch {
		case !had && wants(name, evMailboxName):
			out = append(out, func() { c.writeNotifyList("", name, "") })
		case had && old != name && (wants(name, evMailboxName) || wants(old, evMailboxName)):
			out = append(out, func() { c.writeNotifyList("", name, old) })
		}
	}
	var gone []string
	for id, old := range n.names {
		if !seen[id] && wants(old, evMailboxName) {
			gone = append(gone, old)
		}
	}
	slices.Sort(gone)
	for _, old := range gone {
		out = append(out, func() { c.writeNotifyList(`\NonExistent`, old, "") })
	}
	var changed []string
	for s := range subs {
		if !n.subs[s] {
			changed = append(changed, s)
		}
	}
	for s := range n.subs {
		if !subs[s] {
			changed = append(changed, s)
		}
	}
	slices.Sort(changed)
	for _, s := range changed {
		if wants(s, evSubscriptionChange) {
			attr := ""
			if subs[s] {
				attr = `\Subscribed`
			}
			out = append(out, func() { c.writeNotifyList(attr, s, "") })
		}
	}
	return out
}

// notifyResubscribe points the hub subscription at the watched mailboxes
// (and, for INBOX, the person's lists, whose posts land there) and at the
// person's names, when they changed. The new subscription is taken before
// the old one is closed, so no change falls between them.
func (c *conn) notifyResubscribe(mailboxIDs []int64, inbox bool) error {
	n := c.notify
	keys := append(mailboxIDs, mail.PersonKey(c.person.ID))
	if inbox {
		lists, err := c.srv.cfg.Mail.PersonLists(c.ctx, c.person.ID)
		if err != nil {
			return err
		}
		for _, l := range lists {
			keys = append(keys, -l)
		}
	}
	slices.Sort(keys)
	if n.sub != nil && slices.Equal(keys, n.keys) {
		return nil
	}
	old := n.sub
	n.sub, n.keys = c.srv.cfg.Mail.Subscribe(keys...), keys
	if old != nil {
		old.Close()
		// A change may have woken the old subscription only.
		select {
		case n.sub.C <- struct{}{}:
		default:
		}
	}
	return nil
}

// writeNotifyStatus writes the STATUS a message event in another mailbox
// gives (RFC 5465 5.2-5.3), with HIGHESTMODSEQ for a CONDSTORE client.
func (c *conn) writeNotifyStatus(name string, s notifyStatus) {
	c.srv.metrics.notifications.WithLabelValues("status").Inc()
	c.w.Raw("* STATUS ")
	c.writeMailbox(name)
	c.w.Raw(" (MESSAGES ").Uint(uint64(s.messages)).Raw(" UIDNEXT ").Uint(uint64(s.uidNext)).
		Raw(" UIDVALIDITY ").Uint(uint64(s.validity)).Raw(" UNSEEN ").Uint(uint64(s.unseen))
	if c.condstore {
		c.w.Raw(" HIGHESTMODSEQ ").Uint(s.modseq)
	}
	c.w.Raw(")").CRLF()
}

// writeNotifyList writes the LIST a name event gives (RFC 5465 5.4, 5.5;
// OLDNAME is RFC 5258 3.3's extended data).
func (c *conn) writeNotifyList(attr, name, oldName string) {
	c.srv.metrics.notifications.WithLabelValues("list").Inc()
	c.w.Raw("* LIST (").Raw(attr).Raw(`) "/" `)
	c.writeMailbox(name)
	if oldName != "" {
		c.w.Raw(` ("OLDNAME" (`)
		c.writeMailbox(oldName)
		c.w.Raw("))")
	}
	c.w.CRLF()
}
