package web

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"time"

	"wardmail/store"
)

// Search limits: a search reads at most searchScan messages and stops after
// searchBudget, returning what it found with "complete": false. A full-text
// index (FTS5 / tsvector) is what lifts these limits; see docs/decisions.md.
const (
	searchScan    = 50000
	searchBudget  = 5 * time.Second
	searchResults = 1000
	searchText    = 1 << 20
)

type searchItem struct {
	listItem
	Folder int64 `json:"folder"`
}

// handleSearch: GET /api/v1/search?q=QUERY[&folder=ID][&offset=&limit=].
func (a *API) handleSearch(w http.ResponseWriter, r *http.Request, who *Session) error {
	q, err := ParseQuery(r.URL.Query().Get("q"))
	if err != nil {
		p := problem(http.StatusBadRequest, "bad-query", "The search cannot be understood: %v.", err)
		p.Field = "q"
		return p
	}
	offset, err := intParam(r, "offset", 0, 0, searchResults)
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
	found, complete, err := a.search(r.Context(), folders, q)
	if err != nil {
		return err
	}
	page := []searchItem{}
	if offset < len(found) {
		page = found[offset:min(len(found), offset+limit)]
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": len(found), "offset": offset, "complete": complete, "messages": page})
	return nil
}

// searchFolders is the folder named by id or in:NAME, else every folder but
// Trash and Junk.
func (a *API) searchFolders(ctx context.Context, who *Session, q *Query, id string) ([]store.Mailbox, error) {
	if id != "" {
		m, err := a.folder(ctx, who, id)
		if err != nil {
			return nil, err
		}
		return []store.Mailbox{*m}, nil
	}
	all, err := a.store.Mailboxes(ctx, who.Person.ID)
	if err != nil {
		return nil, err
	}
	var out []store.Mailbox
	for _, m := range all {
		role := folderRole(&m)
		switch {
		case q.Folder != "":
			if strings.EqualFold(m.Name, q.Folder) || strings.EqualFold(role, q.Folder) {
				out = append(out, m)
			}
		case role != "trash" && role != "junk":
			out = append(out, m)
		}
	}
	if q.Folder != "" && len(out) == 0 {
		p := problem(http.StatusBadRequest, "bad-query", "You have no folder called %q.", truncate(q.Folder, 60))
		p.Field = "q"
		return nil, p
	}
	return out, nil
}

func (a *API) search(ctx context.Context, folders []store.Mailbox, q *Query) ([]searchItem, bool, error) {
	deadline := time.Now().Add(searchBudget)
	var found []searchItem
	scanned, complete := 0, true
	for _, m := range folders {
		uids, _, err := a.store.UIDsByDate(ctx, m.ID, q.After, q.Before, 0, -1)
		if err != nil {
			return nil, false, err
		}
		for start := 0; start < len(uids); start += 256 {
			if scanned >= searchScan || time.Now().After(deadline) || len(found) >= searchResults {
				complete = false
				break
			}
			batch := uids[start:min(len(uids), start+256)]
			scanned += len(batch)
			msgs, err := a.store.Messages(ctx, m.ID, batch)
			if err != nil {
				return nil, false, err
			}
			for i := range msgs {
				ok, item, err := a.matches(ctx, &msgs[i], q)
				if err != nil {
					return nil, false, err
				}
				if ok {
					found = append(found, searchItem{listItem: item, Folder: m.ID})
				}
			}
		}
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].Date.After(found[j].Date) })
	return found, complete, nil
}

func addrText(list []address) string {
	var sb strings.Builder
	for _, ad := range list {
		sb.WriteString(strings.ToLower(ad.Name))
		sb.WriteByte(' ')
		sb.WriteString(strings.ToLower(ad.Email))
		sb.WriteByte(' ')
	}
	return sb.String()
}

func containsAll(hay string, needles []string) bool {
	for _, n := range needles {
		if !strings.Contains(hay, n) {
			return false
		}
	}
	return true
}

// matches evaluates the cheap terms on the stored summary first and reads
// the body only when plain words are left to match.
func (a *API) matches(ctx context.Context, msg *store.Message, q *Query) (bool, listItem, error) {
	item, sum, err := toListItem(msg)
	if err != nil {
		return false, item, nil // an unreadable summary matches nothing
	}
	if (q.Unread && item.Seen) || (q.Flagged && !item.Flagged) || (q.HasAttachment && !item.HasAttachment) {
		return false, item, nil
	}
	from := addrText(item.From)
	to := addrText(item.To) + addrText(addresses(sum.Envelope.Cc))
	subject := strings.ToLower(item.Subject)
	if !containsAll(from, q.From) || !containsAll(to, q.To) || !containsAll(subject, q.Subject) {
		return false, item, nil
	}
	var rest []string
	head := subject + " " + from + " " + to
	for _, w := range q.Words {
		if !strings.Contains(head, w) {
			rest = append(rest, w)
		}
	}
	if len(rest) == 0 {
		return true, item, nil
	}
	body, err := a.store.Body(ctx, msg.ContentID)
	if err != nil {
		return false, item, err
	}
	text := strings.ToLower(sum.Text(body, searchText))
	return containsAll(text, rest), item, nil
}
