package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// FolderCount is a mailbox with its message and unread counts.
type FolderCount struct {
	Mailbox
	Total, Unread int64
}

// FolderCounts lists a person's mailboxes with their counts, in one query.
func (s *Store) FolderCounts(ctx context.Context, personID int64) ([]FolderCount, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT b.id, b.person_id, b.name, b.special_use, b.uid_next, b.highest_modseq,
		CASE WHEN EXISTS (SELECT 1 FROM subscriptions s WHERE s.person_id = b.person_id AND s.name = b.name) THEN 1 ELSE 0 END,
		COALESCE(c.total, 0), COALESCE(c.unread, 0)
		FROM mailboxes b LEFT JOIN (
			SELECT mailbox_id, COUNT(*) AS total, SUM(CASE WHEN (flags & 1) = 0 THEN 1 ELSE 0 END) AS unread
			FROM mail WHERE mailbox_id IN (SELECT id FROM mailboxes WHERE person_id = ?) GROUP BY mailbox_id
		) c ON c.mailbox_id = b.id
		WHERE b.person_id = ? ORDER BY b.name`), personID, personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []FolderCount
	for rows.Next() {
		var f FolderCount
		var sub int
		if err := rows.Scan(&f.ID, &f.PersonID, &f.Name, &f.SpecialUse, &f.UIDNext, &f.HighestModSeq, &sub, &f.Total, &f.Unread); err != nil {
			return nil, err
		}
		f.Subscribed = sub != 0
		out = append(out, f)
	}
	return out, rows.Err()
}

// UIDsByDate returns a page of a mailbox's UIDs, newest first (by arrival
// date, then UID), read from the mail_date index alone, and the mailbox's
// message count. since and before (zero: unbounded) limit the dates.
func (s *Store) UIDsByDate(ctx context.Context, mailboxID int64, since, before time.Time, offset, limit int) ([]uint32, int64, error) {
	lo, hi := int64(-1<<62), int64(1<<62)
	if !since.IsZero() {
		lo = since.Unix()
	}
	if !before.IsZero() {
		hi = before.Unix()
	}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, err
	}
	defer func() { _ = tx.Rollback() }()
	var total int64
	if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM mail WHERE mailbox_id = ? AND internal_date >= ? AND internal_date < ?`),
		mailboxID, lo, hi).Scan(&total); err != nil {
		return nil, 0, err
	}
	if limit < 0 {
		limit = int(total)
	}
	rows, err := tx.QueryContext(ctx, s.q(`SELECT uid FROM mail WHERE mailbox_id = ? AND internal_date >= ? AND internal_date < ?
		ORDER BY internal_date DESC, uid DESC LIMIT ? OFFSET ?`), mailboxID, lo, hi, limit, offset)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := make([]uint32, 0, min(limit, 1024))
	for rows.Next() {
		var u uint32
		if err := rows.Scan(&u); err != nil {
			return nil, 0, err
		}
		out = append(out, u)
	}
	return out, total, rows.Err()
}

// Upload is an attachment waiting for the message that will carry it.
type Upload struct {
	ID          string
	PersonID    int64
	Filename    string
	ContentType string
	Size        int64
	Data        []byte
	Created     time.Time
}

// PutUpload stores an upload.
func (s *Store) PutUpload(ctx context.Context, u *Upload) error {
	return s.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO web_uploads (id, person_id, filename, content_type, size, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			u.ID, u.PersonID, u.Filename, u.ContentType, u.Size, u.Data, u.Created.Unix())
		return err
	})
}

// GetUpload returns a person's upload; another person's is ErrNotFound.
func (s *Store) GetUpload(ctx context.Context, personID int64, id string) (*Upload, error) {
	var u Upload
	var created int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT id, person_id, filename, content_type, size, data, created_at FROM web_uploads WHERE id = ? AND person_id = ?`),
		id, personID).Scan(&u.ID, &u.PersonID, &u.Filename, &u.ContentType, &u.Size, &u.Data, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	u.Created = time.Unix(created, 0)
	return &u, err
}

// DeleteUploads removes a person's uploads by id.
func (s *Store) DeleteUploads(ctx context.Context, personID int64, ids []string) error {
	return s.Write(ctx, func(tx *Tx) error {
		for _, id := range ids {
			if _, err := tx.Exec(`DELETE FROM web_uploads WHERE id = ? AND person_id = ?`, id, personID); err != nil {
				return err
			}
		}
		return nil
	})
}
