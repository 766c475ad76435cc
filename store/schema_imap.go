package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
)

// Subscriptions returns a person's subscribed names, sorted, whether or not
// the mailboxes exist.
func (s *Store) Subscriptions(ctx context.Context, personID int64) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT name FROM subscriptions WHERE person_id = ? ORDER BY name`), personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// SetSubscribed subscribes or unsubscribes a name (RFC 9051 6.3.7, 6.3.8).
// Subscribing needs the mailbox to exist (the server may check, RFC 9051
// 6.3.7); unsubscribing does not, so a name whose mailbox was deleted can
// be removed. Unsubscribing a name that is neither subscribed nor a mailbox
// is ErrNotFound.
func (s *Store) SetSubscribed(ctx context.Context, personID int64, name string, on bool) error {
	name, err := CanonicalName(name)
	if err != nil {
		return err
	}
	return s.Write(ctx, func(tx *Tx) error {
		tx.TouchPerson(personID)
		var one int
		err := tx.QueryRow(`SELECT 1 FROM mailboxes WHERE person_id = ? AND name = ?`, personID, name).Scan(&one)
		exists := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if on {
			if !exists {
				return ErrNotFound
			}
			_, err := tx.Exec(`INSERT INTO subscriptions (person_id, name) VALUES (?, ?) ON CONFLICT (person_id, name) DO NOTHING`, personID, name)
			return err
		}
		res, err := tx.Exec(`DELETE FROM subscriptions WHERE person_id = ? AND name = ?`, personID, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 && !exists {
			return ErrNotFound
		}
		return nil
	})
}

// renameSubscriptions moves the subscriptions of from and its children to
// the new name, so a renamed folder stays in the client's view.
func renameSubscriptions(tx *Tx, personID int64, from, to string) error {
	rows, err := tx.Query(`SELECT name FROM subscriptions WHERE person_id = ? AND (name = ? OR (name >= ? AND name < ?))`,
		personID, from, from+Delimiter, prefixEnd(from+Delimiter))
	if err != nil {
		return err
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		names = append(names, n)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	for _, n := range names {
		if !strings.HasPrefix(n, from) {
			continue
		}
		if _, err := tx.Exec(`DELETE FROM subscriptions WHERE person_id = ? AND name = ?`, personID, n); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO subscriptions (person_id, name) VALUES (?, ?) ON CONFLICT (person_id, name) DO NOTHING`,
			personID, to+n[len(from):]); err != nil {
			return err
		}
	}
	return nil
}

// ClaimRecent makes the caller's session the owner of \Recent for the
// messages above the mailbox's high-water mark up to upTo (RFC 3501 2.3.2:
// one session sees a message as recent). It returns the mark before the
// claim: the caller owns the UIDs in (prev, upTo]; none when prev >= upTo.
// The claim is a compare-and-set, so two sessions never own the same UID,
// whatever the database.
func (s *Store) ClaimRecent(ctx context.Context, mailboxID int64, upTo uint32) (prev uint32, err error) {
	err = s.Write(ctx, func(tx *Tx) error {
		for {
			if err := tx.QueryRow(`SELECT recent_uid FROM mailboxes WHERE id = ?`, mailboxID).Scan(&prev); err != nil {
				if errors.Is(err, sql.ErrNoRows) {
					return ErrNotFound
				}
				return err
			}
			if prev >= upTo {
				return nil
			}
			res, err := tx.Exec(`UPDATE mailboxes SET recent_uid = ? WHERE id = ? AND recent_uid = ?`, upTo, mailboxID, prev)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				return nil
			}
		}
	})
	return prev, err
}
