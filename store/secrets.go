package store

import (
	"context"
	"errors"
	"fmt"

	"wardmail/blob"
)

// TOTP secrets are sealed at rest with AES-256-GCM, bound to their person
// (totpAAD), so that a copy of the database alone (a backup, a stolen disk
// image of it) gives nobody the codes. They are sealed with the first of
// Config.TOTPSealers and opened with whichever of them sealed them: the
// server makes its key file (DATA/totp.key) on its first start, and a body
// key (body_key_file) that sealed secrets before still opens them.
// SealTOTPSecrets seals what an older version left in clear.

func (s *Store) sealTOTP(personID int64, secret []byte) []byte {
	if len(s.totpSealers) == 0 {
		return secret
	}
	return s.totpSealers[0].Seal(totpAAD(personID), secret)
}

func (s *Store) openTOTP(personID int64, stored []byte) ([]byte, error) {
	if !blob.IsSealed(stored) {
		return stored, nil
	}
	if len(s.totpSealers) == 0 {
		return nil, fmt.Errorf("store: the TOTP secret of person %d is encrypted, but no key to open it is configured (totp_key_file, or the body_key_file that sealed it)", personID)
	}
	var err error
	for _, sl := range s.totpSealers {
		var plain []byte
		if plain, err = sl.Open(totpAAD(personID), stored); err == nil {
			return plain, nil
		}
	}
	return nil, fmt.Errorf("store: the TOTP secret of person %d does not open with the configured keys: %w", personID, err)
}

// SealTOTPSecrets seals every TOTP secret that is in clear, or sealed with
// a key other than the first, with the first key, and says how many it
// sealed. The server runs it at every start; it does nothing without keys.
func (s *Store) SealTOTPSecrets(ctx context.Context) (int, error) {
	if len(s.totpSealers) == 0 {
		return 0, nil
	}
	type row struct {
		person          int64
		secret, pending []byte
	}
	rows, err := s.r.QueryContext(ctx, `SELECT person_id, secret, pending FROM totp`)
	if err != nil {
		return 0, err
	}
	var todo []row
	first := s.totpSealers[0]
	resealed := func(person int64, b []byte) ([]byte, bool, error) {
		if len(b) == 0 {
			return b, false, nil
		}
		if blob.IsSealed(b) {
			if _, err := first.Open(totpAAD(person), b); err == nil {
				return b, false, nil
			}
		}
		plain, err := s.openTOTP(person, b)
		if err != nil {
			return nil, false, err
		}
		return first.Seal(totpAAD(person), plain), true, nil
	}
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.person, &r.secret, &r.pending); err != nil {
			rows.Close()
			return 0, err
		}
		var c1, c2 bool
		if r.secret, c1, err = resealed(r.person, r.secret); err != nil {
			rows.Close()
			return 0, err
		}
		if r.pending, c2, err = resealed(r.person, r.pending); err != nil {
			rows.Close()
			return 0, err
		}
		if c1 || c2 {
			todo = append(todo, r)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, err
	}
	if len(todo) == 0 {
		return 0, nil
	}
	err = s.Write(ctx, func(tx *Tx) error {
		for _, r := range todo {
			var pending any
			if len(r.pending) > 0 {
				pending = r.pending
			}
			if _, err := tx.Exec(`UPDATE totp SET secret = ?, pending = ? WHERE person_id = ?`, r.secret, pending, r.person); err != nil {
				return err
			}
		}
		return nil
	})
	return len(todo), err
}
