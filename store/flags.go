package store

import (
	"slices"
	"sort"
	"strings"
)

// System flags (RFC 9051 2.3.2), stored as bits.
const (
	FlagSeen     = `\Seen`
	FlagAnswered = `\Answered`
	FlagFlagged  = `\Flagged`
	FlagDeleted  = `\Deleted`
	FlagDraft    = `\Draft`
)

var flagBits = []struct {
	name string
	bit  int64
}{
	{FlagSeen, 1}, {FlagAnswered, 2}, {FlagFlagged, 4}, {FlagDeleted, 8}, {FlagDraft, 16},
}

// MaxKeywords bounds the keywords one message may carry.
const MaxKeywords = 64

// encodeFlags splits flags into the stored bit set and keyword list. Flag
// names are case-insensitive; keywords keep the case first written.
func encodeFlags(flags []string) (bits int64, keywords string) {
	var kw []string
	for _, f := range flags {
		matched := false
		for _, fb := range flagBits {
			if strings.EqualFold(f, fb.name) {
				bits |= fb.bit
				matched = true
				break
			}
		}
		if matched || strings.HasPrefix(f, `\`) || f == "" {
			continue // \Recent and unknown system flags are not stored
		}
		dup := false
		for _, k := range kw {
			if strings.EqualFold(k, f) {
				dup = true
				break
			}
		}
		if !dup && len(kw) < MaxKeywords {
			kw = append(kw, f)
		}
	}
	sort.Strings(kw)
	return bits, strings.Join(kw, " ")
}

// decodeFlags turns the stored form back into flag names.
//
// The result has no spare capacity, so that callers who append to it (or
// to a copy of it from the snapshot cache) never write into another's.
func decodeFlags(bits int64, keywords string) []string {
	if bits == 0 && keywords == "" {
		return []string{}
	}
	var out []string
	for _, fb := range flagBits {
		if bits&fb.bit != 0 {
			out = append(out, fb.name)
		}
	}
	if keywords != "" {
		out = append(out, strings.Fields(keywords)...)
	}
	return slices.Clip(out)
}

// FlagOp says how SetFlags combines the given flags with the stored ones.
type FlagOp int

// Flag operations (RFC 9051 6.4.6: FLAGS, +FLAGS, -FLAGS).
const (
	FlagsReplace FlagOp = iota
	FlagsAdd
	FlagsRemove
)

func applyFlags(op FlagOp, bits int64, kw string, opBits int64, opKw string) (int64, string) {
	switch op {
	case FlagsReplace:
		return opBits, opKw
	case FlagsAdd:
		if opKw == "" {
			return bits | opBits, kw
		}
		_, merged := encodeFlags(append(strings.Fields(kw), strings.Fields(opKw)...))
		return bits | opBits, merged
	default:
		if opKw == "" || kw == "" {
			return bits &^ opBits, kw
		}
		var keep []string
		for _, k := range strings.Fields(kw) {
			drop := false
			for _, r := range strings.Fields(opKw) {
				if strings.EqualFold(k, r) {
					drop = true
					break
				}
			}
			if !drop {
				keep = append(keep, k)
			}
		}
		return bits &^ opBits, strings.Join(keep, " ")
	}
}
