package web

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"time"

	"wardmail/auth"
	"wardmail/directory"
)

// signIn asks the sign-in service (auth.Login: password or app password,
// smart lockout per account and source, TOTP or recovery codes for people
// who enrolled) whether these credentials open the web door. device is the
// browser's known-device cookie (device.go), empty for HTTP Basic.
func (a *API) signIn(ctx context.Context, r *http.Request, email, password, totp, device string) (*directory.Person, error) {
	at := auth.Attempt{Username: email, Password: password, Protocol: auth.ProtoHTTP, SecondFactor: totp, Device: device}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		at.Source = ap.Addr()
	}
	return a.auth.SignIn(ctx, at)
}

// signinProblem is the one place sign-in outcomes become what people read.
func signinProblem(err error, now time.Time) *Problem {
	var locked *auth.LockedError
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
	case errors.Is(err, auth.ErrSecondFactorRequired):
		p := problem(401, "totp-required", "Enter the six-digit code from your authenticator app.")
		p.Field = "totp"
		return p
	case errors.Is(err, auth.ErrBadSecondFactor):
		p := problem(401, "bad-totp", "That security code is not right. Check the time on your phone and try the newest code.")
		p.Field = "totp"
		return p
	case errors.Is(err, auth.ErrSecondFactorNotSetUp):
		return problem(403, "totp-not-set-up", "Your account needs two-step sign-in with an authenticator app, and none is set up yet. Set it up in Settings, or ask your IT service desk to help.")
	case errors.Is(err, auth.ErrBadCredentials):
		return problem(401, "bad-credentials", "The email address or password is not right. Check them and try again.")
	case errors.Is(err, auth.ErrUnavailable):
		p := problem(503, "unavailable", "Sign-in is temporarily unavailable because of a problem on our side. This does not count against your account; please try again in a minute.")
		p.RetryAfter = 30
		return p
	default:
		return nil
	}
}
