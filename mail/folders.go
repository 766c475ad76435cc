package mail

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// SpecialUses are the RFC 6154 attributes a mailbox may be created with.
var SpecialUses = []string{`\All`, `\Archive`, `\Drafts`, `\Flagged`, `\Junk`, `\Sent`, `\Trash`}

// CanonicalUse returns the special-use attribute a client named, in its
// canonical case, or "" for one this server does not know (RFC 6154 3).
func CanonicalUse(attr string) string {
	for _, u := range SpecialUses {
		if strings.EqualFold(attr, u) {
			return u
		}
	}
	return ""
}

// Folder roles, from RFC 6154 special use: what the webmail shows and what
// delete, archive and search mean for a folder.
const (
	RoleInbox   = "inbox"
	RoleSent    = "sent"
	RoleDrafts  = "drafts"
	RoleTrash   = "trash"
	RoleJunk    = "junk"
	RoleArchive = "archive"
)

// Role is a folder's role ("" for a person's own folders).
func Role(m *Mailbox) string {
	switch {
	case m.Name == "INBOX":
		return RoleInbox
	case m.SpecialUse == `\Sent`:
		return RoleSent
	case m.SpecialUse == `\Drafts`:
		return RoleDrafts
	case m.SpecialUse == `\Trash`:
		return RoleTrash
	case m.SpecialUse == `\Junk`:
		return RoleJunk
	case m.SpecialUse == `\Archive`:
		return RoleArchive
	}
	return ""
}

// RoleOrder is where a folder of each role is listed: INBOX first, then the
// special folders in a fixed order, then the person's own.
func RoleOrder(role string) int {
	switch role {
	case RoleInbox:
		return 0
	case RoleDrafts:
		return 1
	case RoleSent:
		return 2
	case RoleArchive:
		return 3
	case RoleJunk:
		return 4
	case RoleTrash:
		return 5
	}
	return 6
}

// ErrInboxExists: INBOX cannot be created; it always exists.
var ErrInboxExists = fmt.Errorf("INBOX always exists: %w", ErrExists)

// Mailboxes lists a person's mailboxes.
func (s *Service) Mailboxes(ctx context.Context, personID int64) ([]Mailbox, error) {
	return s.st.Mailboxes(ctx, personID)
}

// FolderCounts lists a person's mailboxes with their total and unread
// counts, in RoleOrder (then by name as stored).
func (s *Service) FolderCounts(ctx context.Context, personID int64) ([]FolderCount, error) {
	list, err := s.st.FolderCounts(ctx, personID)
	if err != nil {
		return nil, err
	}
	// Stable insertion sort: a person has few folders.
	for i := 1; i < len(list); i++ {
		for j := i; j > 0 && RoleOrder(Role(&list[j].Mailbox)) < RoleOrder(Role(&list[j-1].Mailbox)); j-- {
			list[j], list[j-1] = list[j-1], list[j]
		}
	}
	return list, nil
}

// Mailbox returns the person's mailbox with this id. Another person's is
// ErrNotFound, never "forbidden": it does not say that it exists.
func (s *Service) Mailbox(ctx context.Context, personID, id int64) (*Mailbox, error) {
	m, err := s.st.MailboxByID(ctx, id)
	if err == nil && m.PersonID != personID {
		return nil, ErrNotFound
	}
	return m, err
}

// MailboxNamed returns the person's mailbox with this name (INBOX in any
// case), or ErrNotFound.
func (s *Service) MailboxNamed(ctx context.Context, personID int64, name string) (*Mailbox, error) {
	m, err := s.st.MailboxByName(ctx, personID, name)
	if err == nil && m.PersonID != personID { // names resolve per person; belt and braces
		return nil, ErrNotFound
	}
	return m, err
}

// Special returns one of the person's default folders by name ("Trash",
// "Archive", "Sent", "Drafts"), creating the defaults first if one is
// missing.
func (s *Service) Special(ctx context.Context, personID int64, name string) (*Mailbox, error) {
	if err := s.st.EnsureMailboxes(ctx, personID); err != nil {
		return nil, err
	}
	return s.MailboxNamed(ctx, personID, name)
}

// CreateMailbox creates a mailbox, with missing parent levels, and an
// optional special use (RFC 9051 6.3.4, RFC 6154 3). A trailing delimiter
// declares an intent to create children; the name is created without it.
func (s *Service) CreateMailbox(ctx context.Context, personID int64, name, specialUse string) (*Mailbox, error) {
	name = strings.TrimSuffix(name, Delimiter)
	if strings.EqualFold(name, "INBOX") {
		return nil, ErrInboxExists
	}
	if specialUse != "" && CanonicalUse(specialUse) != specialUse {
		return nil, ErrInvalidUse
	}
	return s.st.CreateMailbox(ctx, personID, name, specialUse)
}

// ErrInvalidUse: a special-use attribute this server does not know.
var ErrInvalidUse = errors.New("unknown special-use attribute")

// DeleteMailbox removes a mailbox and its messages; INBOX cannot be deleted
// and children stay (RFC 9051 6.3.5).
func (s *Service) DeleteMailbox(ctx context.Context, personID int64, name string) error {
	return s.st.DeleteMailbox(ctx, personID, name)
}

// RenameMailbox renames a mailbox and its children; renaming INBOX moves its
// messages to the new mailbox and leaves INBOX empty (RFC 9051 6.3.6). A
// trailing delimiter on the new name is dropped, as for CREATE.
func (s *Service) RenameMailbox(ctx context.Context, personID int64, from, to string) error {
	return s.st.RenameMailbox(ctx, personID, from, strings.TrimSuffix(to, Delimiter))
}

// SetSubscribed subscribes or unsubscribes a name (RFC 9051 6.3.7, 6.3.8).
func (s *Service) SetSubscribed(ctx context.Context, personID int64, name string, on bool) error {
	return s.st.SetSubscribed(ctx, personID, name, on)
}

// Subscriptions are the names a person subscribed to.
func (s *Service) Subscriptions(ctx context.Context, personID int64) ([]string, error) {
	return s.st.Subscriptions(ctx, personID)
}

// Usage is the size of every message in every one of the person's
// mailboxes: what counts toward their quota (RFC 9208 5.1, STORAGE).
func (s *Service) Usage(ctx context.Context, personID int64) (int64, error) {
	mbs, err := s.st.Mailboxes(ctx, personID)
	if err != nil {
		return 0, err
	}
	var used int64
	for i := range mbs {
		st, err := s.st.Status(ctx, mbs[i].ID)
		if err != nil {
			return 0, err
		}
		used += st.Size
	}
	return used, nil
}

// Status counts a mailbox's messages.
func (s *Service) Status(ctx context.Context, mailboxID int64) (*MailboxStatus, error) {
	return s.st.Status(ctx, mailboxID)
}
