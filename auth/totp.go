package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"time"

	"wardmail/store"
)

// TOTP (RFC 6238) with the parameters every authenticator app supports:
// HMAC-SHA1, 30-second steps, 6 digits, a 160-bit secret. A code is accepted
// one step either side of now (clock drift, RFC 6238 5.2) and only once.

const (
	totpStep    = 30
	totpDigits  = 6
	totpSecret  = 20
	totpSkew    = 1
	totpModulus = 1_000_000
)

// ErrSecondFactorNotSetUp: the password was right, but this person must use
// TOTP (administrators must) and has not enrolled. SignIn returns the person
// with it, so the web door can let them enrol and nothing else.
var ErrSecondFactorNotSetUp = errors.New("a security code is required for this account: set up an authenticator app")

// NewTOTPSecret returns a random 160-bit secret.
func NewTOTPSecret() []byte {
	b := make([]byte, totpSecret)
	_, _ = rand.Read(b)
	return b
}

// TOTPURI returns the otpauth:// URI an authenticator app reads from a QR
// code (Google Authenticator key URI format).
func TOTPURI(secret []byte, account, issuer string) string {
	enc := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
	q := url.Values{"secret": {enc}, "issuer": {issuer}, "algorithm": {"SHA1"}, "digits": {"6"}, "period": {"30"}}
	return "otpauth://totp/" + url.PathEscape(issuer+":"+account) + "?" + q.Encode()
}

// TOTPCode returns the code for time t (RFC 6238 4.2, RFC 4226 5.3).
func TOTPCode(secret []byte, t time.Time) string {
	return fmt.Sprintf("%06d", hotp(secret, uint64(t.Unix()/totpStep)))
}

func hotp(secret []byte, counter uint64) uint32 {
	m := hmac.New(sha1.New, secret)
	var c [8]byte
	binary.BigEndian.PutUint64(c[:], counter)
	m.Write(c[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return v % totpModulus
}

// ParseTOTPCode accepts six digits, with spaces or a dash between groups as
// apps show them ("123 456").
func ParseTOTPCode(s string) (uint32, bool) {
	if len(s) > 16 {
		return 0, false
	}
	var v uint32
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '-':
			continue
		case c >= '0' && c <= '9':
			v = v*10 + uint32(c-'0')
			n++
		default:
			return 0, false
		}
	}
	return v, n == totpDigits
}

// VerifyTOTP checks a code against secret at time t and returns the time
// step it matched.
func VerifyTOTP(secret []byte, code string, t time.Time) (step int64, ok bool) {
	want, ok := ParseTOTPCode(code)
	if !ok {
		return 0, false
	}
	now := t.Unix() / totpStep
	matched := int64(-1)
	for d := -totpSkew; d <= totpSkew; d++ {
		// Check every step, so the time taken does not say which matched.
		if hmac.Equal(u32(hotp(secret, uint64(now+int64(d)))), u32(want)) {
			matched = now + int64(d)
		}
	}
	return matched, matched >= 0
}

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// EnrolTOTP starts TOTP enrolment: a new secret is stored, not yet in force,
// and returned with the URI to show as a QR code. ConfirmTOTP turns it on.
// For someone whose TOTP is on, the secret in force stays so until a code
// from the new one confirms it: the caller must have checked a code from
// the current one (or a recovery code) first.
func (l *Login) EnrolTOTP(ctx context.Context, p *store.Person, issuer string) (secret []byte, uri string, err error) {
	secret = NewTOTPSecret()
	if err := l.store.SetTOTPSecret(ctx, p.ID, secret); err != nil {
		return nil, "", err
	}
	return secret, TOTPURI(secret, p.Email, issuer), nil
}

// ConfirmTOTP turns TOTP on once the person shows a code from their app.
func (l *Login) ConfirmTOTP(ctx context.Context, p *store.Person, code string) error {
	st, err := l.store.TOTP(ctx, p.ID)
	if err != nil {
		return err
	}
	if st.Enabled && st.Pending != nil {
		// Moving to another authenticator: the new one's code swaps it in.
		step, ok := VerifyTOTP(st.Pending, code, l.cfg.Now())
		if !ok {
			return ErrBadSecondFactor
		}
		if ok, err = l.store.ReplaceTOTP(ctx, p.Email, p.ID, step); err != nil {
			return err
		} else if !ok {
			return ErrBadSecondFactor
		}
		return nil
	}
	step, ok := VerifyTOTP(st.Secret, code, l.cfg.Now())
	if !ok {
		return ErrBadSecondFactor
	}
	ok, err = l.store.UseTOTPStep(ctx, p.Email, p.ID, step, true)
	if err != nil {
		return err
	}
	if !ok {
		return ErrBadSecondFactor
	}
	return nil
}

// DisableTOTP removes a person's TOTP and recovery codes.
func (l *Login) DisableTOTP(ctx context.Context, actor string, p *store.Person) error {
	return l.store.DisableTOTP(ctx, actor, p.ID)
}

// NeedsSecondFactor reports whether webmail sign-in needs a code: for anyone
// with TOTP on, and for every administrator (enrolled reports whether they
// have it on).
func (l *Login) NeedsSecondFactor(ctx context.Context, p *store.Person) (need, enrolled bool, err error) {
	st, err := l.store.TOTP(ctx, p.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return false, false, err
	default:
		enrolled = st.Enabled
	}
	if enrolled {
		return true, true, nil
	}
	admin, err := l.store.IsAdmin(ctx, p.ID)
	return admin, false, err
}

// MustEnrol reports whether p must use a security code on the web and has
// none yet (an administrator without an authenticator app): such a session
// reaches only enrolment.
func (l *Login) MustEnrol(ctx context.Context, p *store.Person) (bool, error) {
	need, enrolled, err := l.NeedsSecondFactor(ctx, p)
	return need && !enrolled, err
}

// checkMailAppPassword runs after a right password on IMAP or SMTP: someone
// who must give a second factor on the web cannot give one here, so only
// their app passwords open these doors.
func (l *Login) checkMailAppPassword(ctx context.Context, p *store.Person) error {
	need, _, err := l.NeedsSecondFactor(ctx, p)
	switch {
	case err != nil:
		l.backendFailed()
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	case need:
		return ErrAppPasswordRequired
	}
	return nil
}

// checkSecondFactor runs after a right password on the web door.
func (l *Login) checkSecondFactor(ctx context.Context, p *store.Person, code string) error {
	need, enrolled, err := l.NeedsSecondFactor(ctx, p)
	switch {
	case err != nil:
		l.backendFailed()
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	case !need:
		return nil
	case !enrolled:
		return ErrSecondFactorNotSetUp
	case code == "":
		return ErrSecondFactorRequired
	}
	if _, ok := ParseTOTPCode(code); ok {
		st, err := l.store.TOTP(ctx, p.ID)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		step, ok := VerifyTOTP(st.Secret, code, l.cfg.Now())
		if !ok {
			return ErrBadSecondFactor
		}
		if ok, err = l.store.UseTOTPStep(ctx, p.Email, p.ID, step, false); err != nil {
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		} else if !ok {
			return ErrBadSecondFactor // replayed
		}
		return nil
	}
	h, ok := ParseRecoveryCode(code)
	if !ok {
		return ErrBadSecondFactor
	}
	ok, err = l.store.UseRecoveryCode(ctx, p.Email, p.ID, h)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	} else if !ok {
		return ErrBadSecondFactor
	}
	return nil
}
