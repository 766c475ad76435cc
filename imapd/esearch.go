package imapd

import (
	"slices"
	"strconv"
	"strings"

	"wardmail/imapd/wire"
)

// searchReturn is what a SEARCH or SORT asked to be told: the ESEARCH
// return options of RFC 4731 3.1 (MIN, MAX, COUNT, ALL), RFC 5267 4.2-4.4
// (CONTEXT, UPDATE, PARTIAL) and RFC 5182 2 (SAVE).
type searchReturn struct {
	esearch              bool // answer with ESEARCH rather than SEARCH or SORT
	min, max, count, all bool
	partial              [2]uint32 // positions low:high, 1-based; zero when not asked
	update               bool      // keep the result up to date (RFC 5267 4.3)
	save                 bool      // keep the result as $ (RFC 5182)
}

// data reports whether the client asked for any result data, as opposed to
// only UPDATE, CONTEXT or SAVE.
func (r *searchReturn) data() bool {
	return r.min || r.max || r.count || r.all || r.partial[0] != 0
}

// parseReturn reads "RETURN (options)" at the start of args and returns the
// arguments after it. Without RETURN, esearch is false and ALL is implied;
// "RETURN ()" is ALL too (RFC 4731 3.1).
func parseReturn(args []wire.Arg) (searchReturn, []wire.Arg, error) {
	var r searchReturn
	if len(args) < 2 || !args[0].IsAtom("RETURN") {
		r.all = true
		return r, args, nil
	}
	if args[1].Kind != wire.List {
		return r, nil, bad("RETURN needs a list of options.")
	}
	r.esearch = true
	opts := args[1].List
	for i := 0; i < len(opts); i++ {
		o := opts[i]
		if o.Kind != wire.Atom {
			return r, nil, bad("Invalid RETURN option.")
		}
		switch opt := strings.ToUpper(o.S); opt {
		case "MIN":
			r.min = true
		case "MAX":
			r.max = true
		case "COUNT":
			r.count = true
		case "ALL":
			r.all = true
		case "SAVE":
			r.save = true
		case "UPDATE":
			r.update = true
		case "CONTEXT":
			// A hint that more searches of the kind follow (RFC 5267
			// 4.2); every search is answered the same way here.
		case "PARTIAL":
			if i+1 >= len(opts) || opts[i+1].Kind != wire.Atom {
				return r, nil, bad("PARTIAL needs a range low:high.")
			}
			i++
			lo, hi, ok := parseRange(opts[i].S)
			if !ok {
				return r, nil, bad("PARTIAL needs a range low:high of positions from 1.")
			}
			r.partial = [2]uint32{lo, hi}
		default:
			return r, nil, bad("Unsupported RETURN option %q.", o.S)
		}
	}
	if !r.data() && !r.save && !r.update {
		r.all = true // RETURN () means ALL (RFC 4731 3.1)
	}
	return r, args[2:], nil
}

// parseRange reads a PARTIAL range "low:high" of positions from 1 (RFC 5267
// 4.4; the order of the two numbers does not matter).
func parseRange(s string) (uint32, uint32, bool) {
	a, b, found := strings.Cut(s, ":")
	if !found {
		return 0, 0, false
	}
	lo, err1 := strconv.ParseUint(a, 10, 32)
	hi, err2 := strconv.ParseUint(b, 10, 32)
	if err1 != nil || err2 != nil || lo == 0 || hi == 0 || a[0] == '+' || b[0] == '+' {
		return 0, 0, false
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	return uint32(lo), uint32(hi), true
}

// writeESearch writes "* ESEARCH (TAG t) [UID] ..." for nums in result
// order: ascending for SEARCH, the sort order for SORT (RFC 5267 3: MIN and
// MAX are then the first and last in that order, and ALL keeps it). modseq
// is written when not zero (RFC 7162 3.1.5). With only UPDATE asked, the
// initial result goes as ADDTO, as later additions do (RFC 5267 4.3).
func (c *conn) writeESearch(tag string, uid bool, r searchReturn, nums []uint32, sorted bool, modseq uint64) {
	c.w.Raw("* ESEARCH (TAG ").String(tag).Raw(")")
	if uid {
		c.w.Raw(" UID")
	}
	if r.min && len(nums) > 0 {
		c.w.Raw(" MIN ").Uint(uint64(nums[0]))
	}
	if r.max && len(nums) > 0 {
		c.w.Raw(" MAX ").Uint(uint64(nums[len(nums)-1]))
	}
	if r.count {
		c.w.Raw(" COUNT ").Uint(uint64(len(nums)))
	}
	if r.all && len(nums) > 0 {
		c.w.Raw(" ALL ").Raw(formatOrdered(nums, sorted))
	}
	if r.partial[0] != 0 {
		lo, hi := r.partial[0], r.partial[1]
		c.w.Raw(" PARTIAL (").Uint(uint64(lo)).Byte(':').Uint(uint64(hi)).SP()
		if int(lo) > len(nums) {
			c.w.NIL()
		} else {
			c.w.Raw(formatOrdered(nums[lo-1:min(int(hi), len(nums))], sorted))
		}
		c.w.Byte(')')
	}
	if r.update && !r.data() && len(nums) > 0 {
		c.w.Raw(" ADDTO (")
		if sorted {
			for i, n := range nums {
				if i > 0 {
					c.w.SP()
				}
				c.w.Uint(uint64(i + 1)).SP().Uint(uint64(n))
			}
		} else {
			c.w.Raw("0 ").Raw(formatSet(nums))
		}
		c.w.Byte(')')
	}
	if modseq != 0 {
		c.w.Raw(" MODSEQ ").Uint(modseq)
	}
	c.w.CRLF()
}

// formatOrdered writes numbers as a sequence set that keeps their order:
// runs that ascend by one become a:b, and nothing is reordered. Unsorted
// (SEARCH) results are written as the shortest set.
func formatOrdered(nums []uint32, sorted bool) string {
	if !sorted {
		return formatSet(nums)
	}
	var sb strings.Builder
	for i := 0; i < len(nums); {
		j := i
		for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
			j++
		}
		if sb.Len() > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.FormatUint(uint64(nums[i]), 10))
		if j > i {
			sb.WriteByte(':')
			sb.WriteString(strconv.FormatUint(uint64(nums[j]), 10))
		}
		i = j + 1
	}
	return sb.String()
}

// saveResult keeps a result (session indices, in result order) as "$"
// (RFC 5182 2.1): with MIN and/or MAX but neither ALL nor COUNT, only the
// messages they return; otherwise every message found.
func (c *conn) saveResult(r searchReturn, order []int) {
	s := c.sel
	pick := order
	if (r.min || r.max) && !r.all && !r.count && len(order) > 0 {
		pick = nil
		if r.min {
			pick = append(pick, order[0])
		}
		if r.max && (!r.min || len(order) > 1) {
			pick = append(pick, order[len(order)-1])
		}
	}
	uids := make([]uint32, len(pick))
	for k, i := range pick {
		uids[k] = s.msgs[i].uid
	}
	slices.Sort(uids)
	s.saved = slices.Compact(uids)
}

// uidSet turns ascending UIDs into a set.
func uidSet(uids []uint32) numSet {
	set := make(numSet, 0, len(uids))
	for _, u := range uids {
		set = append(set, numRange{lo: u, hi: u})
	}
	return set
}
