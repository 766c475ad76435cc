package store

import (
	"context"
	"database/sql"
	"errors"

	"wardmail/message"
)

func subjectColumn(k message.ThreadKeys) int64 {
	if k.SubjectReply {
		return -k.Subject
	}
	return k.Subject
}

// ThreadMark is how far a reader of a folder's threading keys has read: the
// UIDNEXT and HIGHESTMODSEQ it saw (RFC 7162). The zero mark is none.
type ThreadMark struct {
	UIDNext uint32
	ModSeq  uint64
}

// ThreadRow is what grouping into conversations needs of one message.
type ThreadRow struct {
	UID uint32
	// Date is the arrival time (Unix seconds), which orders messages.
	Date int64
	Keys message.ThreadKeys
}

// ThreadRead is a folder's threading keys as of one snapshot (ThreadRows).
type ThreadRead struct {
	Mark ThreadMark
	// Full: Rows are every message in the folder, and what the reader had
	// is to be dropped. Otherwise Rows are the messages at or above the
	// reader's UIDNEXT and Vanished the UIDs removed above its MODSEQ;
	// both empty when the folder has not changed.
	Full     bool
	Rows     []ThreadRow
	Vanished []uint32
}

// ThreadRows reads a folder's threading keys in arrival order (date, then
// UID), in one snapshot. Given the mark a reader has read up to, it reads
// only what changed since: rows above the UIDNEXT it saw and the VANISHED
// tombstones above the MODSEQ it saw (RFC 7162), when they number at most
// maxChange; every row otherwise, or when the mark is zero. The grouping
// itself is the mail service's (mail/threads.go).
func (s *Store) ThreadRows(ctx context.Context, mailboxID int64, since ThreadMark, maxChange int) (*ThreadRead, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback() }()
	m, err := scanMailbox(tx.QueryRowContext(ctx, s.q(`SELECT `+mailboxCols+` FROM mailboxes WHERE id = ?`), mailboxID))
	if err != nil {
		return nil, err
	}
	out := &ThreadRead{Mark: ThreadMark{UIDNext: m.UIDNext, ModSeq: m.HighestModSeq}}
	if since.UIDNext != 0 {
		if since == out.Mark {
			return out, nil
		}
		gone, err := s.vanishedSince(ctx, tx, mailboxID, since.ModSeq)
		if err != nil {
			return nil, err
		}
		if m.UIDNext >= since.UIDNext && len(gone)+int(m.UIDNext-since.UIDNext) <= maxChange {
			out.Vanished = gone
			out.Rows, err = s.threadRows(ctx, tx, mailboxID, since.UIDNext)
			return out, err
		}
	}
	out.Full = true
	out.Rows, err = s.threadRows(ctx, tx, mailboxID, 0)
	return out, err
}

// threadRows reads the keys of a folder's messages from UID from on, in
// arrival order.
func (s *Store) threadRows(ctx context.Context, tx *sql.Tx, mailboxID int64, from uint32) ([]ThreadRow, error) {
	rows, err := tx.QueryContext(ctx, s.q(`SELECT m.uid, m.internal_date, c.thread_self, c.thread_parent, c.thread_root, c.thread_subject,
		CASE WHEN c.thread_self = 0 AND c.thread_subject = 0 THEN c.summary END
		FROM mail m JOIN contents c ON c.id = m.content_id WHERE m.mailbox_id = ? AND m.uid >= ? ORDER BY m.internal_date, m.uid`), mailboxID, from)
	if err != nil {
		return nil, err
	}
	var msgs []ThreadRow
	for rows.Next() {
		var r ThreadRow
		var subj int64
		var sum []byte
		if err := rows.Scan(&r.UID, &r.Date, &r.Keys.Self, &r.Keys.Parent, &r.Keys.Root, &subj, &sum); err != nil {
			rows.Close()
			return nil, err
		}
		r.Keys.Subject, r.Keys.SubjectReply = subj, subj < 0
		if subj < 0 {
			r.Keys.Subject = -subj
		}
		if sum != nil { // stored before the thread-key columns
			if k, err := message.ThreadKeysOf(sum); err == nil {
				r.Keys = k
			}
		}
		msgs = append(msgs, r)
	}
	return msgs, errors.Join(rows.Err(), rows.Close())
}

func (s *Store) vanishedSince(ctx context.Context, tx *sql.Tx, mailboxID int64, modseq uint64) ([]uint32, error) {
	rows, err := tx.QueryContext(ctx, s.q(`SELECT uid FROM vanished WHERE mailbox_id = ? AND modseq > ?`), mailboxID, modseq)
	if err != nil {
		return nil, err
	}
	var out []uint32
	for rows.Next() {
		var u uint32
		if err := rows.Scan(&u); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, u)
	}
	return out, errors.Join(rows.Err(), rows.Close())
}

// FlagsOf returns the flags of some messages of a mailbox (for a page of
// conversations: which are unread, which flagged).
func (s *Store) FlagsOf(ctx context.Context, mailboxID int64, uids []uint32) (map[uint32][]string, error) {
	out := make(map[uint32][]string, len(uids))
	for start := 0; start < len(uids); start += 500 {
		chunk := uids[start:min(start+500, len(uids))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, mailboxID)
		q := make([]byte, 0, len(chunk)*2)
		for i, u := range chunk {
			if i > 0 {
				q = append(q, ',')
			}
			q = append(q, '?')
			args = append(args, u)
		}
		rows, err := s.r.QueryContext(ctx, s.q(`SELECT uid, flags, keywords FROM mail WHERE mailbox_id = ? AND uid IN (`+string(q)+`)`), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var u uint32
			var bits int64
			var kw string
			if err := rows.Scan(&u, &bits, &kw); err != nil {
				rows.Close()
				return nil, err
			}
			out[u] = decodeFlags(bits, kw)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return nil, err
		}
	}
	return out, nil
}
