package store

import (
	"errors"
	"math"
)

// errUIDValidityExhausted: the 32-bit values ran out (past 2106, or after
// four billion mailboxes created in a second).
var errUIDValidityExhausted = errors.New("store: no UIDVALIDITY value left below 2^32")

// nextUIDValidity takes the next UIDVALIDITY value: non-zero, 32 bits,
// greater than every one handed out before.
func nextUIDValidity(tx *Tx) (int64, error) {
	now := tx.s.now().Unix()
	var v int64
	err := tx.QueryRow(`UPDATE uid_validity SET last = CASE WHEN last + 1 > ? THEN last + 1 ELSE ? END RETURNING last`, now, now).Scan(&v)
	if err != nil {
		return 0, err
	}
	if v <= 0 || v > math.MaxUint32 {
		return 0, errUIDValidityExhausted
	}
	return v, nil
}

// insertMailbox creates a mailbox unless the person has one of that name,
// with a fresh UIDVALIDITY; created says whether it did.
func insertMailbox(tx *Tx, personID int64, name, specialUse string) (created bool, err error) {
	v, err := nextUIDValidity(tx)
	if err != nil {
		return false, err
	}
	res, err := tx.Exec(`INSERT INTO mailboxes (person_id, name, special_use, created_at, uid_validity) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (person_id, name) DO NOTHING`, personID, name, specialUse, tx.s.now().Unix(), v)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
