package blob

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Sealer encrypts bodies at rest with AES-256-GCM. The hash of the plain text
// is the additional data, so a sealed body cannot be swapped for another.
type Sealer struct {
	aead cipher.AEAD
	key  []byte
}

// sealMagic starts every sealed body, so a store can hold sealed and plain
// bodies side by side while a key is introduced.
var sealMagic = []byte("\x00WMS1") // a NUL cannot start an accepted message

// NewSealer makes a Sealer from a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("blob: the encryption key must be 32 bytes, not %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead, key: append([]byte(nil), key...)}, nil
}

// Derive returns a 32-byte key for another use of the same secret, named by
// label (HMAC-SHA256 of the label under the key), so one key file serves.
func (s *Sealer) Derive(label string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// LoadKeyFile reads a key file holding 64 hex digits (as GenerateKeyFile writes).
func LoadKeyFile(path string) (*Sealer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("blob: key file %s: want 64 hex digits: %w", path, err)
	}
	return NewSealer(key)
}

// GenerateKeyFile writes a new random key, readable by its owner only.
func GenerateKeyFile(path string) error {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(hex.EncodeToString(key)+"\n"), 0o600)
}

// LoadOrCreateKeyFile reads a key file, or makes it (0600, with a new
// random key) when there is none; two processes starting at once agree on
// one key. created says whether it was made now.
func LoadOrCreateKeyFile(path string) (s *Sealer, created bool, err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		key := make([]byte, 32)
		_, _ = rand.Read(key) // crypto/rand never fails
		_, err = f.WriteString(hex.EncodeToString(key) + "\n")
		if serr := f.Sync(); err == nil {
			err = serr
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			_ = os.Remove(path)
			return nil, false, fmt.Errorf("blob: writing the key file %s: %w", path, err)
		}
		s, err := NewSealer(key)
		return s, true, err
	case !errors.Is(err, os.ErrExist):
		return nil, false, fmt.Errorf("blob: making the key file %s: %w", path, err)
	}
	s, err = LoadKeyFile(path)
	return s, false, err
}

// Seal encrypts data named hash.
func (s *Sealer) Seal(hash string, data []byte) []byte {
	n := s.aead.NonceSize()
	out := make([]byte, len(sealMagic)+n, len(sealMagic)+n+len(data)+s.aead.Overhead())
	copy(out, sealMagic)
	if _, err := rand.Read(out[len(sealMagic):]); err != nil {
		panic("blob: no randomness: " + err.Error())
	}
	return s.aead.Seal(out, out[len(sealMagic):], data, []byte(hash))
}

// Open decrypts a sealed body. Plain (unsealed) bodies pass through, so
// turning encryption on does not strand bodies written before.
func (s *Sealer) Open(hash string, data []byte) ([]byte, error) {
	if !IsSealed(data) {
		return data, nil
	}
	n := s.aead.NonceSize()
	if len(data) < len(sealMagic)+n {
		return nil, errors.New("blob: sealed body is truncated")
	}
	nonce := data[len(sealMagic) : len(sealMagic)+n]
	plain, err := s.aead.Open(nil, nonce, data[len(sealMagic)+n:], []byte(hash))
	if err != nil {
		return nil, fmt.Errorf("blob: body %s does not decrypt: wrong key or damaged data", hash)
	}
	return plain, nil
}

// IsSealed reports whether data was written by Seal.
func IsSealed(data []byte) bool {
	return len(data) >= len(sealMagic) && string(data[:len(sealMagic)]) == string(sealMagic)
}
