package message

import "strings"

// Text that people read (a display name, an attachment's file name) must
// show what it is. Control characters and the Unicode bidirectional controls
// change how the text around them is shown instead: "discharge-summary
// U+202E fdp.exe" displays as "discharge-summaryexe.pdf". The wire keeps
// them (IMAP BODYSTRUCTURE is the message as sent); what is shown and what a
// browser saves under do not.

// IsDisplayControl reports whether r changes how the text around it is
// shown rather than being shown itself: C0 and C1 control characters (CR,
// LF, NUL, BEL, ESC...), the line and paragraph separators U+2028 and
// U+2029, and the bidirectional embeddings, overrides, isolates and marks
// (Unicode UAX #9 2.1-2.6: U+202A-U+202E, U+2066-U+2069, U+200E, U+200F,
// U+061C).
func IsDisplayControl(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r < 0xa0:
		return true
	case r >= '\u202A' && r <= '\u202E', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return r == '\u200E' || r == '\u200F' || r == '\u061C' || r == '\u2028' || r == '\u2029'
}

// StripDisplayControls removes what IsDisplayControl reports from s.
func StripDisplayControls(s string) string {
	if !strings.ContainsFunc(s, IsDisplayControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if IsDisplayControl(r) {
			return -1
		}
		return r
	}, s)
}
