package web

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"time"

	"wardmail/store"
)

// Search limits. Plain words are looked up in the word index of bodies
// (store.SearchIndex); what the index cannot answer is checked on each
// message, and such a check, like a search with no word to look up, reads at
// most searchScan messages and stops after searchBudget, returning what it
// found with "complete": false (docs/decisions.md).
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
	page, total, complete, err := a.search(r.Context(), folders, q, offset, limit)
	if err != nil {
		return err
	}
	if page == nil {
		page = []searchItem{}
	}
	var lists [][]address
	for i := range page {
		lists = append(lists, page[i].From, page[i].To)
	}
	a.nameFromDirectory(r.Context(), lists...)
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "offset": offset, "complete": complete, "messages": page})
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

// searchRef is a message a search may return, before its summary is read.
type searchRef struct {
	folder  int64
	uid     uint32
	date    time.Time
	pending bool // not in the word index yet: every term is checked on the message
}

// search answers a query with the word index when it can (store.SearchIndex)
// and by scanning otherwise. It returns the page asked for, the number of
// messages found, and whether every message was looked at.
func (a *API) search(ctx context.Context, folders []store.Mailbox, q *Query, offset, limit int) ([]searchItem, int, bool, error) {
	terms, rest, err := a.wordTerms(ctx, q.Words)
	if err != nil {
		return nil, 0, false, err
	}
	if len(terms) == 0 {
		found, complete, err := a.scan(ctx, folders, q)
		return pageOf(found, offset, limit), len(found), complete, err
	}
	var refs []searchRef
	for _, m := range folders {
		hits, err := a.store.SearchIndex(ctx, m.ID, terms, q.After, q.Before)
		if err != nil {
			return nil, 0, false, err
		}
		for _, h := range hits {
			refs = append(refs, searchRef{folder: m.ID, uid: h.UID, date: h.Date, pending: h.Pending})
		}
	}
	newestFirst(refs)
	// What the index leaves to check on each message: words it could not
	// look up, and the terms on the summary.
	left := *q
	left.Words = rest
	leftEmpty := len(rest) == 0 && len(q.From)+len(q.To)+len(q.Subject) == 0 && !q.HasAttachment && !q.Unread && !q.Flagged
	if leftEmpty {
		// The index answered for the indexed bodies; only the few not
		// indexed yet are read.
		var matched []searchRef
		var pending []searchRef
		for _, r := range refs {
			if r.pending {
				pending = append(pending, r)
			} else {
				matched = append(matched, r)
			}
		}
		found, complete, err := a.check(ctx, pending, q, q, time.Now().Add(searchBudget))
		if err != nil {
			return nil, 0, false, err
		}
		ok := map[searchRef]bool{}
		for _, f := range found {
			ok[searchRef{folder: f.Folder, uid: f.UID}] = true
		}
		for _, r := range pending {
			if ok[searchRef{folder: r.folder, uid: r.uid}] {
				matched = append(matched, r)
			}
		}
		newestFirst(matched)
		var page []searchRef
		if offset < len(matched) {
			page = matched[offset:min(len(matched), offset+limit)]
		}
		items, _, err := a.check(ctx, page, &Query{}, &Query{}, time.Time{})
		if err != nil {
			return nil, 0, false, err
		}
		return items, len(matched), complete, nil
	}
	found, complete, err := a.check(ctx, refs, &left, q, time.Now().Add(searchBudget))
	if err != nil {
		return nil, 0, false, err
	}
	if len(found) > searchResults {
		found, complete = found[:searchResults], false
	}
	return pageOf(found, offset, limit), len(found), complete, nil
}

// wordTerms turns the plain words of a query into index terms (each the
// keys of the words it may match, see store.ExpandWord) and the words left
// to match on each message: a word with other characters than letters and
// digits ("ward:3", a quoted phrase), one too short or standing for too many
// indexed words. The words inside such a word, after its first (which may
// be the end of a longer word), still narrow the search.
func (a *API) wordTerms(ctx context.Context, words []string) ([][]int64, []string, error) {
	var terms [][]int64
	var rest []string
	for _, w := range words {
		parts := store.Words(w, 0)
		if len(parts) == 1 && parts[0] == w {
			keys, ok, err := a.store.ExpandWord(ctx, w)
			if err != nil {
				return nil, nil, err
			}
			if ok {
				terms = append(terms, keys)
				continue
			}
			rest = append(rest, w)
			continue
		}
		rest = append(rest, w)
		if len(parts) > 0 && strings.HasPrefix(w, parts[0]) {
			parts = parts[1:] // the first word may be the end of a longer one
		}
		for _, p := range parts {
			keys, ok, err := a.store.ExpandWord(ctx, p)
			if err != nil {
				return nil, nil, err
			}
			if ok {
				terms = append(terms, keys)
			}
		}
	}
	return terms, rest, nil
}

// check reads the messages of refs, in order, and keeps those matching q,
// or the full query for a message not indexed yet. It stops at the deadline
// (zero: none) with complete false.
func (a *API) check(ctx context.Context, refs []searchRef, q, full *Query, deadline time.Time) ([]searchItem, bool, error) {
	var found []searchItem
	for start := 0; start < len(refs); start += 256 {
		if !deadline.IsZero() && time.Now().After(deadline) || len(found) > searchResults {
			return found, false, nil
		}
		batch := refs[start:min(len(refs), start+256)]
		byFolder := map[int64][]uint32{}
		for _, r := range batch {
			byFolder[r.folder] = append(byFolder[r.folder], r.uid)
		}
		got := map[searchRef]*store.Message{}
		for f, uids := range byFolder {
			msgs, err := a.store.Messages(ctx, f, uids)
			if err != nil {
				return nil, false, err
			}
			for i := range msgs {
				got[searchRef{folder: f, uid: msgs[i].UID}] = &msgs[i]
			}
		}
		for _, r := range batch {
			msg := got[searchRef{folder: r.folder, uid: r.uid}]
			if msg == nil {
				continue // removed since the index was read
			}
			mq := q
			if r.pending {
				mq = full
			}
			ok, item, err := a.matches(ctx, msg, mq)
			if err != nil {
				return nil, false, err
			}
			if ok {
				found = append(found, searchItem{listItem: item, Folder: r.folder})
			}
		}
	}
	return found, true, nil
}

// newestFirst orders refs by arrival, newest first, the later UID first
// within a second.
func newestFirst(refs []searchRef) {
	sort.SliceStable(refs, func(i, j int) bool {
		if !refs[i].date.Equal(refs[j].date) {
			return refs[i].date.After(refs[j].date)
		}
		return refs[i].uid > refs[j].uid
	})
}

func pageOf(found []searchItem, offset, limit int) []searchItem {
	if offset < len(found) {
		return found[offset:min(len(found), offset+limit)]
	}
	return []searchItem{}
}

// scan is the search without the index, for queries with no word it can
// look up ("7", "is:unread"): it reads at most searchScan messages and stops
// after searchBudget with complete false.
func (a *API) scan(ctx context.Context, folders []store.Mailbox, q *Query) ([]searchItem, bool, error) {
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
