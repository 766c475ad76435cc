package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// TOTPState is a person's TOTP enrolment.
type TOTPState struct {
	Secret   []byte
	Enabled  bool
	LastStep int64 // the last time step accepted, so a code is used once
	// Pending is a new secret for someone who has TOTP on and is moving it
	// to another authenticator: Secret stays in force until a code from
	// Pending confirms it (ReplaceTOTP).
	Pending []byte
}

// SetTOTPSecret starts an enrolment: the secret is stored but not enabled
// until UseTOTPStep with enable (the person proves their authenticator has
// it). For someone whose TOTP is on, it becomes the pending secret and the
// one in force stays so: nothing here ever turns two-step sign-in off.
func (s *Store) SetTOTPSecret(ctx context.Context, personID int64, secret []byte) error {
	// Sealed at rest like message bodies: a copy of the database alone does
	// not give anyone the codes (secrets.go).
	secret = s.sealTOTP(personID, secret)
	return s.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO totp (person_id, secret) VALUES (?, ?)
			ON CONFLICT (person_id) DO UPDATE SET
				secret = CASE WHEN totp.enabled_at = 0 THEN excluded.secret ELSE totp.secret END,
				pending = CASE WHEN totp.enabled_at = 0 THEN NULL ELSE excluded.secret END,
				last_step = CASE WHEN totp.enabled_at = 0 THEN 0 ELSE totp.last_step END`, personID, secret)
		return err
	})
}

// ReplaceTOTP puts the pending secret in force once a code from it was
// accepted at step, and records it in the audit trail. It reports false
// when there was no pending secret (or the step was used).
func (s *Store) ReplaceTOTP(ctx context.Context, actor string, personID, step int64) (bool, error) {
	ok := false
	err := s.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE totp SET secret = pending, pending = NULL, last_step = ?, enabled_at = ?
			WHERE person_id = ? AND pending IS NOT NULL AND enabled_at <> 0`, step, tx.s.now().Unix(), personID)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if ok = n == 1; ok {
			return tx.Audit(actor, "totp.replace", fmt.Sprint(personID), nil)
		}
		return nil
	})
	return ok, err
}

// TOTP returns a person's enrolment (ErrNotFound when none).
func (s *Store) TOTP(ctx context.Context, personID int64) (*TOTPState, error) {
	var st TOTPState
	var enabled int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT secret, enabled_at, last_step, pending FROM totp WHERE person_id = ?`), personID).
		Scan(&st.Secret, &enabled, &st.LastStep, &st.Pending)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if st.Secret, err = s.openTOTP(personID, st.Secret); err != nil {
		return nil, err
	}
	if len(st.Pending) > 0 {
		if st.Pending, err = s.openTOTP(personID, st.Pending); err != nil {
			return nil, err
		}
	} else {
		st.Pending = nil
	}
	st.Enabled = enabled != 0
	return &st, nil
}

// totpAAD binds a sealed TOTP secret to its person: a sealed secret copied
// to another person's row does not open.
func totpAAD(personID int64) string { return fmt.Sprintf("totp:%d", personID) }

// UseTOTPStep records that a code of this time step was accepted, and
// reports false if that step (or a later one) was already used: each code
// signs in once (RFC 6238 5.2). With enable it also turns TOTP on.
func (s *Store) UseTOTPStep(ctx context.Context, actor string, personID, step int64, enable bool) (bool, error) {
	ok := false
	err := s.Write(ctx, func(tx *Tx) error {
		q, args := `UPDATE totp SET last_step = ? WHERE person_id = ? AND last_step < ?`, []any{step, personID, step}
		if enable {
			// The time is a parameter: a query text that changed every
			// second would be prepared (and cached) anew each time.
			q, args = `UPDATE totp SET last_step = ?, enabled_at = ? WHERE person_id = ? AND last_step < ?`, []any{step, tx.s.now().Unix(), personID, step}
		}
		res, err := tx.Exec(q, args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		ok = n == 1
		if ok && enable {
			return tx.Audit(actor, "totp.enable", fmt.Sprint(personID), nil)
		}
		return nil
	})
	return ok, err
}

// DisableTOTP removes a person's TOTP enrolment and recovery codes.
func (s *Store) DisableTOTP(ctx context.Context, actor string, personID int64) error {
	return s.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(`DELETE FROM totp WHERE person_id = ?`, personID); err != nil {
			return err
		}
		if _, err := tx.Exec(`DELETE FROM recovery_codes WHERE person_id = ?`, personID); err != nil {
			return err
		}
		return tx.Audit(actor, "totp.disable", fmt.Sprint(personID), nil)
	})
}

// SetRecoveryCodes replaces a person's recovery codes (their SHA-256s).
func (s *Store) SetRecoveryCodes(ctx context.Context, actor string, personID int64, hashes [][]byte) error {
	return s.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(`DELETE FROM recovery_codes WHERE person_id = ?`, personID); err != nil {
			return err
		}
		now := tx.s.now().Unix()
		for _, h := range hashes {
			if _, err := tx.Exec(`INSERT INTO recovery_codes (person_id, hash, created_at) VALUES (?, ?, ?)`, personID, h, now); err != nil {
				return err
			}
		}
		return tx.Audit(actor, "recovery.create", fmt.Sprint(personID), map[string]int{"codes": len(hashes)})
	})
}

// UseRecoveryCode marks an unused code as used and reports whether there was
// one with this hash.
func (s *Store) UseRecoveryCode(ctx context.Context, actor string, personID int64, hash []byte) (bool, error) {
	ok := false
	err := s.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE recovery_codes SET used_at = ? WHERE person_id = ? AND hash = ? AND used_at = 0`,
			tx.s.now().Unix(), personID, hash)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if ok = n == 1; ok {
			return tx.Audit(actor, "recovery.use", fmt.Sprint(personID), nil)
		}
		return nil
	})
	return ok, err
}

// RecoveryCodesLeft counts a person's unused recovery codes.
func (s *Store) RecoveryCodesLeft(ctx context.Context, personID int64) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM recovery_codes WHERE person_id = ? AND used_at = 0`), personID).Scan(&n)
	return n, err
}
