package lockout

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
)

// checkKey compares the fingerprint key with the check value the database
// keeps (a keyed hash of a fixed string, which tells nothing of the key).
// Servers sharing a database must share the key, or the same stale
// password through two of them would count twice: one given another key
// refuses to start. On a store of its own the key may change (a data
// folder restored without its signin.key): the check is replaced, and
// fingerprints saved before are no longer recognised.
func (e *Engine) checkKey(ctx context.Context) error {
	m := hmac.New(sha256.New, e.key)
	m.Write([]byte("wardmail sign-in key check"))
	check := hex.EncodeToString(m.Sum(nil)[:8])
	prev, err := e.st.SignInKeyCheck(ctx, check, !e.shared)
	switch {
	case err != nil:
		return err
	case prev == "" || prev == check:
		return nil
	case e.shared:
		return errors.New("lockout: this server's sign-in key (signin_key_file) is not the one the other servers on this database use: give every server the same file")
	}
	e.log.Warn("lockout: the sign-in key changed; wrong passwords remembered before are forgotten")
	return nil
}
