package imapd

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"wardmail/imapd/wire"
	"wardmail/message"
)

// sortKey is one SORT criterion (RFC 5256 3, RFC 5957 3).
type sortKey struct {
	name    string // ARRIVAL, CC, DATE, FROM, SIZE, SUBJECT, TO, DISPLAYFROM, DISPLAYTO
	reverse bool
}

// parseSortCriteria reads "(REVERSE DATE SUBJECT)".
func parseSortCriteria(l []wire.Arg) ([]sortKey, error) {
	if len(l) == 0 || len(l) > 32 {
		return nil, bad("SORT needs between 1 and 32 sort criteria.")
	}
	var out []sortKey
	reverse := false
	for _, a := range l {
		if a.Kind != wire.Atom {
			return nil, bad("Invalid sort criterion.")
		}
		switch k := strings.ToUpper(a.S); k {
		case "REVERSE":
			if reverse {
				return nil, bad("REVERSE must be followed by a sort key.")
			}
			reverse = true
			continue
		case "ARRIVAL", "CC", "DATE", "FROM", "SIZE", "SUBJECT", "TO", "DISPLAYFROM", "DISPLAYTO":
			out = append(out, sortKey{name: k, reverse: reverse})
		default:
			return nil, bad("Unknown sort criterion %q.", a.S)
		}
		reverse = false
	}
	if reverse {
		return nil, bad("REVERSE must be followed by a sort key.")
	}
	return out, nil
}

// sortItem is one message with the values it is sorted by.
type sortItem struct {
	idx  int // index in the session, so ties keep mailbox order
	arr  time.Time
	date time.Time
	size int64
	keys map[string]string
}

// cmdSort serves SORT and UID SORT (RFC 5256 3) with the SORT=DISPLAY keys
// (RFC 5957) and ESORT's RETURN options (RFC 5267 3, with PARTIAL and
// UPDATE from 4.3, 4.4). The criteria are SEARCH's; messages that compare
// equal stay in mailbox order (RFC 5256 3).
func cmdSort(c *conn, cmd *wire.Command) (err error) {
	ret, args, err := parseReturn(cmd.Args)
	if err != nil {
		return err
	}
	if ret.save {
		defer func() {
			if err != nil {
				c.sel.saved = nil
			}
		}()
	}
	if len(args) < 3 || args[0].Kind != wire.List {
		return bad("SORT takes (sort criteria), a charset and search criteria.")
	}
	keys, err := parseSortCriteria(args[0].List)
	if err != nil {
		return err
	}
	root, matched, usedModSeq, err := c.searchCharset("SORT", args[1], args[2:])
	if err != nil {
		return err
	}
	order, err := c.sortMatched(matched, keys)
	if err != nil {
		return err
	}
	s := c.sel
	nums := make([]uint32, len(order))
	var highest uint64
	for k, i := range order {
		if cmd.UID {
			nums[k] = s.msgs[i].uid
		} else {
			nums[k] = uint32(i + 1)
		}
		if usedModSeq {
			highest = max(highest, s.msgs[i].modseq)
		}
	}
	if ret.update {
		if err := c.addContext(cmd, root, keys, order); err != nil {
			return err
		}
	}
	if ret.save {
		c.saveResult(ret, order)
		if !ret.data() && !ret.update {
			return nil
		}
	}
	if ret.esearch {
		c.writeESearch(cmd.Tag, cmd.UID, ret, nums, true, highest)
		return nil
	}
	c.w.Raw("* SORT")
	for _, n := range nums {
		c.w.SP().Uint(uint64(n))
	}
	if usedModSeq && len(nums) > 0 {
		c.w.Raw(" (MODSEQ ").Uint(highest).Raw(")") // RFC 7162 3.1.5
	}
	c.w.CRLF()
	return nil
}

// sortMatched orders the messages at the session indices matched by the
// keys; equal messages keep mailbox order. Messages removed meanwhile by
// another session are left out (their EXPUNGE comes later).
func (c *conn) sortMatched(matched []int, keys []sortKey) ([]int, error) {
	items, err := c.sortItems(matched, keys)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(items, func(a, b sortItem) int {
		for _, k := range keys {
			var r int
			switch k.name {
			case "ARRIVAL":
				r = a.arr.Compare(b.arr)
			case "DATE":
				r = a.date.Compare(b.date)
			case "SIZE":
				r = cmp.Compare(a.size, b.size)
			default:
				r = strings.Compare(a.keys[k.name], b.keys[k.name])
			}
			if k.reverse {
				r = -r
			}
			if r != 0 {
				return r
			}
		}
		return cmp.Compare(a.idx, b.idx)
	})
	out := make([]int, len(items))
	for k, it := range items {
		out[k] = it.idx
	}
	return out, nil
}

// sortItems reads what the keys compare for the messages at idx.
func (c *conn) sortItems(idx []int, keys []sortKey) ([]sortItem, error) {
	s := c.sel
	items := make([]sortItem, 0, len(idx))
	if len(idx) == 0 {
		return items, nil
	}
	uids := make([]uint32, len(idx))
	for k, i := range idx {
		uids[k] = s.msgs[i].uid
	}
	rows, err := c.messages(uids)
	if err != nil {
		return nil, err
	}
	// ARRIVAL and SIZE are in the row; the other keys need the envelope.
	needEnv := slices.ContainsFunc(keys, func(k sortKey) bool { return k.name != "ARRIVAL" && k.name != "SIZE" })
	for _, i := range idx {
		row := rows[s.msgs[i].uid]
		if row == nil {
			continue // removed by another session; its EXPUNGE comes later
		}
		it := sortItem{idx: i, arr: row.InternalDate, size: row.Size}
		if !needEnv {
			items = append(items, it)
			continue
		}
		it.keys = map[string]string{}
		sum, err := c.envelopeOnly(row)
		if err != nil {
			c.log.Error("stored summary unreadable", "mailbox", s.mb.ID, "uid", row.UID, "err", err)
			return nil, no("SERVERBUG", "A stored message is damaged; the administrators have been told.")
		}
		env := &sum.Envelope
		for _, k := range keys {
			switch k.name {
			case "DATE":
				// RFC 5256 3: the sent date, or the internal date when
				// it cannot be read; compared in UTC.
				if t, err := message.ParseDate(env.Date); err == nil {
					it.date = t.UTC()
				} else {
					it.date = row.InternalDate.UTC()
				}
			case "SUBJECT":
				it.keys[k.name] = message.NormalizeSubject(env.Subject)
			case "FROM":
				it.keys[k.name] = asciiLower(firstMailbox(env.From).Mailbox)
			case "TO":
				it.keys[k.name] = asciiLower(firstMailbox(env.To).Mailbox)
			case "CC":
				it.keys[k.name] = asciiLower(firstMailbox(env.Cc).Mailbox)
			case "DISPLAYFROM":
				it.keys[k.name] = displayName(firstMailbox(env.From))
			case "DISPLAYTO":
				it.keys[k.name] = displayName(firstMailbox(env.To))
			}
		}
		items = append(items, it)
	}
	return items, nil
}

// firstMailbox is the first address of a list that is a mailbox, not a
// group marker (RFC 5256 3: "the first address").
func firstMailbox(list []message.Address) message.Address {
	for _, a := range list {
		if a.Group == "" && !a.GroupEnd {
			return a
		}
	}
	return message.Address{}
}

// displayName is the RFC 5957 3 display key: the decoded display name, or
// the address when there is none, without regard to case.
func displayName(a message.Address) string {
	if n := strings.TrimSpace(a.Name); n != "" {
		return strings.ToLower(n)
	}
	return asciiLower(a.Addr())
}

// asciiLower folds ASCII letters only (the i;ascii-casemap comparator, RFC
// 4790 9.2).
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// searchCharset runs the charset and search criteria that SORT and THREAD
// share (RFC 5256 3) on the mailbox as it is now: the parsed criteria, the
// matching session indices, and whether a MODSEQ criterion was used (which
// turns CONDSTORE on, RFC 7162 3.1).
func (c *conn) searchCharset(command string, charset wire.Arg, keys []wire.Arg) (root *searchKey, matched []int, usedModSeq bool, err error) {
	cs, ok := charset.AString()
	if !ok {
		return nil, nil, false, bad("%s needs a charset.", command)
	}
	switch strings.ToUpper(cs) {
	case "UTF-8", "US-ASCII":
	default:
		return nil, nil, false, no("BADCHARSET (UTF-8 US-ASCII)", "Only UTF-8 and US-ASCII searches are supported.")
	}
	if root, err = parseSearchKeys(keys); err != nil {
		return nil, nil, false, err
	}
	if err := c.sync(false); err != nil {
		return nil, nil, false, err
	}
	if matched, usedModSeq, err = c.search(root); err != nil {
		return nil, nil, false, err
	}
	if usedModSeq {
		c.enableCondstore()
	}
	return root, matched, usedModSeq, nil
}
