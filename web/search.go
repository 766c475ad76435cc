package web

import (
	"context"
	"errors"
	"net/http"

	"wardmail/mail"
)

type searchItem struct {
	listItem
	Folder int64 `json:"folder"`
}

// handleSearch: GET /api/v1/search?q=QUERY[&folder=ID][&offset=&limit=].
// The query is answered by the mail service's search (mail.Service.Search,
// the engine IMAP SEARCH uses too).
func (a *API) handleSearch(w http.ResponseWriter, r *http.Request, who *Session) error {
	q, err := ParseQuery(r.URL.Query().Get("q"))
	if err != nil {
		p := problem(http.StatusBadRequest, "bad-query", "The search cannot be understood: %v.", err)
		p.Field = "q"
		return p
	}
	offset, err := intParam(r, "offset", 0, 0, mail.SearchResults)
	if err != nil {
		return err
	}
	limit, err := intParam(r, "limit", 50, 1, maxPage)
	if err != nil {
		return err
	}
	folders, err := a.searchFolders(r.Context(), who, q, r.URL.Query().Get("folder"))
	if err != nil {
		return err
	}
	found, total, complete, err := a.mail.Search(r.Context(), folders, q, offset, limit)
	if err != nil {
		return err
	}
	page := make([]searchItem, 0, len(found))
	var lists [][]address
	for _, f := range found {
		page = append(page, searchItem{listItem: itemOf(f.Msg, f.Sum), Folder: f.Folder})
	}
	for i := range page {
		lists = append(lists, page[i].From, page[i].To)
	}
	a.nameFromDirectory(r.Context(), lists...)
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "offset": offset, "complete": complete, "messages": page})
	return nil
}

// searchFolders is the folder named by id, else those the query names
// (in:NAME) or every folder but Trash and Junk (mail.Service.SearchFolders).
func (a *API) searchFolders(ctx context.Context, who *Session, q *Query, id string) ([]mail.Mailbox, error) {
	if id != "" {
		m, err := a.folder(ctx, who, id)
		if err != nil {
			return nil, err
		}
		return []mail.Mailbox{*m}, nil
	}
	out, err := a.mail.SearchFolders(ctx, who.Person.ID, q.Folder)
	if errors.Is(err, mail.ErrNoSuchFolder) {
		p := problem(http.StatusBadRequest, "bad-query", "You have no folder called %q.", truncate(q.Folder, 60))
		p.Field = "q"
		return nil, p
	}
	return out, err
}
