package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"strings"

	"wardmail/store"
)

// App passwords are per-device secrets for IMAP and SMTP clients. They are
// 160 random bits written as "wm-" and four groups of eight base32 letters,
// e.g. wm-k2mf7qxa-3rtp5d2n-hw6yzb4c-q7ve2m5j. Being random and long, they
// are stored as plain SHA-256 and verified in microseconds, without the
// argon2id pool: every device of every person can reconnect at once. A
// person's password may not have this shape (CheckPasswordPolicy), so the
// shape alone says which kind of secret a sign-in carries.

const (
	appPassPrefix = "wm"
	appPassBytes  = 20 // 160 bits
	appPassChars  = 32 // base32 of 20 bytes, no padding
)

// Scopes an app password may carry.
const (
	ScopeIMAP = "imap"
	ScopeSMTP = "smtp"
)

var appPassEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewAppPassword returns a new app password as shown to the person once, and
// the SHA-256 to store.
func NewAppPassword() (secret string, hash []byte) {
	var raw [appPassBytes]byte
	_, _ = rand.Read(raw[:]) // crypto/rand never fails
	enc := appPassEncoding.EncodeToString(raw[:])
	var b strings.Builder
	b.WriteString(appPassPrefix)
	for i := 0; i < appPassChars; i += 8 {
		b.WriteByte('-')
		b.WriteString(enc[i : i+8])
	}
	h := sha256.Sum256(raw[:])
	return b.String(), h[:]
}

// ParseAppPassword reports whether s has the shape of an app password and
// returns the SHA-256 to look it up by. Case, dashes and spaces are
// ignored, since people copy them by hand.
func ParseAppPassword(s string) (hash []byte, ok bool) {
	if len(s) < appPassChars+len(appPassPrefix) || len(s) > 80 {
		return nil, false
	}
	var b [80]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' || c == ' ':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		b[n] = c
		n++
	}
	if n != appPassChars+len(appPassPrefix) || string(b[:len(appPassPrefix)]) != appPassPrefix {
		return nil, false
	}
	var raw [appPassBytes]byte
	m, err := appPassEncoding.Decode(raw[:], b[len(appPassPrefix):n])
	if err != nil || m != appPassBytes {
		return nil, false
	}
	h := sha256.Sum256(raw[:])
	return h[:], true
}

// ParseScopes checks a comma-separated scope list ("imap,smtp").
func ParseScopes(s string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, sc := range strings.Split(s, ",") {
		sc = strings.ToLower(strings.TrimSpace(sc))
		switch sc {
		case "":
			continue
		case ScopeIMAP, ScopeSMTP:
		default:
			return nil, errors.New("unknown scope " + sc + ": use imap, smtp or both")
		}
		if !seen[sc] {
			seen[sc] = true
			out = append(out, sc)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("an app password needs at least one scope: imap, smtp")
	}
	return out, nil
}

// CreateAppPassword makes a new app password for a person and returns it,
// to be shown once. actor is who asked, for the audit trail.
func (l *Login) CreateAppPassword(ctx context.Context, actor string, p *store.Person, name string, scopes []string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return "", errors.New("an app password needs a name of 1 to 100 characters (e.g. the device: \"work phone\")")
	}
	secret, hash := NewAppPassword()
	if _, err := l.store.AddAppPassword(ctx, actor, store.AppPasswordRecord{PersonID: p.ID, Name: name, Hash: hash, Scopes: scopes}); err != nil {
		return "", err
	}
	return secret, nil
}
