package web

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"wardmail/auth"
	"wardmail/store"
)

// SignIn checks a person's credentials for the web door. It is an interface
// so that the full sign-in engine (lockout per account and source,
// TOTP, app passwords) plugs in without the handlers changing: an
// implementation returns one of the errors below, and signinProblem turns it
// into the sentence the person sees.
//
// ErrTOTPNotSetUp comes with the person: the credentials were right, and the
// person must set up an authenticator app.
type SignIn interface {
	SignIn(ctx context.Context, a Attempt) (*store.Person, error)
}

// Attempt is one sign-in attempt as the web door sees it.
type Attempt struct {
	Email, Password string
	// TOTP is the six-digit code, when the person typed one.
	TOTP string
	// Remote is the client's address; Basic is true for HTTP Basic on the
	// API (a client, not a person at a sign-in page).
	Remote string
	Basic  bool
	// Device is the browser's known-device cookie (device.go): a browser
	// that signed in to this account before is a lockout source of its own,
	// so failures elsewhere on its network do not lock it out.
	Device string
}

// Sign-in outcomes.
var (
	// ErrBadCredentials: wrong address or password (never says which).
	ErrBadCredentials = errors.New("wrong address or password")
	// ErrUnavailable: the server could not decide; never counts against the person.
	ErrUnavailable = errors.New("sign-in is temporarily unavailable")
	// ErrTOTPRequired: the password was right and a code is needed.
	ErrTOTPRequired = errors.New("a security code is needed")
	// ErrBadTOTP: the code was wrong or used already.
	ErrBadTOTP = errors.New("wrong security code")
	// ErrTOTPNotSetUp: the account must use a security code (administrators)
	// and has no authenticator app yet.
	ErrTOTPNotSetUp = errors.New("a security code must be set up first")
)

// LockedError says an account is locked for sign-in from this source until a
// time (smart lockout returns it). Network says the refusal is
// the network budget's (a password spray from the client's network).
type LockedError struct {
	Until   time.Time
	Network bool
}

func (e *LockedError) Error() string { return "locked until " + e.Until.Format(time.RFC3339) }

// LoginSignIn adapts auth.Login to SignIn: password or app password,
// smart lockout per account and source, and TOTP or recovery codes for
// people who enrolled.
type LoginSignIn struct{ Login *auth.Login }

// SignIn implements SignIn.
func (l LoginSignIn) SignIn(ctx context.Context, a Attempt) (*store.Person, error) {
	at := auth.Attempt{Username: a.Email, Password: a.Password, Protocol: auth.ProtoHTTP, SecondFactor: a.TOTP, Device: a.Device}
	if ap, err := netip.ParseAddrPort(a.Remote); err == nil {
		at.Source = ap.Addr()
	}
	p, err := l.Login.SignIn(ctx, at)
	var locked *auth.LockedError
	switch {
	case err == nil:
		return p, nil
	case errors.As(err, &locked):
		return nil, &LockedError{Until: locked.Until, Network: locked.Network}
	case errors.Is(err, auth.ErrSecondFactorRequired):
		return nil, ErrTOTPRequired
	case errors.Is(err, auth.ErrBadSecondFactor):
		return nil, ErrBadTOTP
	case errors.Is(err, auth.ErrSecondFactorNotSetUp) && p != nil:
		// An administrator whose password was right but who has no
		// authenticator app yet: auth returns the person so that the web
		// can let them enrol, and nothing else (see enrolmentOnly).
		return p, ErrTOTPNotSetUp
	case errors.Is(err, auth.ErrBadCredentials):
		return nil, ErrBadCredentials
	case errors.Is(err, auth.ErrUnavailable):
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	default:
		return nil, err
	}
}

// signinProblem is the one place sign-in outcomes become what people read.
func signinProblem(err error, now time.Time) *Problem {
	var locked *LockedError
	switch {
	case errors.As(err, &locked) && locked.Network:
		wait := max(locked.Until.Sub(now).Round(time.Second), time.Second)
		p := problem(429, "network-paused", "Too many wrong passwords have come from your network for accounts not used from it before, so such sign-ins are paused until %s (in %s). Sign in from a network or device you have used before, or try again later.",
			locked.Until.UTC().Format("15:04 UTC"), wait)
		p.Until = locked.Until.UTC().Format(time.RFC3339)
		p.RetryAfter = int(wait / time.Second)
		return p
	case errors.As(err, &locked):
		wait := max(locked.Until.Sub(now).Round(time.Second), time.Second)
		p := problem(423, "locked", "Too many wrong passwords: sign-in to this account from this device is paused until %s (in %s). It unlocks by itself; your IT service desk can unlock it sooner.",
			locked.Until.UTC().Format("15:04 UTC"), wait)
		p.Until = locked.Until.UTC().Format(time.RFC3339)
		p.RetryAfter = int(wait / time.Second)
		return p
	case errors.Is(err, ErrTOTPRequired):
		p := problem(401, "totp-required", "Enter the six-digit code from your authenticator app.")
		p.Field = "totp"
		return p
	case errors.Is(err, ErrBadTOTP):
		p := problem(401, "bad-totp", "That security code is not right. Check the time on your phone and try the newest code.")
		p.Field = "totp"
		return p
	case errors.Is(err, ErrTOTPNotSetUp):
		return problem(403, "totp-not-set-up", "Your account needs two-step sign-in with an authenticator app, and none is set up yet. Set it up in Settings, or ask your IT service desk to help.")
	case errors.Is(err, ErrBadCredentials):
		return problem(401, "bad-credentials", "The email address or password is not right. Check them and try again.")
	case errors.Is(err, ErrUnavailable):
		p := problem(503, "unavailable", "Sign-in is temporarily unavailable because of a problem on our side. This does not count against your account; please try again in a minute.")
		p.RetryAfter = 30
		return p
	default:
		return nil
	}
}
