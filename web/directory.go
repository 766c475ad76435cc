package web

import (
	"net/http"
	"strings"
)

type suggestion struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Org   string `json:"org"`
	Role  string `json:"role,omitempty"`
}

// listSuggestion is a distribution list offered beside people, with its
// size so that the sender sees how many a list reaches before choosing it.
type listSuggestion struct {
	Name      string `json:"name"`
	Email     string `json:"email"`
	Size      int64  `json:"size"`
	Suspended bool   `json:"suspended,omitempty"`
}

// handleSuggest: GET /api/v1/directory/suggest?q=PREFIX[&limit=N]: people
// whose address, name or last name starts with the prefix, and
// distribution lists whose address does (directory.Service.Suggest).
func (a *API) handleSuggest(w http.ResponseWriter, r *http.Request, who *Session) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > 320 {
		p := problem(http.StatusBadRequest, "bad-request", "The text to look up is too long.")
		p.Field = "q"
		return p
	}
	limit, err := intParam(r, "limit", 8, 1, 25)
	if err != nil {
		return err
	}
	found, err := a.dir.Suggest(r.Context(), q, limit)
	if err != nil {
		return err
	}
	out := []suggestion{}
	for _, s := range found.People {
		out = append(out, suggestion{Name: s.Name, Email: s.Email, Org: s.Org, Role: s.Role})
	}
	lists := []listSuggestion{}
	for _, l := range found.Lists {
		lists = append(lists, listSuggestion{Name: l.Name, Email: l.Address, Size: l.Size, Suspended: l.Suspended})
	}
	w.Header().Set("Cache-Control", "private, max-age=60")
	writeJSON(w, http.StatusOK, map[string]any{"people": out, "lists": lists})
	return nil
}
