package mail

import (
	"context"
	"strings"
	"time"
)

// CanonicalFlag returns a system flag in its canonical case (RFC 9051
// 2.3.2), and false for a backslash name that is not one. \Recent is a
// system flag no client may set: it comes back as "" and true, to be
// ignored. A keyword is returned as it is.
func CanonicalFlag(f string) (string, bool) {
	if !strings.HasPrefix(f, `\`) {
		return f, true
	}
	for _, sf := range SystemFlags {
		if strings.EqualFold(f, sf) {
			return sf, true
		}
	}
	if strings.EqualFold(f, `\Recent`) {
		return "", true
	}
	return "", false
}

// MaxKeywordLen bounds one keyword.
const MaxKeywordLen = 100

// ValidKeyword reports whether a keyword may be stored: not empty, at most
// MaxKeywordLen bytes, none of the characters IMAP cannot carry in a flag
// atom (RFC 9051 9, flag-keyword).
func ValidKeyword(k string) bool {
	return k != "" && len(k) <= MaxKeywordLen && !strings.ContainsAny(k, `\]*%(){" `)
}

// MaxFlags bounds the flags one request may name.
const MaxFlags = MaxKeywords + 5

// SetFlags changes flags of messages; with unchangedSince (RFC 7162 3.1.3)
// messages changed since then are left alone and returned as failed.
func (s *Service) SetFlags(ctx context.Context, mailboxID int64, uids []uint32, op FlagOp, flags []string, unchangedSince uint64) ([]MessageRef, []uint32, error) {
	return s.st.SetFlags(ctx, mailboxID, uids, op, flags, unchangedSince)
}

// MarkSeen sets \Seen on messages: reading one (an IMAP FETCH of a body
// without PEEK, RFC 9051 6.4.5; opening it in the webmail) does.
func (s *Service) MarkSeen(ctx context.Context, mailboxID int64, uids []uint32) ([]MessageRef, error) {
	updated, _, err := s.st.SetFlags(ctx, mailboxID, uids, FlagsAdd, []string{FlagSeen}, 0)
	return updated, err
}

// Expunge removes messages marked \Deleted (only those in uids, when given)
// and returns the UIDs removed.
func (s *Service) Expunge(ctx context.Context, mailboxID int64, uids []uint32) ([]uint32, error) {
	return s.st.Expunge(ctx, mailboxID, uids)
}

// Remove deletes messages for good: marks them \Deleted and expunges them.
func (s *Service) Remove(ctx context.Context, mailboxID int64, uids []uint32) ([]uint32, error) {
	if _, _, err := s.st.SetFlags(ctx, mailboxID, uids, FlagsAdd, []string{FlagDeleted}, 0); err != nil {
		return nil, err
	}
	return s.st.Expunge(ctx, mailboxID, uids)
}

// Move moves messages between two mailboxes of one person (RFC 6851) and
// returns their UIDs in each.
func (s *Service) Move(ctx context.Context, src, dst *Mailbox, uids []uint32) (from, to []uint32, err error) {
	return s.st.Move(ctx, src, dst, uids)
}

// Copy copies messages (RFC 9051 6.4.7) and returns their UIDs in each.
func (s *Service) Copy(ctx context.Context, src, dst *Mailbox, uids []uint32) (from, to []uint32, err error) {
	return s.st.Copy(ctx, src, dst, uids)
}

// Moved is where messages went and the move that undoes it.
type Moved struct {
	Folder int64
	UIDs   []uint32
	// Undo moves them back; nil when nothing moved.
	Undo *Undo
	// Deleted counts messages removed for good (delete in Trash).
	Deleted int
}

// Undo is a move back: UIDs in Folder go To their old folder.
type Undo struct {
	Folder int64
	UIDs   []uint32
	To     int64
}

// MoveUndoable moves messages for a person who may take it back: moving
// into the same folder changes nothing.
func (s *Service) MoveUndoable(ctx context.Context, src, dst *Mailbox, uids []uint32) (*Moved, error) {
	if src.ID == dst.ID {
		return &Moved{Folder: dst.ID, UIDs: uids}, nil
	}
	_, to, err := s.st.Move(ctx, src, dst, uids)
	if err != nil {
		return nil, err
	}
	return &Moved{Folder: dst.ID, UIDs: to, Undo: &Undo{Folder: dst.ID, UIDs: to, To: src.ID}}, nil
}

// Delete is what deleting means for a person: outside Trash, messages move
// to Trash (undoable); in Trash they are removed for good.
func (s *Service) Delete(ctx context.Context, personID int64, src *Mailbox, uids []uint32) (*Moved, error) {
	if Role(src) == RoleTrash {
		gone, err := s.Remove(ctx, src.ID, uids)
		if err != nil {
			return nil, err
		}
		return &Moved{Folder: src.ID, Deleted: len(gone)}, nil
	}
	trash, err := s.Special(ctx, personID, "Trash")
	if err != nil {
		return nil, err
	}
	return s.MoveUndoable(ctx, src, trash, uids)
}

// Archive moves messages to the person's Archive (undoable).
func (s *Service) Archive(ctx context.Context, personID int64, src *Mailbox, uids []uint32) (*Moved, error) {
	arch, err := s.Special(ctx, personID, "Archive")
	if err != nil {
		return nil, err
	}
	return s.MoveUndoable(ctx, src, arch, uids)
}

// PrepareContent stores a body once, named by its hash, with its summary
// (message.Summary, marshalled), ready to append.
func (s *Service) PrepareContent(ctx context.Context, body, summary []byte) (*Content, error) {
	return s.st.PrepareContent(ctx, body, summary)
}

// AppendAll appends messages to a mailbox in one commit (RFC 3502
// MULTIAPPEND) and returns their UIDs.
func (s *Service) AppendAll(ctx context.Context, mailboxID int64, msgs []NewMessage) ([]uint32, error) {
	return s.st.AppendAll(ctx, mailboxID, msgs)
}

// Replace appends a message to dst and expunges uid from src in one commit
// (RFC 8508 REPLACE).
func (s *Service) Replace(ctx context.Context, src int64, uid uint32, dst int64, m NewMessage) (uint32, error) {
	return s.st.Replace(ctx, src, uid, dst, m)
}

// Save appends a message the person wrote to one of their default folders
// ("Sent", "Drafts") and returns its UID.
func (s *Service) Save(ctx context.Context, personID int64, folder string, body, summary []byte, flags []string, date time.Time) (uint32, error) {
	box, err := s.Special(ctx, personID, folder)
	if err != nil {
		return 0, err
	}
	content, err := s.st.PrepareContent(ctx, body, summary)
	if err != nil {
		return 0, err
	}
	return s.st.Append(ctx, box.ID, content, flags, date)
}

// RemoveDraft removes a draft from the person's Drafts once it is sent or
// saved again.
func (s *Service) RemoveDraft(ctx context.Context, personID int64, uid uint32) error {
	drafts, err := s.Special(ctx, personID, "Drafts")
	if err != nil {
		return err
	}
	_, err = s.Remove(ctx, drafts.ID, []uint32{uid})
	return err
}

// PutUpload keeps an attachment uploaded for a message being written.
func (s *Service) PutUpload(ctx context.Context, u *Upload) error { return s.st.PutUpload(ctx, u) }

// GetUpload reads one of the person's uploads.
func (s *Service) GetUpload(ctx context.Context, personID int64, id string) (*Upload, error) {
	return s.st.GetUpload(ctx, personID, id)
}

// DeleteUploads forgets uploads once the message that used them is sent.
func (s *Service) DeleteUploads(ctx context.Context, personID int64, ids []string) error {
	return s.st.DeleteUploads(ctx, personID, ids)
}
