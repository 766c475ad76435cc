package mail

import (
	"context"
	"log/slog"
	"slices"
	"time"
)

// Service is the mail service. It is safe for concurrent use.
type Service struct {
	st  Storage
	log *slog.Logger
	now func() time.Time
	// threads keeps the conversations of the folders read last
	// (threads.go).
	threads threadCache
}

// New returns the mail service over st. A nil logger discards.
func New(st Storage, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{st: st, log: log, now: time.Now}
}

// Open prepares a person's mailboxes for a session or a page: the default
// folders exist (EnsureMailboxes) and list posts waiting in the post logs are
// taken into the INBOX (DESIGN section 3: a mailbox is materialised when it
// is read). A failed materialisation is logged, not returned: the person
// still sees what is already there.
func (s *Service) Open(ctx context.Context, personID int64) error {
	if err := s.st.EnsureMailboxes(ctx, personID); err != nil {
		return err
	}
	s.TakeInPosts(ctx, personID)
	return nil
}

// EnsureMailboxes creates the default folders a person lacks.
func (s *Service) EnsureMailboxes(ctx context.Context, personID int64) error {
	return s.st.EnsureMailboxes(ctx, personID)
}

// Materialise takes the person's waiting list posts into their INBOX. The
// storage answers with a cheap read when nothing is waiting.
func (s *Service) Materialise(ctx context.Context, personID int64) error {
	_, err := s.st.Materialise(ctx, personID)
	return err
}

// TakeInPosts is Materialise for a reader that shows what is there anyway (a
// folder list, a first page): a failure is logged, not returned.
func (s *Service) TakeInPosts(ctx context.Context, personID int64) {
	if err := s.Materialise(ctx, personID); err != nil {
		s.log.Warn("materialising list posts", "person", personID, "err", err)
	}
}

// PersonLists are the lists whose posts reach the person's INBOX: an IDLE on
// the INBOX watches their post logs too (SubscribeInbox).
func (s *Service) PersonLists(ctx context.Context, personID int64) ([]int64, error) {
	return s.st.PersonLists(ctx, personID)
}

// Subscribe watches mailboxes for committed changes (IDLE, NOTIFY, the
// webmail's live updates). The subscriber asks Changes for what changed.
func (s *Service) Subscribe(mailboxIDs ...int64) *Subscription {
	return s.st.Hub().Subscribe(mailboxIDs...)
}

// SubscribeInbox watches an INBOX and the post logs of the lists whose posts
// reach it, so that a post wakes the IDLE before it is materialised.
func (s *Service) SubscribeInbox(mailboxID int64, listIDs []int64) *Subscription {
	return s.st.Hub().SubscribeInbox(mailboxID, listIDs)
}

// IsInbox reports whether a mailbox is its owner's INBOX, where list posts
// are materialised.
func IsInbox(mb *Mailbox) bool { return mb.Name == "INBOX" }

// Watch subscribes a session to a mailbox before it reads the snapshot, so
// that no change falls between them. An INBOX also listens to the post logs
// of its owner's lists (returned, sorted) and takes in their waiting posts
// first (DESIGN section 3).
func (s *Service) Watch(ctx context.Context, personID int64, mb *Mailbox) (*Subscription, []int64, error) {
	return s.WatchAfter(ctx, personID, mb, nil)
}

// WatchAfter is Watch for a session whose INBOX take-in began ahead, at
// sign-in (TakeInAhead, TakeInAfter).
func (s *Service) WatchAfter(ctx context.Context, personID int64, mb *Mailbox, ahead *TakeIn) (*Subscription, []int64, error) {
	if !IsInbox(mb) {
		return s.Subscribe(mb.ID), nil, nil
	}
	lists, err := s.st.PersonLists(ctx, personID)
	if err != nil {
		return nil, nil, err
	}
	slices.Sort(lists)
	sub := s.SubscribeInbox(mb.ID, lists)
	if err := s.TakeInAfter(ctx, personID, ahead); err != nil {
		sub.Close()
		return nil, nil, err
	}
	return sub, lists, nil
}

// Snapshot is every message of a mailbox in UID order with the mailbox's
// state, read consistently (SELECT).
func (s *Service) Snapshot(ctx context.Context, mailboxID int64) ([]MessageRef, *Mailbox, error) {
	return s.st.Snapshot(ctx, mailboxID)
}

// Changes are the messages changed and the UIDs expunged since a MODSEQ
// (RFC 7162), with the mailbox's state now.
func (s *Service) Changes(ctx context.Context, mailboxID int64, since uint64) ([]MessageRef, []uint32, *Mailbox, error) {
	return s.st.Changes(ctx, mailboxID, since)
}

// ClaimRecent takes the \Recent messages up to upTo for one session and
// returns the previous high-water mark (RFC 3501 2.3.2).
func (s *Service) ClaimRecent(ctx context.Context, mailboxID int64, upTo uint32) (uint32, error) {
	return s.st.ClaimRecent(ctx, mailboxID, upTo)
}

// Messages reads rows for UIDs of a mailbox (those still there).
func (s *Service) Messages(ctx context.Context, mailboxID int64, uids []uint32) ([]Message, error) {
	return s.st.Messages(ctx, mailboxID, uids)
}

// Body reads a message's raw body.
func (s *Service) Body(ctx context.Context, contentID int64) ([]byte, error) {
	return s.st.Body(ctx, contentID)
}

// Newest lists a mailbox's UIDs newest first, a page at a time (limit < 0:
// all), with the number of messages in range.
func (s *Service) Newest(ctx context.Context, mailboxID int64, after, before time.Time, offset, limit int) ([]uint32, int64, error) {
	return s.st.UIDsByDate(ctx, mailboxID, after, before, offset, limit)
}

// FlagsOf reads the flags of some messages.
func (s *Service) FlagsOf(ctx context.Context, mailboxID int64, uids []uint32) (map[uint32][]string, error) {
	return s.st.FlagsOf(ctx, mailboxID, uids)
}
