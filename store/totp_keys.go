package store

import (
	"log/slog"

	"wardmail/blob"
)

// TOTPSealers loads the key that seals TOTP secrets (making it, 0600, on the
// first start) for a backend's Open. The body key, when there is one, comes
// second: it opens secrets that an older version sealed with it.
func TOTPSealers(keyFile string, bodySealer *blob.Sealer, log *slog.Logger) ([]*blob.Sealer, error) {
	if keyFile == "" {
		return nil, nil
	}
	ts, created, err := blob.LoadOrCreateKeyFile(keyFile)
	if err != nil {
		return nil, err
	}
	if created && log != nil {
		log.Info("made the key that seals TOTP secrets: back it up apart from the database", "file", keyFile)
	}
	out := []*blob.Sealer{ts}
	if bodySealer != nil {
		out = append(out, bodySealer)
	}
	return out, nil
}
