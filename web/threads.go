package web

import (
	"net/http"
	"strconv"
)

// Conversations (mail/threads.go groups a folder): the message list can
// show one row per conversation, and the reading pane a conversation's
// messages.

// convItem is one row of the conversation list: the newest message, with
// the conversation's size, unread count and messages (newest first).
type convItem struct {
	listItem
	Count  int      `json:"count"`
	Unread int      `json:"unread"`
	UIDs   []uint32 `json:"uids"`
}

// maxThreadUIDs bounds the UIDs one row carries (a storm thread can hold
// thousands); actions on a longer conversation name its newest ones.
const maxThreadUIDs = maxBatch

// handleConversations: GET /api/v1/folders/{folder}/conversations?offset=&limit=.
func (a *API) handleConversations(w http.ResponseWriter, r *http.Request, who *Session) error {
	m, offset, limit, err := a.folderPage(r, who)
	if err != nil {
		return err
	}
	page, err := a.mail.ConversationList(r.Context(), m.ID, offset, limit, maxThreadUIDs)
	if err != nil {
		return err
	}
	newest := make([]uint32, len(page.Conversations))
	for i, c := range page.Conversations {
		newest[i] = c.Newest
	}
	items, err := a.listItems(r.Context(), m.ID, newest)
	if err != nil {
		return err
	}
	byUID := make(map[uint32]listItem, len(items))
	for _, it := range items {
		byUID[it.UID] = it
	}
	out := make([]convItem, 0, len(page.Conversations))
	for _, c := range page.Conversations {
		it, ok := byUID[c.Newest]
		if !ok {
			continue // expunged since the grouping was made
		}
		it.Seen, it.Flagged = c.Unread == 0, it.Flagged || c.Flagged
		out = append(out, convItem{listItem: it, Count: c.Count, Unread: c.Unread, UIDs: c.UIDs})
	}
	writeJSON(w, http.StatusOK, map[string]any{"folder": m.ID, "total": page.Total, "messageCount": page.Messages, "offset": offset, "messages": out})
	return nil
}

// handleConversation: GET /api/v1/folders/{folder}/conversations/{uid}: the
// messages of the conversation holding uid, newest first.
func (a *API) handleConversation(w http.ResponseWriter, r *http.Request, who *Session) error {
	m, err := a.folder(r.Context(), who, r.PathValue("folder"))
	if err != nil {
		return err
	}
	uid, err := strconv.ParseUint(r.PathValue("uid"), 10, 32)
	if err != nil || uid == 0 {
		return problem(http.StatusBadRequest, "bad-request", "%q is not a message number.", truncate(r.PathValue("uid"), 40))
	}
	th, ok, err := a.mail.ConversationOf(r.Context(), m.ID, uint32(uid))
	if err != nil {
		return err
	}
	if !ok {
		return errNotFound("That conversation")
	}
	items, err := a.listItems(r.Context(), m.ID, th.UIDs[:min(len(th.UIDs), maxPage)])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"folder": m.ID, "count": len(th.UIDs), "messages": items})
	return nil
}
