package imapd

import (
	"errors"
	"fmt"

	"wardmail/mail"
)

// respError is a failure that reaches the client as a tagged NO or BAD with
// an RFC 5530 response code where one fits.
type respError struct {
	bad  bool   // BAD rather than NO
	code string // e.g. "NONEXISTENT", "TOOBIG [x]"; "" for none
	msg  string
}

func (e *respError) Error() string { return e.msg }

// no returns a NO answer.
func no(code, format string, a ...any) error {
	return &respError{code: code, msg: fmt.Sprintf(format, a...)}
}

// bad returns a BAD answer.
func bad(format string, a ...any) error {
	return &respError{bad: true, msg: fmt.Sprintf(format, a...)}
}

// Sentinels handlers return to change what happens after them.
var (
	// errAnswered: the handler wrote its own tagged response.
	errAnswered = errors.New("answered")
	// errLogout: close the connection after the tagged response.
	errLogout = errors.New("logout")
	// errClosed: the connection is gone or a BYE was sent; stop at once.
	errClosed = errors.New("connection closed")
)

// storeError maps store errors to answers: the one place where backend
// failures become wire replies. It returns nil for errors it does not know;
// the caller then logs them and answers a generic, temporary failure.
func storeError(err error) *respError {
	var re *respError
	switch {
	case errors.As(err, &re):
		return re
	case errors.Is(err, mail.ErrNotFound):
		return &respError{code: "NONEXISTENT", msg: "No such mailbox."}
	case errors.Is(err, mail.ErrInboxExists):
		return &respError{code: "ALREADYEXISTS", msg: "INBOX always exists."}
	case errors.Is(err, mail.ErrExists):
		return &respError{code: "ALREADYEXISTS", msg: "A mailbox with that name already exists."}
	case errors.Is(err, mail.ErrInvalidName):
		return &respError{code: "CANNOT", msg: "That mailbox name is not allowed."}
	case errors.Is(err, mail.ErrCannotDelete):
		return &respError{code: "CANNOT", msg: "That mailbox cannot be deleted."}
	case errors.Is(err, mail.ErrTooManyWrites):
		return &respError{code: "UNAVAILABLE", msg: "The server is busy; try again shortly."}
	case errors.Is(err, mail.ErrBodyUnavailable):
		// RFC 5530 3: UNAVAILABLE, a temporary failure of a subsystem.
		return &respError{code: "UNAVAILABLE", msg: "The store holding message texts is not answering; " +
			"headers and flags still work; try again shortly."}
	}
	return nil
}
