package server

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// loadSignInKey returns the key smart lockout keys wrong-password
// fingerprints with. It lives in a file beside the database (not in it), so
// that a copy of the database alone cannot test guesses against the
// fingerprints; with no file configured, DATA/signin.key is made on the
// first start and reused, so a restart still recognises a device's stale
// password. Servers sharing one database must share the file.
func loadSignInKey(path, dataDir string) ([]byte, error) {
	if path == "" {
		path = filepath.Join(dataDir, "signin.key")
		key := make([]byte, 32)
		_, _ = rand.Read(key) // never fails (crypto/rand panics instead)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		switch {
		case err == nil:
			_, err = f.WriteString(hex.EncodeToString(key) + "\n")
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return nil, fmt.Errorf("writing the sign-in key %s: %w", path, err)
			}
			return key, nil
		case !errors.Is(err, fs.ErrExist):
			return nil, fmt.Errorf("creating the sign-in key %s: %w", path, err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the sign-in key: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) < 16 {
		return nil, fmt.Errorf("the sign-in key %s must hold at least 32 hex digits", path)
	}
	return key, nil
}
