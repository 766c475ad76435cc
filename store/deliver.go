package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"wardmail/blob"
	"wardmail/message"
)

// Content is a message body ready to be referenced by mailbox rows: its hash,
// its parsed summary and, when small, the bytes to keep inline.
type Content struct {
	Hash    string
	Size    int64
	Summary []byte
	inline  []byte // nil when the body is in the blob store
	keys    message.ThreadKeys
}

// PrepareContent makes a body durable before any row names it: large bodies
// go to the blob store now (synced), small ones ride inline in the commit that
// names them. summary is the marshalled message.Summary.
func (s *Store) PrepareContent(ctx context.Context, body, summary []byte) (*Content, error) {
	c := &Content{Hash: blob.Hash(body), Size: int64(len(body)), Summary: summary}
	if k, err := message.ThreadKeysOf(summary); err == nil {
		c.keys = k // else zero: the message is a conversation of its own
	}
	if len(body) <= s.inlineMax {
		c.inline = deflateInline(body)
		if s.sealer != nil {
			c.inline = s.sealer.Seal(c.Hash, c.inline)
		}
		return c, nil
	}
	if err := s.blobs.Put(ctx, c.Hash, body); err != nil {
		return nil, err
	}
	return c, nil
}

func putContent(tx *Tx, c *Content) (int64, error) {
	var id int64
	var inline any
	if c.inline != nil {
		inline = c.inline
	}
	err := tx.QueryRow(`INSERT INTO contents (hash, size, inline_body, summary, created_at, thread_self, thread_parent, thread_root, thread_subject)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (hash) DO UPDATE SET hash = excluded.hash RETURNING id`,
		c.Hash, c.Size, inline, c.Summary, tx.s.now().Unix(), c.keys.Self, c.keys.Parent, c.keys.Root, subjectColumn(c.keys)).Scan(&id)
	return id, err
}

// Delivered says where a delivery put a message.
type Delivered struct {
	PersonID  int64
	MailboxID int64
	UID       uint32
}

// Deliver puts one message into the INBOX of each person, storing the body
// once. A person named twice gets it once (DESIGN section 3, invariant 2). It
// returns when the rows are durable.
func (s *Store) Deliver(ctx context.Context, c *Content, personIDs []int64, date time.Time) ([]Delivered, error) {
	var out []Delivered
	err := s.Write(ctx, func(tx *Tx) error {
		out = out[:0]
		cid, err := putContent(tx, c)
		if err != nil {
			return err
		}
		seen := make(map[int64]bool, len(personIDs))
		for _, pid := range personIDs {
			if seen[pid] {
				continue
			}
			seen[pid] = true
			inbox, err := ensureMailboxes(tx, pid)
			if err != nil {
				return err
			}
			// Posts still pending come first, so UIDs follow arrival.
			if _, err := materialise(tx, pid, 0); err != nil {
				return err
			}
			uid, err := appendRow(tx, inbox.ID, cid, 0, "", date)
			if err != nil {
				return err
			}
			out = append(out, Delivered{PersonID: pid, MailboxID: inbox.ID, UID: uid})
		}
		return nil
	})
	if err == nil {
		s.metrics.deliveries.Add(float64(len(out)))
	}
	return out, err
}

// Append adds a message to a mailbox with the given flags (RFC 9051 6.3.12)
// and returns its UID.
func (s *Store) Append(ctx context.Context, mailboxID int64, c *Content, flags []string, date time.Time) (uint32, error) {
	bits, kw := encodeFlags(flags)
	var uid uint32
	err := s.Write(ctx, func(tx *Tx) error {
		cid, err := putContent(tx, c)
		if err != nil {
			return err
		}
		uid, err = appendRow(tx, mailboxID, cid, bits, kw, date)
		return err
	})
	return uid, err
}

// appendRow gives a message the mailbox's next UID and MODSEQ.
func appendRow(tx *Tx, mailboxID, contentID int64, bits int64, kw string, date time.Time) (uint32, error) {
	var next uint32
	var modseq uint64
	if err := tx.QueryRow(`UPDATE mailboxes SET uid_next = uid_next + 1, highest_modseq = highest_modseq + 1 WHERE id = ? RETURNING uid_next, highest_modseq`,
		mailboxID).Scan(&next, &modseq); errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	} else if err != nil {
		return 0, err
	}
	uid := next - 1
	if _, err := tx.Exec(`INSERT INTO mail (mailbox_id, uid, content_id, flags, keywords, modseq, internal_date, saved_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		mailboxID, uid, contentID, bits, kw, modseq, date.Unix(), tx.s.now().Unix()); err != nil {
		return 0, err
	}
	tx.Touch(mailboxID)
	return uid, nil
}

// newRow is a message to append.
type newRow struct {
	contentID int64
	date      time.Time
}

// appendRows appends several posts from the post log to one mailbox with one
// mailbox update and one prepared insert, giving them consecutive UIDs and
// MODSEQs in order. The rows are marked via_post, so the database refuses a
// second row of the same post in the mailbox (mail_post_once).
func appendRows(tx *Tx, mailboxID int64, rows []newRow) error {
	if len(rows) == 0 {
		return nil
	}
	var next uint32
	var modseq uint64
	if err := tx.QueryRow(`UPDATE mailboxes SET uid_next = uid_next + ?, highest_modseq = highest_modseq + ? WHERE id = ? RETURNING uid_next, highest_modseq`,
		len(rows), len(rows), mailboxID).Scan(&next, &modseq); errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	} else if err != nil {
		return err
	}
	firstUID, firstModSeq := next-uint32(len(rows)), modseq-uint64(len(rows))+1
	ins, err := tx.tx.PrepareContext(tx.ctx, tx.s.q(`INSERT INTO mail (mailbox_id, uid, content_id, flags, keywords, modseq, internal_date, saved_date, via_post) VALUES (?, ?, ?, 0, '', ?, ?, ?, 1)`))
	if err != nil {
		return err
	}
	defer ins.Close()
	saved := tx.s.now().Unix()
	for i, r := range rows {
		if _, err := ins.ExecContext(tx.ctx, mailboxID, firstUID+uint32(i), r.contentID, firstModSeq+uint64(i), r.date.Unix(), saved); err != nil {
			return err
		}
	}
	tx.Touch(mailboxID)
	return nil
}
