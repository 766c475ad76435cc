package auth

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"time"
)

// Doors a sign-in comes through; app password scopes name the first two.
const (
	ProtoIMAP = "imap"
	ProtoSMTP = "smtp"
	ProtoHTTP = "http"
)

// Attempt is one sign-in, from any door.
type Attempt struct {
	Username string
	// Password is the person's password or one of their app passwords (told
	// apart by shape, see ParseAppPassword).
	Password string
	// Source is the client's address: lockout counts per network.
	Source netip.Addr
	// Protocol is ProtoIMAP, ProtoSMTP or ProtoHTTP.
	Protocol string
	// Device optionally identifies the client device (a webmail device
	// cookie). A device that signed in to this account before is a source
	// of its own; an unknown one counts under its network.
	Device string
	// SecondFactor is a TOTP code or a recovery code (HTTP only).
	SecondFactor string
}

// More sign-in outcomes (see also ErrBadCredentials and ErrUnavailable).
var (
	// ErrLocked: too many failures from this source; errors.As gives the
	// *LockedError with the time it ends (IMAP NO [UNAVAILABLE], SMTP 454
	// 4.7.0, HTTP 423 or 429 with Retry-After). It is said for addresses
	// with no person too, so it tells nothing about who exists.
	ErrLocked = errors.New("sign-in from this source is locked")
	// ErrSecondFactorRequired: the password was right and the person must
	// give a TOTP or recovery code (HTTP only). Not counted as a failure.
	ErrSecondFactorRequired = errors.New("a security code is needed")
	// ErrBadSecondFactor: the password was right but the code was wrong or
	// used already. Counted like a wrong password.
	ErrBadSecondFactor = errors.New("wrong security code")
	// ErrAppPasswordRequired: the password was right, but the person uses
	// two-step sign-in (administrators always do), and mail apps (IMAP,
	// SMTP), which cannot ask for a code, must then use an app password, as
	// with Google and Microsoft accounts: a stolen or reset password alone
	// reaches no mailbox. Not counted as a failure (IMAP NO
	// [AUTHENTICATIONFAILED], SMTP 535 5.7.8, with AppPasswordSentence).
	ErrAppPasswordRequired = errors.New("this account uses two-step sign-in: mail apps need an app password")
)

// AppPasswordSentence is what the IMAP and SMTP doors say with
// ErrAppPasswordRequired.
const AppPasswordSentence = "Your account uses two-step sign-in, so mail apps need an app password: create one in Settings, App passwords, and use it instead of your password."

// LockedError is ErrLocked with its end.
type LockedError struct {
	Until time.Time
	// Network: the refusal is the network budget's (a password spray from
	// the client's network), not a lock of the account.
	Network bool
}

func (e *LockedError) Error() string {
	return "sign-in from this network is locked until " + e.Until.UTC().Format(time.RFC3339)
}

// Is makes errors.Is(err, ErrLocked) hold.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

type clientKey struct{}

type client struct {
	addr     netip.Addr
	protocol string
}

// WithClient returns a context that tells Authenticate the client's address
// and the door's protocol. The IMAP and SMTP doors use it, so that their
// Authenticator interface stays (user, password).
func WithClient(ctx context.Context, remote net.Addr, protocol string) context.Context {
	c := client{protocol: protocol}
	if remote != nil {
		if ap, err := netip.ParseAddrPort(remote.String()); err == nil {
			c.addr = ap.Addr()
		} else if a, err := netip.ParseAddr(remote.String()); err == nil {
			c.addr = a
		}
	}
	return context.WithValue(ctx, clientKey{}, c)
}

func clientOf(ctx context.Context) client {
	c, _ := ctx.Value(clientKey{}).(client)
	return c
}
