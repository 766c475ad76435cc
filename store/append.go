package store

import (
	"context"
	"time"
)

// NewMessage is one message of an APPEND that adds several at once.
type NewMessage struct {
	Content *Content
	Flags   []string
	Date    time.Time
}

// AppendAll adds messages to a mailbox in one transaction (RFC 3502 3:
// MULTIAPPEND is atomic, all or none) and returns their UIDs, consecutive and
// in order.
func (s *Store) AppendAll(ctx context.Context, mailboxID int64, msgs []NewMessage) ([]uint32, error) {
	var uids []uint32
	err := s.Write(ctx, func(tx *Tx) error {
		uids = uids[:0]
		for _, m := range msgs {
			uid, err := appendOne(tx, mailboxID, m)
			if err != nil {
				return err
			}
			uids = append(uids, uid)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return uids, nil
}

// Replace appends a message to dst and removes message uid from src in one
// transaction (RFC 8508 3.3: the message is either replaced or left alone).
// It returns the new message's UID; ErrNotFound when uid is not in src.
func (s *Store) Replace(ctx context.Context, src int64, uid uint32, dst int64, m NewMessage) (uint32, error) {
	var newUID uint32
	err := s.Write(ctx, func(tx *Tx) error {
		var n int
		if err := tx.QueryRow(`SELECT COUNT(*) FROM mail WHERE mailbox_id = ? AND uid = ?`, src, uid).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		var err error
		if newUID, err = appendOne(tx, dst, m); err != nil {
			return err
		}
		return removeMessages(tx, src, []uint32{uid})
	})
	return newUID, err
}

func appendOne(tx *Tx, mailboxID int64, m NewMessage) (uint32, error) {
	cid, err := putContent(tx, m.Content)
	if err != nil {
		return 0, err
	}
	bits, kw := encodeFlags(m.Flags)
	return appendRow(tx, mailboxID, cid, bits, kw, m.Date)
}
