// Package blob keeps message bodies, each named by the SHA-256 of its bytes and
// written once however many mailboxes hold it (DESIGN section 3).
//
// The filesystem store (blob/fsblob) is the default; an S3-compatible store
// follows for deployments that outgrow one machine. Either may seal bodies
// with AES-256-GCM at rest (Sealer).
package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
)

// ErrNotFound is returned for a hash the store does not hold.
var ErrNotFound = errors.New("blob: not found")

// ErrUnavailable wraps a failure to reach the store (a network object store
// that does not answer, or answers with an error of its own): temporary,
// worth trying again, and no sign that the body is missing.
var ErrUnavailable = errors.New("blob: the body store is unavailable")

// Store keeps bodies by hash.
type Store interface {
	// Put stores data under its hash and returns only once it is durable.
	// Putting a hash that is already stored is cheap and not an error.
	Put(ctx context.Context, hash string, data []byte) error
	// Get returns the bytes stored under hash.
	Get(ctx context.Context, hash string) ([]byte, error)
	// Delete removes a body no mailbox refers to any more.
	Delete(ctx context.Context, hash string) error
}

// Hash names data: the lower-case hex SHA-256.
func Hash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// ValidHash reports whether h has the form Hash returns, so a name read from
// the database can never walk out of the blob folder.
func ValidHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
