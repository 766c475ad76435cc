package mail

import (
	"context"
	"time"
)

// Storage is what the mail service needs from a storage backend;
// *store.Store implements it (asserted in server wiring). Every method is
// one consistent read or one committed write; the rules about which calls
// to make live in Service.
type Storage interface {
	// Mailboxes.
	EnsureMailboxes(ctx context.Context, personID int64) error
	Mailboxes(ctx context.Context, personID int64) ([]Mailbox, error)
	MailboxByName(ctx context.Context, personID int64, name string) (*Mailbox, error)
	MailboxByID(ctx context.Context, id int64) (*Mailbox, error)
	CreateMailbox(ctx context.Context, personID int64, name, specialUse string) (*Mailbox, error)
	DeleteMailbox(ctx context.Context, personID int64, name string) error
	RenameMailbox(ctx context.Context, personID int64, from, to string) error
	SetSubscribed(ctx context.Context, personID int64, name string, on bool) error
	Subscriptions(ctx context.Context, personID int64) ([]string, error)
	Status(ctx context.Context, mailboxID int64) (*MailboxStatus, error)
	FolderCounts(ctx context.Context, personID int64) ([]FolderCount, error)

	// Sessions' views of a mailbox.
	Snapshot(ctx context.Context, mailboxID int64) ([]MessageRef, *Mailbox, error)
	Changes(ctx context.Context, mailboxID int64, since uint64) (changed []MessageRef, vanished []uint32, m *Mailbox, err error)
	ClaimRecent(ctx context.Context, mailboxID int64, upTo uint32) (prev uint32, err error)
	Hub() *Hub

	// Messages.
	Messages(ctx context.Context, mailboxID int64, uids []uint32) ([]Message, error)
	Body(ctx context.Context, contentID int64) ([]byte, error)
	UIDsByDate(ctx context.Context, mailboxID int64, since, before time.Time, offset, limit int) ([]uint32, int64, error)
	FlagsOf(ctx context.Context, mailboxID int64, uids []uint32) (map[uint32][]string, error)
	ThreadRows(ctx context.Context, mailboxID int64, since ThreadMark, maxChange int) (*ThreadRead, error)

	// Changing messages.
	SetFlags(ctx context.Context, mailboxID int64, uids []uint32, op FlagOp, flags []string, unchangedSince uint64) (updated []MessageRef, failed []uint32, err error)
	Expunge(ctx context.Context, mailboxID int64, uids []uint32) (expunged []uint32, err error)
	Move(ctx context.Context, src, dst *Mailbox, uids []uint32) (from, to []uint32, err error)
	Copy(ctx context.Context, src, dst *Mailbox, uids []uint32) (from, to []uint32, err error)
	Replace(ctx context.Context, src int64, uid uint32, dst int64, m NewMessage) (uint32, error)
	PrepareContent(ctx context.Context, body, summary []byte) (*Content, error)
	AppendAll(ctx context.Context, mailboxID int64, msgs []NewMessage) ([]uint32, error)
	Append(ctx context.Context, mailboxID int64, c *Content, flags []string, date time.Time) (uint32, error)

	// List posts waiting in post logs (DESIGN section 3).
	Materialise(ctx context.Context, personID int64) (int, error)
	PersonLists(ctx context.Context, personID int64) ([]int64, error)

	// The word index.
	SubstringTerms(ctx context.Context, needle string) (terms [][]int64, ok bool, err error)
	ExpandWord(ctx context.Context, w string) (keys []int64, ok bool, err error)
	SearchIndex(ctx context.Context, mailboxID int64, terms [][]int64, after, before time.Time) ([]IndexHit, error)

	// Attachments uploaded for messages being written.
	PutUpload(ctx context.Context, u *Upload) error
	GetUpload(ctx context.Context, personID int64, id string) (*Upload, error)
	DeleteUploads(ctx context.Context, personID int64, ids []string) error
}
