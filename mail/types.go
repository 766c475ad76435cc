package mail

import "wardmail/store"

// The records the service hands to the doors are the storage backend's own
// (aliases, not copies): FETCH and SELECT over 10,000 messages pass them on
// without converting each row, and the backends stay the one definition of
// what a row holds (docs/decisions.md, "mail records are aliases").
type (
	// Mailbox is one folder of one person.
	Mailbox = store.Mailbox
	// MailboxStatus holds the counts STATUS and SELECT report.
	MailboxStatus = store.MailboxStatus
	// FolderCount is a folder with its total and unread counts.
	FolderCount = store.FolderCount
	// MessageRef is what a session keeps per message: UID, flags, MODSEQ.
	MessageRef = store.MessageRef
	// Message is a message row with what FETCH needs short of the body.
	Message = store.Message
	// NewMessage is one message to append.
	NewMessage = store.NewMessage
	// Content is a prepared body (stored once, named by its hash).
	Content = store.Content
	// FlagOp says whether SetFlags replaces, adds or removes.
	FlagOp = store.FlagOp
	// IndexHit is one message the word index found.
	IndexHit = store.IndexHit
	// ThreadMark, ThreadRow and ThreadRead are a folder's threading keys
	// as Conversations reads them.
	ThreadMark = store.ThreadMark
	ThreadRow  = store.ThreadRow
	ThreadRead = store.ThreadRead
	// Upload is an attachment uploaded for a message being written.
	Upload = store.Upload
	// Hub announces committed changes to mailboxes.
	Hub = store.Hub
	// Subscription receives a token whenever a watched mailbox changes.
	Subscription = store.Subscription
	// Person is the owner of mailboxes, as sign-in hands them over.
	Person = store.Person
	// CredWatch ends a door's session when its credentials are revoked.
	CredWatch = store.CredWatch
)

// System flags (RFC 9051 2.3.2).
const (
	FlagSeen     = store.FlagSeen
	FlagAnswered = store.FlagAnswered
	FlagFlagged  = store.FlagFlagged
	FlagDeleted  = store.FlagDeleted
	FlagDraft    = store.FlagDraft
)

// SystemFlags are the flags every mailbox accepts (RFC 9051 2.3.2), in the
// order FLAGS lists them.
var SystemFlags = []string{FlagSeen, FlagAnswered, FlagFlagged, FlagDeleted, FlagDraft}

// MaxKeywords bounds the keywords one message may carry.
const MaxKeywords = store.MaxKeywords

// Flag operations.
const (
	FlagsReplace = store.FlagsReplace
	FlagsAdd     = store.FlagsAdd
	FlagsRemove  = store.FlagsRemove
)

// Delimiter separates levels of mailbox names (RFC 9051 5.1.1).
const Delimiter = store.Delimiter

// PersonKey is the change-hub key that wakes a person's sessions when their
// mailbox names or subscriptions change (IMAP NOTIFY MailboxName and
// SubscriptionChange).
func PersonKey(personID int64) int64 { return store.PersonKey(personID) }

// Errors the doors map to their wire replies.
var (
	ErrNotFound      = store.ErrNotFound
	ErrExists        = store.ErrExists
	ErrInvalidName   = store.ErrInvalidName
	ErrCannotDelete  = store.ErrCannotDelete
	ErrTooManyWrites = store.ErrTooManyWrites
	// ErrBodyUnavailable: a message's text is in a body store that does
	// not answer now; its envelope, flags and place in the list do.
	ErrBodyUnavailable = store.ErrBodyUnavailable
)
