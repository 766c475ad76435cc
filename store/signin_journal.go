package store

import (
	"context"
	"time"
)

// JournalAudit is one audit entry of sign-in's journal (Audit's arguments).
type JournalAudit struct {
	Actor, Action, Target string
	Detail                any
}

// AppPasswordUse is the last use of an app password, for its "last used"
// line.
type AppPasswordUse struct {
	At   time.Time
	From string
}

// WriteSignInJournal writes what sign-in batched since its last write (audit
// entries and app passwords' last uses) in one write: all of it or nothing.
func (s *Store) WriteSignInJournal(ctx context.Context, audits []JournalAudit, uses map[int64]AppPasswordUse) error {
	return s.Write(ctx, func(tx *Tx) error {
		for _, a := range audits {
			if err := tx.Audit(a.Actor, a.Action, a.Target, a.Detail); err != nil {
				return err
			}
		}
		for id, u := range uses {
			if err := tx.TouchAppPassword(id, u.At, u.From); err != nil {
				return err
			}
		}
		return nil
	})
}
