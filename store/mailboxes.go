package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"unicode/utf8"
)

// Delimiter separates levels of mailbox names (RFC 9051 5.1.1).
const Delimiter = "/"

// DefaultMailboxes are created for everyone, with their RFC 6154 special use.
var DefaultMailboxes = []struct{ Name, SpecialUse string }{
	{"INBOX", ""},
	{"Sent", `\Sent`},
	{"Drafts", `\Drafts`},
	{"Trash", `\Trash`},
	{"Junk", `\Junk`},
	{"Archive", `\Archive`},
}

// Mailbox is one folder of one person.
type Mailbox struct {
	ID            int64
	PersonID      int64
	Name          string
	SpecialUse    string
	UIDNext       uint32
	HighestModSeq uint64
	Subscribed    bool
	// RecentUID is the \Recent high-water mark: messages above it are
	// recent and not yet claimed by any session (ClaimRecent).
	RecentUID   uint32
	uidValidity int64 // 0: made before SchemaUIDValidity
}

// UIDValidity never changes for a mailbox and is greater for a mailbox
// deleted and created again under the same name (RFC 9051 2.3.1.1;
// uidvalidity.go). Mailboxes made before it was stored keep their id, which
// was never reused either (AUTOINCREMENT).
func (m *Mailbox) UIDValidity() uint32 {
	if m.uidValidity != 0 {
		return uint32(m.uidValidity)
	}
	return uint32(m.ID)
}

// MailboxStatus holds the counts STATUS and SELECT report.
type MailboxStatus struct {
	Messages, Unseen, Deleted uint32
	Size                      int64
	UIDNext                   uint32
	UIDValidity               uint32
	HighestModSeq             uint64
	Recent                    uint32 // messages above the \Recent high-water mark
}

// CanonicalName validates a mailbox name and returns it with INBOX in upper
// case (INBOX is case-insensitive, RFC 9051 5.1).
func CanonicalName(name string) (string, error) {
	if name == "" || len(name) > 512 || !utf8.ValidString(name) {
		return "", ErrInvalidName
	}
	if strings.HasPrefix(name, Delimiter) || strings.HasSuffix(name, Delimiter) || strings.Contains(name, Delimiter+Delimiter) {
		return "", ErrInvalidName
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || r == '*' || r == '%' {
			return "", ErrInvalidName
		}
	}
	if strings.EqualFold(name, "INBOX") {
		return "INBOX", nil
	}
	if len(name) > 6 && strings.EqualFold(name[:6], "INBOX/") {
		return "INBOX" + name[5:], nil
	}
	return name, nil
}

// mailboxCols are read FROM mailboxes (unaliased): whether the name is
// subscribed comes from the subscriptions table.
const mailboxCols = `id, person_id, name, special_use, uid_next, highest_modseq,
	CASE WHEN EXISTS (SELECT 1 FROM subscriptions s WHERE s.person_id = mailboxes.person_id AND s.name = mailboxes.name) THEN 1 ELSE 0 END,
	recent_uid, uid_validity`

func scanMailbox(row interface{ Scan(...any) error }) (*Mailbox, error) {
	var m Mailbox
	var sub int
	err := row.Scan(&m.ID, &m.PersonID, &m.Name, &m.SpecialUse, &m.UIDNext, &m.HighestModSeq, &sub, &m.RecentUID, &m.uidValidity)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	m.Subscribed = sub != 0
	return &m, err
}

// EnsureMailboxes creates a person's default mailboxes if they are missing.
// People are imported without mailboxes (1.2 million people would be 7
// million rows); they get them at first sign-in or delivery.
func (s *Store) EnsureMailboxes(ctx context.Context, personID int64) error {
	var n int
	if err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM mailboxes WHERE person_id = ? AND name = 'INBOX'`), personID).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	return s.Write(ctx, func(tx *Tx) error {
		_, err := ensureMailboxes(tx, personID)
		return err
	})
}

// The VALUES lists of ensureMailboxes' two inserts.
var (
	defaultFolderRows       = strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", len(DefaultMailboxes)), ", ")
	defaultSubscriptionRows = strings.TrimSuffix(strings.Repeat("(?, ?), ", len(DefaultMailboxes)), ", ")
)

// ensureMailboxes returns the person's INBOX, creating the defaults first if
// there is none.
func ensureMailboxes(tx *Tx, personID int64) (*Mailbox, error) {
	m, err := scanMailbox(tx.QueryRow(`SELECT `+mailboxCols+` FROM mailboxes WHERE person_id = ? AND name = 'INBOX'`, personID))
	if err != ErrNotFound {
		return m, err
	}
	// Every recipient's first message on a new server comes here: three
	// statements for the six folders and their subscriptions, not
	// eighteen, on the writer that every delivery waits for. The default
	// folders are subscribed, so clients that show only subscribed folders
	// show them; folders a client creates are not (it subscribes them
	// itself).
	v, err := nextUIDValidities(tx, len(DefaultMailboxes))
	if err != nil {
		return nil, err
	}
	now := tx.s.now().Unix()
	var folders, subs []any
	for i, d := range DefaultMailboxes {
		folders = append(folders, personID, d.Name, d.SpecialUse, now, v+int64(i))
		subs = append(subs, personID, d.Name)
	}
	if _, err := tx.Exec(`INSERT INTO mailboxes (person_id, name, special_use, created_at, uid_validity) VALUES `+defaultFolderRows+`
		ON CONFLICT (person_id, name) DO NOTHING`, folders...); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(`INSERT INTO subscriptions (person_id, name) VALUES `+defaultSubscriptionRows+`
		ON CONFLICT (person_id, name) DO NOTHING`, subs...); err != nil {
		return nil, err
	}
	return scanMailbox(tx.QueryRow(`SELECT `+mailboxCols+` FROM mailboxes WHERE person_id = ? AND name = 'INBOX'`, personID))
}

// Mailboxes lists a person's mailboxes by name.
func (s *Store) Mailboxes(ctx context.Context, personID int64) ([]Mailbox, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+mailboxCols+` FROM mailboxes WHERE person_id = ? ORDER BY name`), personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Mailbox
	for rows.Next() {
		m, err := scanMailbox(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *m)
	}
	return out, rows.Err()
}

// MailboxByName finds a person's mailbox.
func (s *Store) MailboxByName(ctx context.Context, personID int64, name string) (*Mailbox, error) {
	name, err := CanonicalName(name)
	if err != nil {
		return nil, err
	}
	return scanMailbox(s.r.QueryRowContext(ctx, s.q(`SELECT `+mailboxCols+` FROM mailboxes WHERE person_id = ? AND name = ?`), personID, name))
}

// MailboxByID finds a mailbox by id. Callers check it belongs to the person
// they act for.
func (s *Store) MailboxByID(ctx context.Context, id int64) (*Mailbox, error) {
	return scanMailbox(s.r.QueryRowContext(ctx, s.q(`SELECT `+mailboxCols+` FROM mailboxes WHERE id = ?`), id))
}

// CreateMailbox creates a mailbox. Missing parent levels are created too
// (RFC 9051 6.3.4).
func (s *Store) CreateMailbox(ctx context.Context, personID int64, name, specialUse string) (*Mailbox, error) {
	name, err := CanonicalName(name)
	if err != nil {
		return nil, err
	}
	var m *Mailbox
	err = s.Write(ctx, func(tx *Tx) error {
		if _, err := ensureMailboxes(tx, personID); err != nil {
			return err
		}
		parts := strings.Split(name, Delimiter)
		for i := 1; i < len(parts); i++ {
			if _, err := insertMailbox(tx, personID, strings.Join(parts[:i], Delimiter), ""); err != nil {
				return err
			}
		}
		created, err := insertMailbox(tx, personID, name, specialUse)
		if err != nil {
			return err
		}
		if !created {
			return ErrExists
		}
		tx.TouchPerson(personID)
		m, err = scanMailbox(tx.QueryRow(`SELECT `+mailboxCols+` FROM mailboxes WHERE person_id = ? AND name = ?`, personID, name))
		return err
	})
	return m, err
}

// DeleteMailbox removes a mailbox and its messages. INBOX cannot be deleted.
// Children stay (RFC 9051 6.3.5 lets a server keep inferior names).
func (s *Store) DeleteMailbox(ctx context.Context, personID int64, name string) error {
	name, err := CanonicalName(name)
	if err != nil {
		return err
	}
	if name == "INBOX" {
		return ErrCannotDelete
	}
	return s.Write(ctx, func(tx *Tx) error {
		m, err := scanMailbox(tx.QueryRow(`SELECT `+mailboxCols+` FROM mailboxes WHERE person_id = ? AND name = ?`, personID, name))
		if err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM mail WHERE mailbox_id = ?`, `DELETE FROM vanished WHERE mailbox_id = ?`, `DELETE FROM mailboxes WHERE id = ?`} {
			if _, err := tx.Exec(q, m.ID); err != nil {
				return err
			}
		}
		tx.Touch(m.ID)
		tx.TouchPerson(personID)
		return nil
	})
}

// RenameMailbox renames a mailbox and its children. Renaming INBOX moves its
// messages to the new mailbox and leaves INBOX empty (RFC 9051 6.3.6).
func (s *Store) RenameMailbox(ctx context.Context, personID int64, from, to string) error {
	from, err := CanonicalName(from)
	if err != nil {
		return err
	}
	to, err = CanonicalName(to)
	if err != nil {
		return err
	}
	if to == "INBOX" || strings.HasPrefix(to, from+Delimiter) {
		return ErrInvalidName
	}
	return s.Write(ctx, func(tx *Tx) error {
		src, err := scanMailbox(tx.QueryRow(`SELECT `+mailboxCols+` FROM mailboxes WHERE person_id = ? AND name = ?`, personID, from))
		if err != nil {
			return err
		}
		var one int
		if err := tx.QueryRow(`SELECT 1 FROM mailboxes WHERE person_id = ? AND name = ?`, personID, to).Scan(&one); err == nil {
			return ErrExists
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		tx.TouchPerson(personID)
		if from == "INBOX" {
			return renameInbox(tx, src, to)
		}
		if err := renameSubscriptions(tx, personID, from, to); err != nil {
			return err
		}
		if _, err := tx.Exec(`UPDATE mailboxes SET name = ? WHERE id = ?`, to, src.ID); err != nil {
			return err
		}
		// Children: "from/x" becomes "to/x". A range, not LIKE: LIKE
		// ignores ASCII case in SQLite, which took "rota/old" along when
		// "Rota" was renamed.
		rows, err := tx.Query(`SELECT id, name FROM mailboxes WHERE person_id = ? AND name >= ? AND name < ?`,
			personID, from+Delimiter, prefixEnd(from+Delimiter))
		if err != nil {
			return err
		}
		type kid struct {
			id   int64
			name string
		}
		var kids []kid
		for rows.Next() {
			var k kid
			if err := rows.Scan(&k.id, &k.name); err != nil {
				rows.Close()
				return err
			}
			kids = append(kids, k)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		for _, k := range kids {
			if _, err := tx.Exec(`UPDATE mailboxes SET name = ? WHERE id = ?`, to+k.name[len(from):], k.id); err != nil {
				return err
			}
		}
		tx.Touch(src.ID)
		return nil
	})
}

func renameInbox(tx *Tx, inbox *Mailbox, to string) error {
	if _, err := insertMailbox(tx, inbox.PersonID, to, ""); err != nil {
		return err
	}
	dst, err := scanMailbox(tx.QueryRow(`SELECT `+mailboxCols+` FROM mailboxes WHERE person_id = ? AND name = ?`, inbox.PersonID, to))
	if err != nil {
		return err
	}
	uids, err := allUIDs(tx, inbox.ID)
	if err != nil {
		return err
	}
	if _, _, err := moveMessages(tx, inbox, dst, uids); err != nil {
		return err
	}
	return nil
}

// Status counts a mailbox's messages.
func (s *Store) Status(ctx context.Context, mailboxID int64) (*MailboxStatus, error) {
	var st MailboxStatus
	var id, validity int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT m.id, m.uid_validity, m.uid_next, m.highest_modseq,
		(SELECT COUNT(*) FROM mail WHERE mailbox_id = m.id),
		(SELECT COUNT(*) FROM mail WHERE mailbox_id = m.id AND (flags & 1) = 0),
		(SELECT COUNT(*) FROM mail WHERE mailbox_id = m.id AND (flags & 8) <> 0),
		(SELECT COALESCE(SUM(c.size), 0) FROM mail JOIN contents c ON c.id = mail.content_id WHERE mail.mailbox_id = m.id),
		(SELECT COUNT(*) FROM mail WHERE mailbox_id = m.id AND uid > m.recent_uid)
		FROM mailboxes m WHERE m.id = ?`), mailboxID).Scan(&id, &validity, &st.UIDNext, &st.HighestModSeq, &st.Messages, &st.Unseen, &st.Deleted, &st.Size, &st.Recent)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	st.UIDValidity = (&Mailbox{ID: id, uidValidity: validity}).UIDValidity()
	return &st, err
}

// bumpModSeq takes the next MODSEQ of a mailbox and returns it.
func bumpModSeq(tx *Tx, mailboxID int64) (uint64, error) {
	var ms uint64
	err := tx.QueryRow(`UPDATE mailboxes SET highest_modseq = highest_modseq + 1 WHERE id = ? RETURNING highest_modseq`, mailboxID).Scan(&ms)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	return ms, err
}
