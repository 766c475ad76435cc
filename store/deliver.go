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
	tx.Later(putContentSQL, []any{&id}, putContentArgs(tx, c)...)
	return id, tx.Flush()
}

// putContentLater queues the content's row; *id is set once the queue has
// gone out (Tx.Later). Statements queued after it name the row by its
// hash (contentByHash), so they need not wait.
func putContentLater(tx *Tx, c *Content, id *int64) {
	tx.Later(putContentSQL, []any{id}, putContentArgs(tx, c)...)
}

// contentByHash is the id of the content whose hash is the argument.
const contentByHash = `(SELECT id FROM contents WHERE hash = ?)`

const putContentSQL = `INSERT INTO contents (hash, size, inline_body, summary, created_at, thread_self, thread_parent, thread_root, thread_subject)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (hash) DO UPDATE SET hash = excluded.hash RETURNING id`

func putContentArgs(tx *Tx, c *Content) []any {
	var inline any
	if c.inline != nil {
		inline = c.inline
	}
	return []any{c.Hash, c.Size, inline, c.Summary, tx.s.now().Unix(), c.keys.Self, c.keys.Parent, c.keys.Root, subjectColumn(c.keys)}
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
		// Each appended place is filled once its statements have run
		// (pipeline.go): the slice is made big enough never to move.
		out = make([]Delivered, 0, len(personIDs))
		var cid int64
		putContentLater(tx, c, &cid)
		seen := make(map[int64]bool, len(personIDs))
		for _, pid := range personIDs {
			if seen[pid] {
				continue
			}
			seen[pid] = true
			out = append(out, Delivered{})
			add := appendToInbox
			if len(personIDs) == 1 {
				add = appendToInboxLater
			}
			if err := add(tx, pid, c.Hash, &cid, date, &out[len(out)-1]); err != nil {
				return err
			}
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

// appendToInbox appends a delivered message to a person's INBOX, naming
// its content by hash so that it can go out in the round trip that stores
// the content. On a pipelining database the usual case, an INBOX and no
// posts pending, is that one round trip: insert the row at the INBOX's
// UIDNEXT unless posts are pending, then move UIDNEXT and HIGHESTMODSEQ on
// if and only if a row is at UIDNEXT, which can only be this one: another
// process's uncommitted row is not seen, and its commit moves UIDNEXT
// past its row. When another process took that UID first the insert
// waits for it and does nothing, and so does the update. Otherwise, or in
// process, the INBOX is read under its row lock (made at the person's
// first message, pending posts put in it first) and the row appended
// after.
func appendToInbox(tx *Tx, personID int64, hash string, contentID *int64, date time.Time, d *Delivered) error {
	*d = Delivered{PersonID: personID}
	if tx.pipelined() {
		tx.Later(appendToInboxSQL, nil, hash, date.Unix(), tx.s.now().Unix(), personID, personID)
		err := tx.ScanRow([]any{&d.MailboxID, &d.UID}, moveInboxSQL, personID)
		if err == nil {
			tx.Touch(d.MailboxID)
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	return appendToInboxSlowly(tx, personID, contentID, date, d)
}

// appendToInboxLater is appendToInbox for a write that delivers to one
// person: on a pipelining database the usual case costs no round trip of
// its own, its statements going out with the batch's and its outcome read
// after them (Tx.After). A write to several people takes their INBOXes'
// locks in order with appendToInbox instead: one whose usual case failed
// would take its lock in an After function, after the others', and could
// deadlock with another process taking them in order.
func appendToInboxLater(tx *Tx, personID int64, hash string, contentID *int64, date time.Time, d *Delivered) error {
	if !tx.pipelined() {
		return appendToInbox(tx, personID, hash, contentID, date, d)
	}
	*d = Delivered{PersonID: personID}
	tx.Later(appendToInboxSQL, nil, hash, date.Unix(), tx.s.now().Unix(), personID, personID)
	var found bool
	tx.LaterRow(moveInboxSQL, &found, []any{&d.MailboxID, &d.UID}, personID)
	tx.After(func(tx *Tx) error {
		if found {
			tx.Touch(d.MailboxID)
			return nil
		}
		return appendToInboxSlowly(tx, personID, contentID, date, d)
	})
	return nil
}

// appendToInboxSQL inserts a message at its INBOX's UIDNEXT unless posts
// are pending for the person (arguments: content hash, internal date,
// saved date, person, person); moveInboxSQL then moves UIDNEXT and
// HIGHESTMODSEQ on if and only if a row is at UIDNEXT, returning the
// mailbox and the UID (argument: person).
const (
	appendToInboxSQL = `INSERT INTO mail (mailbox_id, uid, content_id, flags, keywords, modseq, internal_date, saved_date)
		SELECT id, uid_next, ` + contentByHash + `, 0, '', highest_modseq + 1, ?, ? FROM mailboxes
		WHERE person_id = ? AND name = 'INBOX' AND NOT EXISTS (` + pendingForPerson + `)
		ON CONFLICT (mailbox_id, uid) DO NOTHING`
	moveInboxSQL = `UPDATE mailboxes SET uid_next = uid_next + 1, highest_modseq = highest_modseq + 1
		WHERE person_id = ? AND name = 'INBOX' AND EXISTS (SELECT 1 FROM mail WHERE mail.mailbox_id = mailboxes.id AND mail.uid = mailboxes.uid_next)
		RETURNING id, uid_next - 1`
)

// appendToInboxSlowly reads the INBOX under its row lock, makes the
// mailboxes at a person's first message and takes in pending posts first,
// then appends the row.
func appendToInboxSlowly(tx *Tx, personID int64, contentID *int64, date time.Time, d *Delivered) error {
	inbox, err := deliveryInbox(tx, personID)
	if err != nil {
		return err
	}
	d.MailboxID = inbox.ID
	// The content's row went out with the lookup: *contentID is set.
	d.UID, err = appendRow(tx, inbox.ID, *contentID, 0, "", date)
	return err
}

// pendingForPerson selects a person's (the argument's) posts not yet in
// their INBOX.
const pendingForPerson = `SELECT 1 FROM memberships m JOIN posts p ON p.list_id = m.list_id AND p.id > m.pos WHERE m.person_id = ?`

// deliveryInbox is the INBOX a delivery appends to, with the person's
// pending posts put in it first so that UIDs follow arrival; the mailboxes
// are made at the person's first message. The usual case, an INBOX and
// nothing pending, is one statement.
func deliveryInbox(tx *Tx, personID int64) (*Mailbox, error) {
	var m Mailbox
	var sub, pending int64
	err := tx.ScanRow([]any{&m.ID, &m.PersonID, &m.Name, &m.SpecialUse, &m.UIDNext, &m.HighestModSeq, &sub, &m.RecentUID, &m.uidValidity, &pending},
		`SELECT `+mailboxCols+`, CASE WHEN EXISTS (SELECT 1 FROM memberships m JOIN posts p ON p.list_id = m.list_id AND p.id > m.pos WHERE m.person_id = mailboxes.person_id) THEN 1 ELSE 0 END
		FROM mailboxes WHERE person_id = ? AND name = 'INBOX'`, personID)
	if err == nil && pending == 0 {
		m.Subscribed = sub != 0
		return &m, nil
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	inbox, err := ensureMailboxes(tx, personID)
	if err != nil {
		return nil, err
	}
	if _, err := materialise(tx, personID, 0); err != nil {
		return nil, err
	}
	return inbox, nil
}

// appendRow gives a message the mailboxes's next UID and MODSEQ. The
// update takes the mailbox's row lock and the insert reads the numbers it
// left, in one round trip.
func appendRow(tx *Tx, mailboxID, contentID int64, bits int64, kw string, date time.Time) (uint32, error) {
	tx.Later(`UPDATE mailboxes SET uid_next = uid_next + 1, highest_modseq = highest_modseq + 1 WHERE id = ?`, nil, mailboxID)
	var uid uint32
	if err := tx.ScanRow([]any{&uid}, `INSERT INTO mail (mailbox_id, uid, content_id, flags, keywords, modseq, internal_date, saved_date)
		SELECT id, uid_next - 1, ?, ?, ?, highest_modseq, ?, ? FROM mailboxes WHERE id = ? RETURNING uid`,
		contentID, bits, kw, date.Unix(), tx.s.now().Unix(), mailboxID); errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	} else if err != nil {
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
	saved := tx.s.now().Unix()
	args := make([]any, 0, 6*len(rows))
	for i, r := range rows {
		args = append(args, mailboxID, firstUID+uint32(i), r.contentID, firstModSeq+uint64(i), r.date.Unix(), saved)
	}
	if err := insertMany(tx, `INSERT INTO mail (mailbox_id, uid, content_id, flags, keywords, modseq, internal_date, saved_date, via_post) VALUES `,
		"(?, ?, ?, 0, '', ?, ?, ?, 1)", 6, args, ""); err != nil {
		return err
	}
	tx.Touch(mailboxID)
	return nil
}
