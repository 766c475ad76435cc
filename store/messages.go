package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"wardmail/blob"
)

// MessageRef is what a session keeps per message: its UID, flags and MODSEQ.
type MessageRef struct {
	UID    uint32
	Flags  []string
	ModSeq uint64
}

// Message is a message row with what FETCH needs short of the body.
type Message struct {
	MessageRef
	InternalDate time.Time
	// SavedDate is when the message was saved in this mailbox (RFC 8514);
	// for rows older than the record, the internal date.
	SavedDate time.Time
	Size      int64
	ContentID int64
	Hash      string
	Summary   []byte // message.Summary, marshalled
}

// readSnapshot reads every message of a mailbox in UID order together with
// the mailbox's state, consistently (one read transaction); Snapshot keeps
// the result (snapcache.go).
func (s *Store) readSnapshot(ctx context.Context, mailboxID int64) ([]MessageRef, *Mailbox, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = tx.Rollback() }()
	m, err := scanMailbox(tx.QueryRowContext(ctx, s.q(`SELECT `+mailboxCols+` FROM mailboxes WHERE id = ?`), mailboxID))
	if err != nil {
		return nil, nil, err
	}
	rows, err := tx.QueryContext(ctx, s.q(`SELECT uid, flags, keywords, modseq FROM mail WHERE mailbox_id = ? ORDER BY uid`), mailboxID)
	if err != nil {
		return nil, nil, err
	}
	refs, err := scanRefs(rows)
	return refs, m, err
}

func scanRefs(rows *sql.Rows) ([]MessageRef, error) {
	defer rows.Close()
	var out []MessageRef
	for rows.Next() {
		var r MessageRef
		var bits int64
		var kw string
		if err := rows.Scan(&r.UID, &bits, &kw, &r.ModSeq); err != nil {
			return nil, err
		}
		r.Flags = decodeFlags(bits, kw)
		out = append(out, r)
	}
	return out, rows.Err()
}

// Changes returns what changed in a mailbox after MODSEQ since: rows whose
// flags changed or that arrived, and UIDs expunged (RFC 7162 3.2.5, 3.2.10),
// with the mailbox's state at that moment.
func (s *Store) Changes(ctx context.Context, mailboxID int64, since uint64) (changed []MessageRef, vanished []uint32, m *Mailbox, err error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, nil, nil, err
	}
	defer func() { _ = tx.Rollback() }()
	m, err = scanMailbox(tx.QueryRowContext(ctx, s.q(`SELECT `+mailboxCols+` FROM mailboxes WHERE id = ?`), mailboxID))
	if err != nil {
		return nil, nil, nil, err
	}
	if m.HighestModSeq <= since {
		return nil, nil, m, nil
	}
	rows, err := tx.QueryContext(ctx, s.q(`SELECT uid, flags, keywords, modseq FROM mail WHERE mailbox_id = ? AND modseq > ? ORDER BY uid`), mailboxID, since)
	if err != nil {
		return nil, nil, nil, err
	}
	if changed, err = scanRefs(rows); err != nil {
		return nil, nil, nil, err
	}
	vrows, err := tx.QueryContext(ctx, s.q(`SELECT uid FROM vanished WHERE mailbox_id = ? AND modseq > ? ORDER BY uid`), mailboxID, since)
	if err != nil {
		return nil, nil, nil, err
	}
	defer vrows.Close()
	for vrows.Next() {
		var uid uint32
		if err := vrows.Scan(&uid); err != nil {
			return nil, nil, nil, err
		}
		vanished = append(vanished, uid)
	}
	return changed, vanished, m, vrows.Err()
}

// Messages returns the rows for the given UIDs, ascending, skipping UIDs
// that no longer exist. UIDs in a few runs are read run by run; UIDs in many
// runs (a mailbox with expunge gaps, a scattered search result) are read as
// one span and filtered here, so the query count stays small either way.
func (s *Store) Messages(ctx context.Context, mailboxID int64, uids []uint32) ([]Message, error) {
	ranges := UIDRanges(uids)
	var keep map[uint32]bool
	if len(ranges) > maxRangeQueries {
		keep = make(map[uint32]bool, len(uids))
		for _, u := range uids {
			keep[u] = true
		}
		ranges = [][2]uint32{{ranges[0][0], ranges[len(ranges)-1][1]}}
	}
	var out []Message
	for _, rg := range ranges {
		rows, err := s.r.QueryContext(ctx, s.q(`SELECT m.uid, m.flags, m.keywords, m.modseq, m.internal_date, m.saved_date, c.size, c.id, c.hash, c.summary
			FROM mail m JOIN contents c ON c.id = m.content_id
			WHERE m.mailbox_id = ? AND m.uid >= ? AND m.uid <= ? ORDER BY m.uid`), mailboxID, rg[0], rg[1])
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var msg Message
			var bits, date, saved int64
			var kw string
			if err := rows.Scan(&msg.UID, &bits, &kw, &msg.ModSeq, &date, &saved, &msg.Size, &msg.ContentID, &msg.Hash, &msg.Summary); err != nil {
				rows.Close()
				return nil, err
			}
			if keep != nil && !keep[msg.UID] {
				continue
			}
			msg.Flags = decodeFlags(bits, kw)
			msg.InternalDate = time.Unix(date, 0)
			msg.SavedDate = msg.InternalDate
			if saved != 0 {
				msg.SavedDate = time.Unix(saved, 0)
			}
			out = append(out, msg)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// maxRangeQueries is how many runs of UIDs Messages reads one by one before
// it reads their whole span in one query instead.
const maxRangeQueries = 8

// Body returns a message's bytes.
func (s *Store) Body(ctx context.Context, contentID int64) ([]byte, error) {
	var hash string
	var inline []byte
	err := s.r.QueryRowContext(ctx, s.q(`SELECT hash, inline_body FROM contents WHERE id = ?`), contentID).Scan(&hash, &inline)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, err
	}
	return s.openBody(ctx, hash, inline)
}

// openBody returns a body from its inline bytes, else from the blob store.
func (s *Store) openBody(ctx context.Context, hash string, inline []byte) ([]byte, error) {
	if inline != nil {
		if s.sealer != nil {
			var err error
			if inline, err = s.sealer.Open(hash, inline); err != nil {
				return nil, err
			}
		} else if blob.IsSealed(inline) {
			return nil, fmt.Errorf("store: body %s is encrypted but no key file is configured", hash)
		}
		return inflateInline(inline)
	}
	return s.blobs.Get(ctx, hash)
}

// UIDRanges turns a list of UIDs into inclusive ranges, sorting a copy first
// when needed.
func UIDRanges(uids []uint32) [][2]uint32 {
	if len(uids) == 0 {
		return nil
	}
	if !sort.SliceIsSorted(uids, func(i, j int) bool { return uids[i] < uids[j] }) {
		uids = append([]uint32(nil), uids...)
		sort.Slice(uids, func(i, j int) bool { return uids[i] < uids[j] })
	}
	out := [][2]uint32{{uids[0], uids[0]}}
	for _, u := range uids[1:] {
		last := &out[len(out)-1]
		switch {
		case u == last[1] || u == last[1]+1:
			last[1] = u
		default:
			out = append(out, [2]uint32{u, u})
		}
	}
	return out
}
