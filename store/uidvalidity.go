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
	return nextUIDValidities(tx, 1)
}

// nextUIDValidities takes n consecutive values at once and returns the
// first: a person's default folders cost one update, not one each.
func nextUIDValidities(tx *Tx, n int) (int64, error) {
	now := tx.s.now().Unix()
	// The first value is last + 1, or now if that is greater.
	top := now + int64(n) - 1
	var last int64
	err := tx.QueryRow(`UPDATE uid_validity SET last = CASE WHEN last + ? > ? THEN last + ? ELSE ? END RETURNING last`,
		n, top, n, top).Scan(&last)
	if err != nil {
		return 0, err
	}
	first := last - int64(n) + 1
	if first <= 0 || last > math.MaxUint32 {
		return 0, errUIDValidityExhausted
	}
	return first, nil
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
