package imapd

import (
	"slices"

	"wardmail/imapd/wire"
)

// searchCtx is a SEARCH or SORT whose result the session keeps up to date
// (RFC 5267 4.3, CONTEXT=SEARCH and CONTEXT=SORT).
type searchCtx struct {
	tag  string
	uid  bool
	root *searchKey
	keys []sortKey // nil for SEARCH
	// uids is the result as the client knows it, in result order.
	uids []uint32
}

// maxContexts bounds the searches one session keeps up to date: each is
// evaluated again whenever the mailbox changes.
const maxContexts = 8

// addContext keeps the result of the running SEARCH or SORT (session
// indices in result order) up to date for the client. Past the limit the
// client is told with NOUPDATE (RFC 5267 4.3) and the search is answered
// once.
func (c *conn) addContext(cmd *wire.Command, root *searchKey, keys []sortKey, order []int) error {
	s := c.sel
	s.contexts = slices.DeleteFunc(s.contexts, func(x *searchCtx) bool { return x.tag == cmd.Tag })
	if len(s.contexts) >= maxContexts {
		c.untagged("NO", `NOUPDATE "`+cmd.Tag+`"`, "Too many searches are kept up to date; this one is not.")
		return nil
	}
	x := &searchCtx{tag: cmd.Tag, uid: cmd.UID, root: root, keys: keys, uids: make([]uint32, len(order))}
	for k, i := range order {
		x.uids[k] = s.msgs[i].uid
	}
	s.contexts = append(s.contexts, x)
	return nil
}

// cmdCancelUpdate stops keeping the named searches up to date (RFC 5267
// 4.3: CANCELUPDATE followed by the tags of the searches, quoted).
func cmdCancelUpdate(c *conn, cmd *wire.Command) error {
	if len(cmd.Args) == 0 {
		return bad("CANCELUPDATE takes the tags of the searches to stop.")
	}
	s := c.sel
	for _, a := range cmd.Args {
		tag, ok := a.AString()
		if !ok || a.Kind == wire.List {
			return bad("CANCELUPDATE takes quoted tags.")
		}
		if !slices.ContainsFunc(s.contexts, func(x *searchCtx) bool { return x.tag == tag }) {
			return bad("No search with tag %q is being kept up to date.", tag)
		}
	}
	for _, a := range cmd.Args {
		tag, _ := a.AString()
		s.contexts = slices.DeleteFunc(s.contexts, func(x *searchCtx) bool { return x.tag == tag })
	}
	return nil
}

// updateContexts evaluates the kept searches again after a change and
// tells the client what entered a result (ADDTO) and what left it
// (REMOVEFROM), RFC 5267 4.3. A message that leaves the mailbox is not
// reported: its EXPUNGE or VANISHED takes it out of every result already.
// While removals wait to be reported (during FETCH, STORE or SEARCH, RFC
// 9051 7.5.1) the update waits too, so that sequence numbers stay right.
func (c *conn) updateContexts() error {
	s := c.sel
	if len(s.contexts) == 0 || !s.ctxDirty || len(s.expunged) > 0 {
		return nil
	}
	s.ctxDirty = false
	for _, x := range s.contexts {
		matched, _, err := c.search(x.root)
		if err != nil {
			return err
		}
		order := matched
		if x.keys != nil {
			if order, err = c.sortMatched(matched, x.keys); err != nil {
				return err
			}
		}
		now := make([]uint32, len(order))
		for k, i := range order {
			now[k] = s.msgs[i].uid
		}
		c.writeContextDiff(x, now)
		x.uids = now
	}
	return nil
}

// writeContextDiff writes REMOVEFROM and ADDTO for the step from x.uids to
// now. For SORT each message comes with its position: removals from the
// last, each position counted before that removal; additions from the
// first, each position counted after it, so applying them in order gives
// the new result. SEARCH results have no order and position 0.
func (c *conn) writeContextDiff(x *searchCtx, now []uint32) {
	s := c.sel
	// Messages gone from the mailbox left every result with their EXPUNGE.
	x.uids = slices.DeleteFunc(x.uids, func(u uint32) bool { return s.index(u) < 0 })
	inNow := make(map[uint32]bool, len(now))
	for _, u := range now {
		inNow[u] = true
	}
	inOld := make(map[uint32]bool, len(x.uids))
	for _, u := range x.uids {
		inOld[u] = true
	}
	num := func(uid uint32) uint32 {
		if x.uid {
			return uid
		}
		return uint32(s.index(uid) + 1)
	}
	type pair struct{ pos, n uint32 }
	var removed, added []pair
	for k := len(x.uids) - 1; k >= 0; k-- {
		u := x.uids[k]
		if !inNow[u] {
			removed = append(removed, pair{uint32(k + 1), num(u)})
		}
	}
	for k, u := range now {
		if !inOld[u] {
			added = append(added, pair{uint32(k + 1), num(u)})
		}
	}
	write := func(name string, ps []pair) {
		if len(ps) == 0 {
			return
		}
		c.w.Raw("* ESEARCH (TAG ").String(x.tag).Raw(")")
		if x.uid {
			c.w.Raw(" UID")
		}
		c.w.SP().Raw(name).Raw(" (")
		if x.keys == nil {
			nums := make([]uint32, len(ps))
			for k, p := range ps {
				nums[k] = p.n
			}
			c.w.Raw("0 ").Raw(formatSet(nums))
		} else {
			for k, p := range ps {
				if k > 0 {
					c.w.SP()
				}
				c.w.Uint(uint64(p.pos)).SP().Uint(uint64(p.n))
			}
		}
		c.w.Raw(")").CRLF()
	}
	write("REMOVEFROM", removed)
	write("ADDTO", added)
}
