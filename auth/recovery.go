package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"strings"

	"wardmail/store"
)

// Recovery codes stand in for a lost authenticator: ten single-use codes of
// 50 random bits each, written "xxxxx-xxxxx" in lower-case base32, stored as
// SHA-256.

const (
	recoveryCodes = 10
	recoveryChars = 10
)

// NewRecoveryCodes replaces a person's recovery codes and returns the new
// ones, to be shown once.
func (l *Login) NewRecoveryCodes(ctx context.Context, actor string, p *store.Person) ([]string, error) {
	codes := make([]string, recoveryCodes)
	hashes := make([][]byte, recoveryCodes)
	for i := range codes {
		var raw [7]byte // 56 bits, of which the first 50 make 10 base32 letters
		_, _ = rand.Read(raw[:])
		enc := appPassEncoding.EncodeToString(raw[:])[:recoveryChars]
		codes[i] = enc[:5] + "-" + enc[5:]
		h, _ := ParseRecoveryCode(codes[i])
		hashes[i] = h
	}
	if err := l.store.SetRecoveryCodes(ctx, actor, p.ID, hashes); err != nil {
		return nil, err
	}
	return codes, nil
}

// ParseRecoveryCode reports whether s has the shape of a recovery code
// (case, spaces and dashes ignored) and returns its SHA-256.
func ParseRecoveryCode(s string) ([]byte, bool) {
	if len(s) > 32 {
		return nil, false
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' || c == ' ':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		case 'a' <= c && c <= 'z', '2' <= c && c <= '7':
		default:
			return nil, false
		}
		b.WriteByte(c)
	}
	if b.Len() != recoveryChars {
		return nil, false
	}
	h := sha256.Sum256([]byte("wardmail-recovery\x00" + b.String()))
	return h[:], true
}
