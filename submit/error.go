// Package submit is the one pipeline every new message goes through, whatever
// door it came in by (SMTP, submission, webmail): check the sender, resolve
// recipients, check and complete the message, store the body once and put a
// row in each recipient's mailbox. Each step that refuses says why with an
// SMTP reply code, an RFC 3463 enhanced status code and a sentence a person
// can act on; nothing is accepted and then silently dropped.
//
// This is the plain path of DESIGN section 4; list expansion, rate limits and
// the storm breaker join it as their issues land.
package submit

import "fmt"

// Error is a refusal that carries its SMTP reply. Doors other than SMTP show
// Message to the person.
type Error struct {
	Code     int    // e.g. 550
	Enhanced [3]int // e.g. {5, 1, 1}
	Message  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%d %d.%d.%d %s", e.Code, e.Enhanced[0], e.Enhanced[1], e.Enhanced[2], e.Message)
}

// Temporary reports whether trying again later may succeed (a 4xx reply).
func (e *Error) Temporary() bool { return e.Code >= 400 && e.Code < 500 }

func refuse(code int, a, b, c int, format string, args ...any) *Error {
	return &Error{Code: code, Enhanced: [3]int{a, b, c}, Message: fmt.Sprintf(format, args...)}
}

// Replies shared by the doors.
var (
	ErrTooManyRecipients = refuse(452, 4, 5, 3, "Too many recipients: at most %d per message; send the rest in another message", DefaultMaxRecipients)
	ErrUnavailable       = refuse(451, 4, 3, 0, "The mail store is temporarily unavailable; please try again shortly")
)
