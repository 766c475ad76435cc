package message

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseDate parses an RFC 5322 3.3 date-time, including the obsolete and
// sloppy forms seen in real mail (RFC 5322 4.3):
//   - no day name, or a day name without its comma, or a full day name;
//   - a one-digit day, full month names, two- or three-digit years
//     (RFC 5322 4.3: 00-49 are 2000-2049, 50-999 are 1900+);
//   - no seconds; a one-digit hour;
//   - named zones UT, UTC, GMT, Z and the US zones EST/EDT/CST/CDT/MST/MDT/
//     PST/PDT; military letters, unknown names and a missing zone mean
//     +0000 (RFC 5322 4.3 says to read military zones as -0000);
//   - comments anywhere, such as "+0100 (CET)", and words after the zone;
//   - the asctime order "Mon Jan  2 15:04:05 2006".
//
// It fails for anything else, and for dates that do not exist.
func ParseDate(v string) (time.Time, error) {
	fail := func(why string) (time.Time, error) {
		return time.Time{}, fmt.Errorf("message: date %q: %s", trimForError(v), why)
	}
	toks := dateTokens(v)
	if len(toks) > 0 && isDayName(toks[0]) {
		toks = toks[1:]
	}
	if len(toks) < 4 {
		return fail("too few parts")
	}
	var dayS, monS, yearS, timeS string
	var rest []string
	if monthOf(toks[0]) > 0 {
		// asctime: month day time year [zone]
		if strings.Contains(toks[2], ":") {
			monS, dayS, timeS, yearS, rest = toks[0], toks[1], toks[2], toks[3], toks[4:]
		} else {
			// "Jan 2 2006 15:04:05"
			monS, dayS, yearS, timeS, rest = toks[0], toks[1], toks[2], toks[3], toks[4:]
		}
	} else {
		dayS, monS, yearS, timeS, rest = toks[0], toks[1], toks[2], toks[3], toks[4:]
	}
	day, err := strconv.Atoi(dayS)
	if err != nil || len(dayS) > 2 || day < 1 {
		return fail("bad day")
	}
	mon := monthOf(monS)
	if mon == 0 {
		return fail("bad month")
	}
	year, err := strconv.Atoi(yearS)
	if err != nil || len(yearS) < 2 || len(yearS) > 4 {
		return fail("bad year")
	}
	switch len(yearS) {
	case 2:
		if year < 50 {
			year += 2000
		} else {
			year += 1900
		}
	case 3:
		year += 1900
	}
	if year < 1900 {
		return fail("bad year")
	}
	hour, minute, sec, ok := parseClock(timeS)
	if !ok {
		return fail("bad time")
	}
	offset := 0
	if len(rest) > 0 {
		if offset, ok = parseZone(rest[0]); !ok {
			return fail("bad zone")
		}
		for _, w := range rest[1:] {
			if !isAlpha(w) {
				return fail("unexpected text after the zone")
			}
		}
	}
	if day > daysIn(time.Month(mon), year) {
		return fail("no such day")
	}
	loc := time.UTC
	if offset != 0 {
		loc = time.FixedZone("", offset)
	}
	return time.Date(year, time.Month(mon), day, hour, minute, sec, 0, loc), nil
}

func trimForError(v string) string {
	if len(v) > 64 {
		return v[:64] + "..."
	}
	return v
}

// dateTokens removes comments and splits on white space and commas.
func dateTokens(v string) []string {
	var sb strings.Builder
	depth := 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth > 0:
			if c == '\\' {
				i++
			}
		case c == ',':
			sb.WriteByte(' ')
		default:
			sb.WriteByte(c)
		}
	}
	return strings.Fields(sb.String())
}

var dayNames = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

var monthNames = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// isDayName accepts "Mon", "monday", "Mon." and the like.
func isDayName(s string) bool {
	s = strings.ToLower(strings.TrimSuffix(s, "."))
	for _, d := range dayNames {
		if s == d || (len(s) > 3 && strings.HasPrefix(s, d) && isAlpha(s)) {
			return true
		}
	}
	return false
}

// monthOf returns 1-12 for a month name, short or long, or 0.
func monthOf(s string) int {
	s = strings.ToLower(strings.TrimSuffix(s, "."))
	if len(s) < 3 || !isAlpha(s) {
		return 0
	}
	for i, m := range monthNames {
		if strings.HasPrefix(s, m) && (len(s) == 3 || strings.HasPrefix(longMonths[i], s)) {
			return i + 1
		}
	}
	return 0
}

var longMonths = []string{"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"}

func isAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return s != ""
}

// parseClock parses hh:mm[:ss]; a leap second reads as :59.
func parseClock(s string) (h, m, sec int, ok bool) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, 0, 0, false
	}
	nums := [3]int{}
	for i, p := range parts {
		if len(p) < 1 || len(p) > 2 {
			return 0, 0, 0, false
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return 0, 0, 0, false
		}
		nums[i] = n
	}
	h, m, sec = nums[0], nums[1], nums[2]
	if h > 23 || m > 59 || sec > 60 {
		return 0, 0, 0, false
	}
	return h, m, min(sec, 59), true
}

// parseZone returns the offset in seconds east of UTC of an RFC 5322 zone:
// "+hhmm", "-hhmm" (also "+hh:mm" and "+hh"), or a name (RFC 5322 4.3).
func parseZone(z string) (int, bool) {
	if z[0] == '+' || z[0] == '-' {
		digits := strings.Replace(z[1:], ":", "", 1)
		if len(digits) == 2 {
			digits += "00"
		}
		if len(digits) != 4 {
			return 0, false
		}
		n, err := strconv.Atoi(digits)
		if err != nil || n < 0 || n/100 > 23 || n%100 > 59 {
			return 0, false
		}
		off := (n/100)*3600 + (n%100)*60
		if z[0] == '-' {
			off = -off
		}
		return off, true
	}
	if !isAlpha(z) || len(z) > 5 {
		return 0, false
	}
	switch strings.ToUpper(z) {
	case "EDT":
		return -4 * 3600, true
	case "EST", "CDT":
		return -5 * 3600, true
	case "CST", "MDT":
		return -6 * 3600, true
	case "MST", "PDT":
		return -7 * 3600, true
	case "PST":
		return -8 * 3600, true
	}
	// UT, UTC, GMT, Z, military letters and names we do not know.
	return 0, true
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
