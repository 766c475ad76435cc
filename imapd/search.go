package imapd

import (
	"strings"
	"time"

	"wardmail/imapd/wire"
	"wardmail/mail"
	"wardmail/message"
)

// maxSearchText bounds the decoded text one message contributes to BODY and
// TEXT searches.
const maxSearchText = 4 << 20

// cmdSearch serves SEARCH and UID SEARCH (RFC 9051 6.4.4), with ESEARCH
// results (RFC 4731, RFC 9051 7.3.4), PARTIAL and UPDATE (RFC 5267 4.3,
// 4.4) and MODSEQ (RFC 7162 3.1.5).
func cmdSearch(c *conn, cmd *wire.Command) (err error) {
	ret, args, err := parseReturn(cmd.Args)
	if err != nil {
		return err
	}
	if ret.save {
		// A SEARCH with SAVE that fails leaves "$" empty (RFC 5182 2.1).
		defer func() {
			if err != nil {
				c.sel.saved = nil
			}
		}()
	}
	ret.esearch = ret.esearch || c.rev2
	if len(args) >= 2 && args[0].IsAtom("CHARSET") {
		if c.utf8Accept {
			// After ENABLE UTF8=ACCEPT the criteria are UTF-8, and a
			// charset would contradict that (RFC 6855 3).
			return bad("No CHARSET after ENABLE UTF8=ACCEPT: searches are UTF-8.")
		}
		cs, _ := args[1].AString()
		switch strings.ToUpper(cs) {
		case "UTF-8", "US-ASCII":
		default:
			return no("BADCHARSET (UTF-8 US-ASCII)", "Only UTF-8 and US-ASCII searches are supported.")
		}
		args = args[2:]
	}
	root, err := parseSearchKeys(args)
	if err != nil {
		return err
	}
	if err := c.sync(false); err != nil {
		return err
	}
	matched, usedModSeq, err := c.search(root)
	if err != nil {
		return err
	}
	if usedModSeq {
		c.enableCondstore()
	}
	s := c.sel
	nums := make([]uint32, len(matched))
	for k, i := range matched {
		if cmd.UID {
			nums[k] = s.msgs[i].uid
		} else {
			nums[k] = uint32(i + 1)
		}
	}
	// The MODSEQ is the highest of the messages the answer returns (RFC 7162
	// 3.1.5): with only MIN and/or MAX, of those one or two messages.
	var highest uint64
	if usedModSeq && len(matched) > 0 {
		if !ret.esearch || ret.all || ret.count || ret.partial[0] != 0 || ret.update {
			for _, i := range matched {
				highest = max(highest, s.msgs[i].modseq)
			}
		} else {
			if ret.min {
				highest = s.msgs[matched[0]].modseq
			}
			if ret.max {
				highest = max(highest, s.msgs[matched[len(matched)-1]].modseq)
			}
		}
	}
	if ret.update {
		if err := c.addContext(cmd, root, nil, matched); err != nil {
			return err
		}
	}
	if ret.save {
		c.saveResult(ret, matched)
		if !ret.data() && !ret.update {
			return nil // SAVE alone has no untagged answer (RFC 5182 2.1)
		}
	}
	if !ret.esearch {
		c.w.Raw("* SEARCH")
		for _, n := range nums {
			c.w.SP().Uint(uint64(n))
		}
		if usedModSeq && len(nums) > 0 {
			c.w.Raw(" (MODSEQ ").Uint(highest).Raw(")")
		}
		c.w.CRLF()
		return nil
	}
	c.writeESearch(cmd.Tag, cmd.UID, ret, nums, false, highest)
	return nil
}

// searchMsg is what evaluating the criteria may look at for one message.
// The body is read when a key first needs it (body), so that a message the
// word index rules out for BODY is never read.
type searchMsg struct {
	seq    uint32
	m      msgState
	row    *mail.Message
	sum    *message.Summary
	read   func(contentID int64) ([]byte, error)
	body   []byte
	loaded bool
	err    error   // reading the body failed: the search fails
	text   *string // decoded body text, computed once
}

// getBody reads the message once; on an error it records it and returns
// nil (the search then fails with it).
func (sm *searchMsg) getBody() []byte {
	if !sm.loaded {
		sm.loaded = true
		sm.body, sm.err = sm.read(sm.row.ContentID)
	}
	return sm.body
}

// search evaluates the criteria over every message of the session and
// returns the matching indices and whether the criteria used MODSEQ.
func (c *conn) search(root *searchKey) (matched []int, usedModSeq bool, err error) {
	s := c.sel
	var needs searchNeeds
	root.needs(&needs)
	usedModSeq = root.uses("MODSEQ")
	if root.uses("SAVED") {
		saved := make(map[uint32]bool, len(s.saved))
		for _, u := range s.saved {
			saved[u] = true
		}
		root.setSaved(saved)
	}
	var only map[uint32]bool // nil: every message may match
	if needs.body {
		if err := c.narrowText(root, map[string]map[uint32]bool{}); err != nil {
			return nil, false, err
		}
		only = root.required()
	}
	var rows map[uint32]*mail.Message
	if needs.row && len(s.msgs) > 0 {
		uids := make([]uint32, 0, len(s.msgs))
		for _, m := range s.msgs {
			if only == nil || only[m.uid] {
				uids = append(uids, m.uid)
			}
		}
		if rows, err = c.messages(uids); err != nil {
			return nil, false, err
		}
	}
	read := func(id int64) ([]byte, error) { return c.srv.cfg.Mail.Body(c.ctx, id) }
	star := s.maxUID()
	for i, m := range s.msgs {
		if only != nil && !only[m.uid] {
			continue
		}
		sm := &searchMsg{seq: uint32(i + 1), m: m, read: read}
		if needs.row {
			if sm.row = rows[m.uid]; sm.row == nil {
				continue // removed by another session
			}
			if sm.sum, err = message.Unmarshal(sm.row.Summary); err != nil {
				c.log.Error("stored summary unreadable", "mailbox", s.mb.ID, "uid", m.uid, "err", err)
				continue
			}
		}
		ok := root.match(sm, uint32(len(s.msgs)), star)
		if sm.err != nil {
			return nil, false, sm.err
		}
		if ok {
			matched = append(matched, i)
		}
	}
	return matched, usedModSeq, nil
}

// messages reads rows for many UIDs, keyed by UID (nil for UIDs gone).
func (c *conn) messages(uids []uint32) (map[uint32]*mail.Message, error) {
	want := make(map[uint32]*mail.Message, len(uids))
	for _, u := range uids {
		want[u] = nil
	}
	list, err := c.srv.cfg.Mail.Messages(c.ctx, c.sel.mb.ID, uids)
	if err != nil {
		return nil, err
	}
	for k := range list {
		if _, ok := want[list[k].UID]; ok {
			want[list[k].UID] = &list[k]
		}
	}
	return want, nil
}

// setSaved gives the SAVED keys of a tree the "$" they stand for.
func (k *searchKey) setSaved(saved map[uint32]bool) {
	if k.op == "SAVED" {
		k.saved = saved
	}
	for _, kid := range k.kids {
		kid.setSaved(saved)
	}
}

func (k *searchKey) uses(op string) bool {
	if k.op == op {
		return true
	}
	for _, kid := range k.kids {
		if kid.uses(op) {
			return true
		}
	}
	return false
}

func (k *searchKey) match(sm *searchMsg, count, star uint32) bool {
	switch k.op {
	case "ALL":
		return true
	case "NONE":
		return false
	case "RECENT":
		return sm.m.recent
	case "AND":
		for _, kid := range k.kids {
			if !kid.match(sm, count, star) {
				return false
			}
		}
		return true
	case "OR":
		return k.kids[0].match(sm, count, star) || k.kids[1].match(sm, count, star)
	case "NOT":
		return !k.kids[0].match(sm, count, star)
	case "SAVED":
		return k.saved[sm.m.uid]
	case "SEQ":
		return k.set.contains(sm.seq, count)
	case "UID":
		return k.set.contains(sm.m.uid, star)
	case "FLAG":
		return hasFlagFold(sm.m.flags, k.flag)
	case "NOFLAG":
		return !hasFlagFold(sm.m.flags, k.flag)
	case "MODSEQ":
		return sm.m.modseq >= k.n
	case "LARGER":
		return uint64(sm.row.Size) > k.n
	case "SMALLER":
		return uint64(sm.row.Size) < k.n
	case "OLDER":
		return time.Since(sm.row.InternalDate) >= time.Duration(k.n)*time.Second
	case "YOUNGER":
		return time.Since(sm.row.InternalDate) <= time.Duration(k.n)*time.Second
	case "BEFORE", "ON", "SINCE":
		return compareDay(k.op, dayNumber(sm.row.InternalDate.UTC()), k.day)
	case "EMAILID":
		return emailObjectID(sm.row) == k.value
	case "THREADID":
		return threadObjectID(sm.row.Summary) == k.value
	case "SAVEDBEFORE", "SAVEDON", "SAVEDSINCE":
		return compareDay(k.op[5:], dayNumber(sm.row.SavedDate.UTC()), k.day)
	case "SENTBEFORE", "SENTON", "SENTSINCE":
		t, err := message.ParseDate(sm.sum.Envelope.Date)
		if err != nil {
			return false
		}
		return compareDay(k.op[4:], dayNumber(t), k.day)
	case "SUBJECT":
		return containsFold(sm.sum.Envelope.Subject, k.value)
	case "FROM":
		return addressesMatch(sm.sum.Envelope.From, k.value)
	case "TO":
		return addressesMatch(sm.sum.Envelope.To, k.value)
	case "CC":
		return addressesMatch(sm.sum.Envelope.Cc, k.value)
	case "BCC":
		return addressesMatch(sm.sum.Envelope.Bcc, k.value)
	case "HEADER":
		// Every field of that name counts, not only the first.
		values := message.HeaderValues(sm.getBody(), sm.sum.HeaderSize, k.field)
		if k.value == "" {
			return len(values) > 0
		}
		for _, v := range values {
			if containsFold(message.DecodeHeader(v), k.value) {
				return true
			}
		}
		return false
	case "BODY":
		if k.index != nil && !k.index[sm.m.uid] {
			return false // the word index rules the body out (narrowText)
		}
		return containsFold(sm.bodyText(), k.value)
	case "TEXT":
		body := sm.getBody()
		hdr := body[:min(int64(len(body)), sm.sum.HeaderSize)]
		if containsFold(message.DecodeHeader(string(hdr)), k.value) {
			return true
		}
		if k.index != nil && !k.index[sm.m.uid] {
			return false
		}
		return containsFold(sm.bodyText(), k.value)
	}
	return false
}

func (sm *searchMsg) bodyText() string {
	if sm.text == nil {
		t := sm.sum.Text(sm.getBody(), maxSearchText)
		sm.text = &t
	}
	return *sm.text
}

func compareDay(op string, day, key int) bool {
	switch op {
	case "BEFORE":
		return day < key
	case "ON":
		return day == key
	default: // SINCE
		return day >= key
	}
}

func hasFlagFold(flags []string, f string) bool {
	for _, x := range flags {
		if strings.EqualFold(x, f) {
			return true
		}
	}
	return false
}

// containsFold reports whether needle (already lower case) occurs in hay,
// ignoring case.
func containsFold(hay, needle string) bool {
	if needle == "" {
		return true
	}
	return strings.Contains(strings.ToLower(hay), needle)
}

func addressesMatch(list []message.Address, needle string) bool {
	for _, a := range list {
		if containsFold(a.Name, needle) || containsFold(a.Addr(), needle) || containsFold(a.Group, needle) {
			return true
		}
		if needle != "" && strings.Contains(needle, "<") &&
			containsFold(a.Name+" <"+a.Addr()+">", needle) {
			return true
		}
	}
	return false
}
