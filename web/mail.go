package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"time"

	"wardmail/mail"
	"wardmail/message"
)

type folderInfo struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Role   string `json:"role,omitempty"`
	Total  int64  `json:"total"`
	Unread int64  `json:"unread"`
}

// handleFolders: GET /api/v1/folders. INBOX first, then the special
// folders in a fixed order, then the rest by name (mail.RoleOrder).
func (a *API) handleFolders(w http.ResponseWriter, r *http.Request, who *Session) error {
	if err := a.mail.Open(r.Context(), who.Person.ID); err != nil {
		return err
	}
	list, err := a.mail.FolderCounts(r.Context(), who.Person.ID)
	if err != nil {
		return err
	}
	out := make([]folderInfo, 0, len(list))
	for _, f := range list {
		out = append(out, folderInfo{ID: f.ID, Name: f.Name, Role: mail.Role(&f.Mailbox), Total: f.Total, Unread: f.Unread})
	}
	writeJSON(w, http.StatusOK, map[string]any{"folders": out})
	return nil
}

// folder returns the signed-in person's mailbox named by id; another
// person's is "not found", never "forbidden" (it does not say it exists).
func (a *API) folder(ctx context.Context, who *Session, id string) (*mail.Mailbox, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return nil, problem(http.StatusBadRequest, "bad-request", "%q is not a folder id.", truncate(id, 40))
	}
	return a.folderByID(ctx, who, n)
}

func (a *API) folderByID(ctx context.Context, who *Session, id int64) (*mail.Mailbox, error) {
	m, err := a.mail.Mailbox(ctx, who.Person.ID, id)
	if errors.Is(err, mail.ErrNotFound) {
		return nil, errNotFound("That folder")
	}
	return m, err
}

type address struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email"`
}

func addresses(list []message.Address) []address {
	out := make([]address, 0, len(list))
	for _, ad := range list {
		if ad.Group != "" || ad.GroupEnd || ad.Mailbox == "" {
			continue
		}
		out = append(out, address{Name: ad.Name, Email: ad.Addr()})
	}
	return out
}

// listItem is one row of the message list.
type listItem struct {
	UID           uint32    `json:"uid"`
	Date          time.Time `json:"date"`
	From          []address `json:"from"`
	To            []address `json:"to"`
	Subject       string    `json:"subject"`
	Seen          bool      `json:"seen"`
	Flagged       bool      `json:"flagged"`
	Answered      bool      `json:"answered"`
	Draft         bool      `json:"draft"`
	Size          int64     `json:"size"`
	HasAttachment bool      `json:"hasAttachment"`
	// Thread names the conversation (a hash of its first message's id);
	// messages with the same Thread belong together.
	Thread string `json:"thread"`
}

func hasFlag(flags []string, f string) bool {
	for _, x := range flags {
		if x == f {
			return true
		}
	}
	return false
}

// threadRoot is the Message-ID a conversation is named by: the first of
// References, else In-Reply-To, else the message's own (RFC 5256 REFERENCES
// in its simplest form).
func threadRoot(s *message.Summary) string {
	switch {
	case len(s.References) > 0:
		return s.References[0]
	case s.Envelope.InReplyTo != "":
		return s.Envelope.InReplyTo
	default:
		return s.Envelope.MessageID
	}
}

func threadID(root string) string {
	if root == "" {
		return ""
	}
	h := sha256.Sum256([]byte(root))
	return hex.EncodeToString(h[:8])
}

func toListItem(m *mail.Message) (listItem, *message.Summary, error) {
	s, err := message.Unmarshal(m.Summary)
	if err != nil {
		return listItem{}, nil, err
	}
	return itemOf(m, s), s, nil
}

// itemOf is the list row of a message whose summary is read.
func itemOf(m *mail.Message, s *message.Summary) listItem {
	return listItem{
		UID: m.UID, Date: mail.DateOf(m, s).UTC(), From: addresses(s.Envelope.From), To: addresses(s.Envelope.To),
		Subject: s.Envelope.Subject, Seen: hasFlag(m.Flags, mail.FlagSeen), Flagged: hasFlag(m.Flags, mail.FlagFlagged),
		Answered: hasFlag(m.Flags, mail.FlagAnswered), Draft: hasFlag(m.Flags, mail.FlagDraft),
		Size: m.Size, HasAttachment: s.HasAttachment, Thread: threadID(threadRoot(s)),
	}
}

// maxPage bounds one page of the message list.
const maxPage = 200

// folderPage reads the folder and the page (offset, limit) a list request
// names; opening the INBOX's first page takes in the person's list posts
// first (materialisation), as an IMAP SELECT does.
func (a *API) folderPage(r *http.Request, who *Session) (m *mail.Mailbox, offset, limit int, err error) {
	if m, err = a.folder(r.Context(), who, r.PathValue("folder")); err != nil {
		return nil, 0, 0, err
	}
	if offset, err = intParam(r, "offset", 0, 0, 1<<31-1); err != nil {
		return nil, 0, 0, err
	}
	if limit, err = intParam(r, "limit", 50, 1, maxPage); err != nil {
		return nil, 0, 0, err
	}
	if mail.IsInbox(m) && offset == 0 {
		a.mail.TakeInPosts(r.Context(), who.Person.ID)
	}
	return m, offset, limit, nil
}

// handleList: GET /api/v1/folders/{folder}/messages?offset=&limit=, newest first.
func (a *API) handleList(w http.ResponseWriter, r *http.Request, who *Session) error {
	m, offset, limit, err := a.folderPage(r, who)
	if err != nil {
		return err
	}
	uids, total, err := a.mail.Newest(r.Context(), m.ID, time.Time{}, time.Time{}, offset, limit)
	if err != nil {
		return err
	}
	items, err := a.listItems(r.Context(), m.ID, uids)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"folder": m.ID, "total": total, "offset": offset, "messages": items})
	return nil
}

// listItems returns the rows for uids in the order given.
func (a *API) listItems(ctx context.Context, mailboxID int64, uids []uint32) ([]listItem, error) {
	msgs, err := a.mail.Messages(ctx, mailboxID, uids)
	if err != nil {
		return nil, err
	}
	byUID := make(map[uint32]*mail.Message, len(msgs))
	for i := range msgs {
		byUID[msgs[i].UID] = &msgs[i]
	}
	items := make([]listItem, 0, len(uids))
	for _, u := range uids {
		msg := byUID[u]
		if msg == nil {
			continue // expunged between the two reads
		}
		it, _, err := toListItem(msg)
		if err != nil {
			a.log.Warn("unreadable summary", "mailbox", mailboxID, "uid", u, "err", err)
			continue
		}
		items = append(items, it)
	}
	a.nameFromDirectory(ctx, itemAddresses(items)...)
	return items, nil
}

func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		p := problem(http.StatusBadRequest, "bad-request", "%s must be a whole number from %d to %d.", name, lo, hi)
		p.Field = name
		return 0, p
	}
	return n, nil
}

// maxBatch bounds how many messages one flags, move or delete call names.
const maxBatch = 1000

type selection struct {
	Folder int64    `json:"folder"`
	UIDs   []uint32 `json:"uids"`
}

func (a *API) readSelection(w http.ResponseWriter, r *http.Request, who *Session, v any, sel *selection) (*mail.Mailbox, error) {
	if err := readJSON(w, r, 64<<10, v); err != nil {
		return nil, err
	}
	if len(sel.UIDs) == 0 || len(sel.UIDs) > maxBatch {
		p := problem(http.StatusBadRequest, "bad-request", "Name from 1 to %d messages in uids.", maxBatch)
		p.Field = "uids"
		return nil, p
	}
	return a.folderByID(r.Context(), who, sel.Folder)
}

type flagsRequest struct {
	selection
	Add    []string `json:"add"`
	Remove []string `json:"remove"`
}

var webFlags = map[string]string{"seen": mail.FlagSeen, "flagged": mail.FlagFlagged, "answered": mail.FlagAnswered}

func mapFlags(names []string, field string) ([]string, error) {
	out := make([]string, 0, len(names))
	for _, n := range names {
		f, ok := webFlags[n]
		if !ok {
			p := problem(http.StatusBadRequest, "bad-request", "%q is not a flag; use seen, flagged or answered.", truncate(n, 40))
			p.Field = field
			return nil, p
		}
		out = append(out, f)
	}
	return out, nil
}

// handleFlags: POST /api/v1/messages/flags.
func (a *API) handleFlags(w http.ResponseWriter, r *http.Request, who *Session) error {
	var req flagsRequest
	m, err := a.readSelection(w, r, who, &req, &req.selection)
	if err != nil {
		return err
	}
	add, err := mapFlags(req.Add, "add")
	if err != nil {
		return err
	}
	remove, err := mapFlags(req.Remove, "remove")
	if err != nil {
		return err
	}
	if len(add) > 0 {
		if _, _, err := a.mail.SetFlags(r.Context(), m.ID, req.UIDs, mail.FlagsAdd, add, 0); err != nil {
			return err
		}
	}
	if len(remove) > 0 {
		if _, _, err := a.mail.SetFlags(r.Context(), m.ID, req.UIDs, mail.FlagsRemove, remove, 0); err != nil {
			return err
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type moveRequest struct {
	selection
	To int64 `json:"to"`
}

// moved is what move, delete and archive answer: where the messages went,
// and the move that undoes it.
type moved struct {
	Folder int64    `json:"folder"`
	UIDs   []uint32 `json:"uids"`
	Undo   *undo    `json:"undo,omitempty"`
	// Deleted counts messages removed for good (delete in Trash).
	Deleted int `json:"deleted,omitempty"`
}

type undo struct {
	Folder int64    `json:"folder"`
	UIDs   []uint32 `json:"uids"`
	To     int64    `json:"to"`
}

// movedOf is the answer for a move the mail service made.
func movedOf(m *mail.Moved) *moved {
	out := &moved{Folder: m.Folder, UIDs: m.UIDs, Deleted: m.Deleted}
	if m.Undo != nil {
		out.Undo = &undo{Folder: m.Undo.Folder, UIDs: m.Undo.UIDs, To: m.Undo.To}
	}
	return out
}

// handleMove: POST /api/v1/messages/move. Undo is a move back.
func (a *API) handleMove(w http.ResponseWriter, r *http.Request, who *Session) error {
	var req moveRequest
	src, err := a.readSelection(w, r, who, &req, &req.selection)
	if err != nil {
		return err
	}
	dst, err := a.folderByID(r.Context(), who, req.To)
	if err != nil {
		return err
	}
	res, err := a.mail.MoveUndoable(r.Context(), src, dst, req.UIDs)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, movedOf(res))
	return nil
}

// handleDelete: POST /api/v1/messages/delete. Outside Trash, messages move
// to Trash (undoable); in Trash they are removed for good.
func (a *API) handleDelete(w http.ResponseWriter, r *http.Request, who *Session) error {
	var req selection
	src, err := a.readSelection(w, r, who, &req, &req)
	if err != nil {
		return err
	}
	res, err := a.mail.Delete(r.Context(), who.Person.ID, src, req.UIDs)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, movedOf(res))
	return nil
}

// handleArchive: POST /api/v1/messages/archive.
func (a *API) handleArchive(w http.ResponseWriter, r *http.Request, who *Session) error {
	var req selection
	src, err := a.readSelection(w, r, who, &req, &req)
	if err != nil {
		return err
	}
	res, err := a.mail.Archive(r.Context(), who.Person.ID, src, req.UIDs)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, movedOf(res))
	return nil
}
