package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// ErrMalformedHash is wrapped by every error about a stored hash string that
// cannot be parsed or whose parameters are out of bounds.
var ErrMalformedHash = errors.New("malformed password hash")

// b64 is the PHC string format's base64: standard alphabet, no padding. Strict
// refuses non-zero trailing bits, so each hash has exactly one spelling.
var b64 = base64.RawStdEncoding.Strict()

// HashPassword hashes password with argon2id and a fresh random salt, and
// returns it in the PHC string format written by the reference implementation:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
func HashPassword(p Params, password string) (string, error) {
	if err := p.validate(); err != nil {
		return "", err
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("reading random salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches encoded, a hash made by
// HashPassword. The cost parameters are read from encoded, so hashes made
// under an older configuration keep working. A wrong password is (false, nil);
// an error means encoded is malformed or out of bounds (it wraps
// ErrMalformedHash) and says nothing about the password.
func VerifyPassword(encoded, password string) (ok bool, err error) {
	h, err := parseHash(encoded)
	if err != nil {
		return false, err
	}
	return h.matches(password), nil
}

// NeedsRehash reports whether encoded should be replaced by a fresh hash made
// with p: it is malformed, or any of its parameters, salt length or key length
// differ from p. Call it after a successful verification, while the plain
// password is at hand.
func NeedsRehash(encoded string, p Params) bool {
	h, err := parseHash(encoded)
	if err != nil {
		return true
	}
	return h.params != p
}

// parsedHash is a decoded PHC string.
type parsedHash struct {
	params Params
	salt   []byte
	key    []byte
}

// matches reports whether password hashes to h.key, in constant time.
func (h parsedHash) matches(password string) bool {
	key := argon2.IDKey([]byte(password), h.salt, h.params.Time, h.params.Memory, h.params.Threads, h.params.KeyLen)
	return subtle.ConstantTimeCompare(key, h.key) == 1
}

// maxEncodedLen bounds the string parseHash will look at; the longest valid
// hash is well under it.
const maxEncodedLen = 256

// parseHash decodes "$argon2id$v=19$m=M,t=T,p=P$SALT$HASH". It accepts exactly
// what HashPassword writes (with any in-bounds parameters) and nothing else:
// no other algorithm or version, no optional keyid/data parameters.
func parseHash(encoded string) (parsedHash, error) {
	var h parsedHash
	bad := func(format string, args ...any) (parsedHash, error) {
		return parsedHash{}, fmt.Errorf("%w: %s", ErrMalformedHash, fmt.Sprintf(format, args...))
	}
	if len(encoded) > maxEncodedLen {
		return bad("longer than %d bytes", maxEncodedLen)
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" {
		return bad("want 5 fields separated by $")
	}
	if parts[1] != "argon2id" {
		return bad("algorithm %q is not argon2id", parts[1])
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return bad("version %q is not v=%d", parts[2], argon2.Version)
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return bad("want parameters m,t,p")
	}
	var m, t, p uint64
	for i, want := range []struct {
		name string
		dst  *uint64
		max  uint64
	}{{"m", &m, maxMemory}, {"t", &t, maxTime}, {"p", &p, 255}} {
		val, ok := strings.CutPrefix(kv[i], want.name+"=")
		if !ok {
			return bad("parameter %d is not %s=", i+1, want.name)
		}
		n, err := parseDecimal(val, want.max)
		if err != nil {
			return bad("parameter %s: %v", want.name, err)
		}
		*want.dst = n
	}
	salt, err := decodeB64(parts[4], maxSaltLen)
	if err != nil {
		return bad("salt: %v", err)
	}
	key, err := decodeB64(parts[5], maxKeyLen)
	if err != nil {
		return bad("hash: %v", err)
	}
	h.params = Params{Memory: uint32(m), Time: uint32(t), Threads: uint8(p),
		KeyLen: uint32(len(key)), SaltLen: uint32(len(salt))}
	if err := h.params.validate(); err != nil {
		return bad("%v", err)
	}
	h.salt, h.key = salt, key
	return h, nil
}

// parseDecimal parses a PHC decimal: digits only, no sign, no leading zero,
// at most max.
func parseDecimal(s string, max uint64) (uint64, error) {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return 0, fmt.Errorf("%q is not a canonical decimal", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%q is not a decimal", s)
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > max {
		return 0, fmt.Errorf("%s is above %d", s, max)
	}
	return n, nil
}

// decodeB64 decodes unpadded standard base64 of at most max bytes.
func decodeB64(s string, max int) ([]byte, error) {
	// The decoder skips \r and \n even in strict mode; a stored hash has none.
	if strings.ContainsAny(s, "\r\n") {
		return nil, errors.New("contains a line break")
	}
	if b64.DecodedLen(len(s)) > max {
		return nil, fmt.Errorf("longer than %d bytes", max)
	}
	return b64.DecodeString(s)
}
