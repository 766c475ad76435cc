package store

import (
	"context"
	"errors"
)

// SetFlags changes the flags of the given messages (RFC 9051 6.4.6). With
// unchangedSince > 0 (RFC 7162 3.1.3), a message whose MODSEQ is above it is
// left alone and listed in failed. Messages whose flags actually change get
// the mailbox's next MODSEQ and are returned in updated.
func (s *Store) SetFlags(ctx context.Context, mailboxID int64, uids []uint32, op FlagOp, flags []string, unchangedSince uint64) (updated []MessageRef, failed []uint32, err error) {
	opBits, opKw := encodeFlags(flags)
	err = s.Write(ctx, func(tx *Tx) error {
		updated, failed = nil, nil
		type row struct {
			uid    uint32
			bits   int64
			kw     string
			modseq uint64
		}
		var rows []row
		for _, rg := range UIDRanges(uids) {
			rs, err := tx.Query(`SELECT uid, flags, keywords, modseq FROM mail WHERE mailbox_id = ? AND uid >= ? AND uid <= ? ORDER BY uid`, mailboxID, rg[0], rg[1])
			if err != nil {
				return err
			}
			for rs.Next() {
				var r row
				if err := rs.Scan(&r.uid, &r.bits, &r.kw, &r.modseq); err != nil {
					rs.Close()
					return err
				}
				rows = append(rows, r)
			}
			if err := errors.Join(rs.Err(), rs.Close()); err != nil {
				return err
			}
		}
		var modseq uint64
		for _, r := range rows {
			if unchangedSince > 0 && r.modseq > unchangedSince {
				failed = append(failed, r.uid)
				continue
			}
			bits, kw := applyFlags(op, r.bits, r.kw, opBits, opKw)
			if bits == r.bits && kw == r.kw {
				continue
			}
			if modseq == 0 {
				var err error
				if modseq, err = bumpModSeq(tx, mailboxID); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(`UPDATE mail SET flags = ?, keywords = ?, modseq = ? WHERE mailbox_id = ? AND uid = ?`, bits, kw, modseq, mailboxID, r.uid); err != nil {
				return err
			}
			updated = append(updated, MessageRef{UID: r.uid, Flags: decodeFlags(bits, kw), ModSeq: modseq})
		}
		if modseq != 0 {
			tx.Touch(mailboxID)
		}
		return nil
	})
	return updated, failed, err
}

// Expunge removes those of the given messages that have \Deleted (all of the
// mailbox's when uids is nil) and returns their UIDs (RFC 9051 6.4.3, RFC
// 4315 2.1 UID EXPUNGE).
func (s *Store) Expunge(ctx context.Context, mailboxID int64, uids []uint32) (expunged []uint32, err error) {
	err = s.Write(ctx, func(tx *Tx) error {
		expunged = nil
		var ranges [][2]uint32
		if uids == nil {
			ranges = [][2]uint32{{1, ^uint32(0)}}
		} else {
			ranges = UIDRanges(uids)
		}
		for _, rg := range ranges {
			rs, err := tx.Query(`SELECT uid FROM mail WHERE mailbox_id = ? AND uid >= ? AND uid <= ? AND (flags & 8) <> 0 ORDER BY uid`, mailboxID, rg[0], rg[1])
			if err != nil {
				return err
			}
			for rs.Next() {
				var uid uint32
				if err := rs.Scan(&uid); err != nil {
					rs.Close()
					return err
				}
				expunged = append(expunged, uid)
			}
			if err := errors.Join(rs.Err(), rs.Close()); err != nil {
				return err
			}
		}
		return removeMessages(tx, mailboxID, expunged)
	})
	return expunged, err
}

// removeMessages deletes rows and leaves VANISHED tombstones (RFC 7162 3.2.10).
func removeMessages(tx *Tx, mailboxID int64, uids []uint32) error {
	if len(uids) == 0 {
		return nil
	}
	modseq, err := bumpModSeq(tx, mailboxID)
	if err != nil {
		return err
	}
	for _, uid := range uids {
		if _, err := tx.Exec(`DELETE FROM mail WHERE mailbox_id = ? AND uid = ?`, mailboxID, uid); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO vanished (mailbox_id, uid, modseq) VALUES (?, ?, ?)
			ON CONFLICT (mailbox_id, uid) DO UPDATE SET modseq = excluded.modseq`, mailboxID, uid, modseq); err != nil {
			return err
		}
	}
	tx.Touch(mailboxID)
	return nil
}

// Copy copies messages to another mailbox of the same person and returns the
// source UIDs copied and the UIDs they got (RFC 4315 COPYUID).
func (s *Store) Copy(ctx context.Context, src, dst *Mailbox, uids []uint32) (from, to []uint32, err error) {
	if src.PersonID != dst.PersonID {
		return nil, nil, ErrNotFound
	}
	err = s.Write(ctx, func(tx *Tx) error {
		from, to, err = copyMessages(tx, src, dst, uids)
		return err
	})
	return from, to, err
}

// Move moves messages to another mailbox of the same person (RFC 6851).
func (s *Store) Move(ctx context.Context, src, dst *Mailbox, uids []uint32) (from, to []uint32, err error) {
	if src.PersonID != dst.PersonID {
		return nil, nil, ErrNotFound
	}
	err = s.Write(ctx, func(tx *Tx) error {
		var err error
		from, to, err = moveMessages(tx, src, dst, uids)
		return err
	})
	return from, to, err
}

func moveMessages(tx *Tx, src, dst *Mailbox, uids []uint32) (from, to []uint32, err error) {
	from, to, err = copyMessages(tx, src, dst, uids)
	if err != nil {
		return nil, nil, err
	}
	return from, to, removeMessages(tx, src.ID, from)
}

func copyMessages(tx *Tx, src, dst *Mailbox, uids []uint32) (from, to []uint32, err error) {
	type row struct {
		uid     uint32
		content int64
		bits    int64
		kw      string
		date    int64
	}
	var rows []row
	for _, rg := range UIDRanges(uids) {
		rs, err := tx.Query(`SELECT uid, content_id, flags, keywords, internal_date FROM mail WHERE mailbox_id = ? AND uid >= ? AND uid <= ? ORDER BY uid`, src.ID, rg[0], rg[1])
		if err != nil {
			return nil, nil, err
		}
		for rs.Next() {
			var r row
			if err := rs.Scan(&r.uid, &r.content, &r.bits, &r.kw, &r.date); err != nil {
				rs.Close()
				return nil, nil, err
			}
			rows = append(rows, r)
		}
		if err := errors.Join(rs.Err(), rs.Close()); err != nil {
			return nil, nil, err
		}
	}
	if len(rows) == 0 {
		return nil, nil, nil
	}
	var next uint32
	var modseq uint64
	if err := tx.QueryRow(`UPDATE mailboxes SET uid_next = uid_next + ?, highest_modseq = highest_modseq + 1 WHERE id = ? RETURNING uid_next, highest_modseq`,
		len(rows), dst.ID).Scan(&next, &modseq); err != nil {
		return nil, nil, err
	}
	uid := next - uint32(len(rows))
	saved := tx.s.now().Unix() // RFC 8514: a copy is saved now; its internal date is the original's
	for _, r := range rows {
		if _, err := tx.Exec(`INSERT INTO mail (mailbox_id, uid, content_id, flags, keywords, modseq, internal_date, saved_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			dst.ID, uid, r.content, r.bits, r.kw, modseq, r.date, saved); err != nil {
			return nil, nil, err
		}
		from = append(from, r.uid)
		to = append(to, uid)
		uid++
	}
	tx.Touch(dst.ID)
	return from, to, nil
}

func allUIDs(tx *Tx, mailboxID int64) ([]uint32, error) {
	rs, err := tx.Query(`SELECT uid FROM mail WHERE mailbox_id = ? ORDER BY uid`, mailboxID)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []uint32
	for rs.Next() {
		var u uint32
		if err := rs.Scan(&u); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rs.Err()
}
