package web

import (
	"net/http"
	"strconv"

	"wardmail/mail"
)

// Conversations (store/threads.go groups a folder): the message list can
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
	t, err := a.mail.Conversations(r.Context(), m.ID)
	if err != nil {
		return err
	}
	page := t.List[min(offset, len(t.List)):min(offset+limit, len(t.List))]
	newest := make([]uint32, len(page))
	var all []uint32
	for i, th := range page {
		newest[i] = th.UIDs[0]
		all = append(all, th.UIDs[:min(len(th.UIDs), maxThreadUIDs)]...)
	}
	items, err := a.listItems(r.Context(), m.ID, newest)
	if err != nil {
		return err
	}
	flags, err := a.mail.FlagsOf(r.Context(), m.ID, all)
	if err != nil {
		return err
	}
	byUID := make(map[uint32]listItem, len(items))
	for _, it := range items {
		byUID[it.UID] = it
	}
	out := make([]convItem, 0, len(page))
	for _, th := range page {
		it, ok := byUID[th.UIDs[0]]
		if !ok {
			continue // expunged since the grouping was made
		}
		c := convItem{listItem: it, UIDs: []uint32{}}
		for _, u := range th.UIDs[:min(len(th.UIDs), maxThreadUIDs)] {
			f, ok := flags[u]
			if !ok {
				continue
			}
			c.UIDs = append(c.UIDs, u)
			if !hasFlag(f, mail.FlagSeen) {
				c.Unread++
			}
			c.Flagged = c.Flagged || hasFlag(f, mail.FlagFlagged)
		}
		c.Count = len(th.UIDs)
		c.Seen = c.Unread == 0
		out = append(out, c)
	}
	writeJSON(w, http.StatusOK, map[string]any{"folder": m.ID, "total": len(t.List), "messageCount": t.Messages, "offset": offset, "messages": out})
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
	t, err := a.mail.Conversations(r.Context(), m.ID)
	if err != nil {
		return err
	}
	th, ok := t.ThreadOf(uint32(uid))
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
