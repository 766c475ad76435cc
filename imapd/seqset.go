package imapd

import (
	"slices"
	"sort"
	"strconv"
	"strings"
)

// numRange is one element of a sequence set (RFC 9051 9 "sequence-set"):
// lo:hi, where 0 stands for "*". A set of the one range with saved set is
// "$", the saved search result (RFC 5182 2.1, RFC 9051 6.4.4.1).
type numRange struct {
	lo, hi uint32
	saved  bool
}

// savedSet is "$".
var savedSet = numSet{{saved: true}}

// isSaved reports whether the set is "$".
func (set numSet) isSaved() bool { return len(set) == 1 && set[0].saved }

// numSet is a parsed sequence set of message numbers or UIDs.
type numSet []numRange

// maxSetRanges bounds the ranges one set may hold.
const maxSetRanges = 10000

// parseNumSet parses "1:3,5,7:*", or "$" (RFC 5182 2.1).
func parseNumSet(s string) (numSet, error) {
	if s == "" {
		return nil, bad("Empty sequence set.")
	}
	if s == "$" {
		return savedSet, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) > maxSetRanges {
		return nil, bad("Sequence set too long.")
	}
	set := make(numSet, 0, len(parts))
	for _, p := range parts {
		lo, hi, isRange := strings.Cut(p, ":")
		a, err := parseSetNum(lo)
		if err != nil {
			return nil, err
		}
		b := a
		if isRange {
			if b, err = parseSetNum(hi); err != nil {
				return nil, err
			}
		}
		set = append(set, numRange{lo: a, hi: b})
	}
	return set, nil
}

func parseSetNum(s string) (uint32, error) {
	if s == "*" {
		return 0, nil
	}
	if s == "" || s[0] == '0' || s[0] == '+' {
		return 0, bad("Invalid number %q in sequence set.", s)
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, bad("Invalid number %q in sequence set.", s)
	}
	return uint32(n), nil
}

// bounds returns the range with "*" replaced by star, low end first.
func (r numRange) bounds(star uint32) (uint32, uint32) {
	lo, hi := r.lo, r.hi
	if lo == 0 {
		lo = star
	}
	if hi == 0 {
		hi = star
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	return lo, hi
}

// contains reports whether n is in the set, "*" being star.
func (set numSet) contains(n, star uint32) bool {
	for _, r := range set {
		lo, hi := r.bounds(star)
		if lo <= n && n <= hi {
			return true
		}
	}
	return false
}

// formatSet writes sorted numbers as a compact sequence set ("1:3,5").
func formatSet(nums []uint32) string {
	if len(nums) == 0 {
		return ""
	}
	if !slices.IsSorted(nums) {
		nums = slices.Clone(nums)
		slices.Sort(nums)
	}
	var sb strings.Builder
	start, prev := nums[0], nums[0]
	flush := func() {
		if sb.Len() > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.FormatUint(uint64(start), 10))
		if prev != start {
			sb.WriteByte(':')
			sb.WriteString(strconv.FormatUint(uint64(prev), 10))
		}
	}
	for _, n := range nums[1:] {
		if n == prev || n == prev+1 {
			prev = n
			continue
		}
		flush()
		start, prev = n, n
	}
	flush()
	return sb.String()
}

// indices resolves a set against the session's messages and returns their
// indices (sequence number - 1), ascending and unique. Message numbers past
// the end are an error (RFC 9051 9 "seq-number"); UIDs that do not exist
// are skipped (RFC 9051 6.4.9).
func (s *selected) indices(set numSet, uid bool) ([]int, error) {
	if set.isSaved() {
		// "$" names messages, whatever the command's numbers are (RFC
		// 5182 2.1); those expunged since have left it.
		var out []int
		for _, u := range s.saved {
			if i := s.index(u); i >= 0 {
				out = append(out, i)
			}
		}
		return out, nil
	}
	n := len(s.msgs)
	var out []int
	if !uid {
		if n == 0 {
			return nil, bad("The mailbox is empty: no message numbers are valid.")
		}
		for _, r := range set {
			lo, hi := r.bounds(uint32(n))
			if int64(hi) > int64(n) {
				return nil, bad("Message number %d does not exist: the mailbox holds %d messages.", hi, n)
			}
			for i := int(lo) - 1; i < int(hi); i++ {
				out = append(out, i)
			}
		}
	} else {
		if n == 0 {
			return nil, nil
		}
		star := s.msgs[n-1].uid
		for _, r := range set {
			lo, hi := r.bounds(star)
			i := sort.Search(n, func(i int) bool { return s.msgs[i].uid >= lo })
			for ; i < n && s.msgs[i].uid <= hi; i++ {
				out = append(out, i)
			}
		}
	}
	if len(set) > 1 {
		slices.Sort(out)
		out = slices.Compact(out)
	}
	return out, nil
}
