package mail

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"wardmail/message"
	"wardmail/store"
)

// Search limits. Plain words are looked up in the word index of bodies
// (SearchIndex); what the index cannot answer is checked on each message,
// and such a check, like a search with no word to look up, reads at most
// SearchScan messages and stops after SearchBudget, returning what it found
// with complete false (docs/decisions.md).
const (
	SearchScan    = 50000
	SearchBudget  = 5 * time.Second
	SearchResults = 1000
	// searchText bounds the decoded text of one message the webmail's
	// search reads; MaxSearchText bounds it for IMAP SEARCH BODY and TEXT,
	// whose answer must be the one a full scan gives (RFC 9051 6.4.4).
	searchText    = 1 << 20
	MaxSearchText = 4 << 20
)

// Query is a search as a person means it (the webmail's search box parses
// into it): terms are ANDed; plain words (and quoted phrases) match the
// subject, the addresses or the text of the message. Matching ignores case;
// the strings are in lower case.
type Query struct {
	From, To, Subject []string
	Words             []string
	Folder            string // in:NAME
	HasAttachment     bool
	Unread, Flagged   bool
	After, Before     time.Time // after: inclusive, before: exclusive (dates in UTC)
}

// Empty reports whether the query matches everything.
func (q *Query) Empty() bool {
	return len(q.From)+len(q.To)+len(q.Subject)+len(q.Words) == 0 && q.Folder == "" && !q.HasAttachment &&
		!q.Unread && !q.Flagged && q.After.IsZero() && q.Before.IsZero()
}

// Found is one message a search found, with its summary.
type Found struct {
	Folder int64
	Msg    *Message
	Sum    *message.Summary
	// Date is when the message says it was written (Date:), else when it
	// arrived; results are ordered by it, newest first.
	Date time.Time
}

// DateOf is the date a message is listed and searched by: its Date: header
// when that can be read, else its arrival.
func DateOf(m *Message, s *message.Summary) time.Time {
	if d, err := message.ParseDate(s.Envelope.Date); err == nil {
		return d
	}
	return m.InternalDate
}

// ErrNoSuchFolder: a search named a folder (in:NAME) the person does not
// have.
var ErrNoSuchFolder = errors.New("no such folder")

// SearchFolders are the folders a search looks in: the one named by in:NAME
// (a folder name or a role, any case), else every folder but Trash and Junk.
func (s *Service) SearchFolders(ctx context.Context, personID int64, name string) ([]Mailbox, error) {
	all, err := s.st.Mailboxes(ctx, personID)
	if err != nil {
		return nil, err
	}
	var out []Mailbox
	for _, m := range all {
		role := Role(&m)
		switch {
		case name != "":
			if strings.EqualFold(m.Name, name) || strings.EqualFold(role, name) {
				out = append(out, m)
			}
		case role != RoleTrash && role != RoleJunk:
			out = append(out, m)
		}
	}
	if name != "" && len(out) == 0 {
		return nil, ErrNoSuchFolder
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

// Search answers a query over folders with the word index when it can and by
// scanning otherwise. It returns the page asked for (offset, limit), the
// number of messages found, and whether every message was looked at.
func (s *Service) Search(ctx context.Context, folders []Mailbox, q *Query, offset, limit int) ([]Found, int, bool, error) {
	terms, rest, err := s.wordTerms(ctx, q.Words)
	if err != nil {
		return nil, 0, false, err
	}
	if len(terms) == 0 {
		found, complete, err := s.scan(ctx, folders, q)
		return pageOf(found, offset, limit), len(found), complete, err
	}
	var refs []searchRef
	for _, m := range folders {
		hits, err := s.st.SearchIndex(ctx, m.ID, terms, q.After, q.Before)
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
		var matched, pending []searchRef
		for _, r := range refs {
			if r.pending {
				pending = append(pending, r)
			} else {
				matched = append(matched, r)
			}
		}
		found, complete, err := s.check(ctx, pending, q, q, time.Now().Add(SearchBudget))
		if err != nil {
			return nil, 0, false, err
		}
		ok := map[searchRef]bool{}
		for _, f := range found {
			ok[searchRef{folder: f.Folder, uid: f.Msg.UID}] = true
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
		items, _, err := s.check(ctx, page, &Query{}, &Query{}, time.Time{})
		if err != nil {
			return nil, 0, false, err
		}
		return items, len(matched), complete, nil
	}
	found, complete, err := s.check(ctx, refs, &left, q, time.Now().Add(SearchBudget))
	if err != nil {
		return nil, 0, false, err
	}
	if len(found) > SearchResults {
		found, complete = found[:SearchResults], false
	}
	return pageOf(found, offset, limit), len(found), complete, nil
}

// wordTerms turns the plain words of a query into index terms (each the
// keys of the words it may match, see ExpandWord) and the words left to
// match on each message: a word with other characters than letters and
// digits ("ward:3", a quoted phrase), one too short or standing for too many
// indexed words. The words inside such a word, after its first (which may
// be the end of a longer word), still narrow the search.
func (s *Service) wordTerms(ctx context.Context, ws []string) ([][]int64, []string, error) {
	var terms [][]int64
	var rest []string
	for _, w := range ws {
		parts := store.Words(w, 0)
		if len(parts) == 1 && parts[0] == w {
			keys, ok, err := s.st.ExpandWord(ctx, w)
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
			keys, ok, err := s.st.ExpandWord(ctx, p)
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
func (s *Service) check(ctx context.Context, refs []searchRef, q, full *Query, deadline time.Time) ([]Found, bool, error) {
	var found []Found
	for start := 0; start < len(refs); start += 256 {
		if !deadline.IsZero() && time.Now().After(deadline) || len(found) > SearchResults {
			return found, false, nil
		}
		batch := refs[start:min(len(refs), start+256)]
		byFolder := map[int64][]uint32{}
		for _, r := range batch {
			byFolder[r.folder] = append(byFolder[r.folder], r.uid)
		}
		got := map[searchRef]*Message{}
		for f, uids := range byFolder {
			msgs, err := s.st.Messages(ctx, f, uids)
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
			f, ok, err := s.matches(ctx, msg, mq)
			if err != nil {
				return nil, false, err
			}
			if ok {
				f.Folder = r.folder
				found = append(found, f)
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

func pageOf(found []Found, offset, limit int) []Found {
	if offset < len(found) {
		return found[offset:min(len(found), offset+limit)]
	}
	return []Found{}
}

// scan is the search without the index, for queries with no word it can
// look up ("7", "is:unread"): it reads at most SearchScan messages and stops
// after SearchBudget with complete false.
func (s *Service) scan(ctx context.Context, folders []Mailbox, q *Query) ([]Found, bool, error) {
	deadline := time.Now().Add(SearchBudget)
	var found []Found
	scanned, complete := 0, true
	for _, m := range folders {
		uids, _, err := s.st.UIDsByDate(ctx, m.ID, q.After, q.Before, 0, -1)
		if err != nil {
			return nil, false, err
		}
		for start := 0; start < len(uids); start += 256 {
			if scanned >= SearchScan || time.Now().After(deadline) || len(found) >= SearchResults {
				complete = false
				break
			}
			batch := uids[start:min(len(uids), start+256)]
			scanned += len(batch)
			msgs, err := s.st.Messages(ctx, m.ID, batch)
			if err != nil {
				return nil, false, err
			}
			for i := range msgs {
				f, ok, err := s.matches(ctx, &msgs[i], q)
				if err != nil {
					return nil, false, err
				}
				if ok {
					f.Folder = m.ID
					found = append(found, f)
				}
			}
		}
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].Date.After(found[j].Date) })
	return found, complete, nil
}

// addrText is the names and addresses of a list, in lower case, for
// matching; group syntax is left out.
func addrText(lists ...[]message.Address) string {
	var sb strings.Builder
	for _, list := range lists {
		for _, ad := range list {
			if ad.Group != "" || ad.GroupEnd || ad.Mailbox == "" {
				continue
			}
			sb.WriteString(strings.ToLower(ad.Name))
			sb.WriteByte(' ')
			sb.WriteString(strings.ToLower(ad.Addr()))
			sb.WriteByte(' ')
		}
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

func hasFlag(flags []string, f string) bool {
	for _, x := range flags {
		if x == f {
			return true
		}
	}
	return false
}

// matches evaluates the cheap terms on the stored summary first and reads
// the body only when plain words are left to match. An unreadable summary
// matches nothing.
func (s *Service) matches(ctx context.Context, msg *Message, q *Query) (Found, bool, error) {
	sum, err := message.Unmarshal(msg.Summary)
	if err != nil {
		return Found{}, false, nil
	}
	f := Found{Msg: msg, Sum: sum, Date: DateOf(msg, sum).UTC()}
	if (q.Unread && hasFlag(msg.Flags, FlagSeen)) || (q.Flagged && !hasFlag(msg.Flags, FlagFlagged)) || (q.HasAttachment && !sum.HasAttachment) {
		return f, false, nil
	}
	from := addrText(sum.Envelope.From)
	to := addrText(sum.Envelope.To, sum.Envelope.Cc)
	subject := strings.ToLower(sum.Envelope.Subject)
	if !containsAll(from, q.From) || !containsAll(to, q.To) || !containsAll(subject, q.Subject) {
		return f, false, nil
	}
	var rest []string
	head := subject + " " + from + " " + to
	for _, w := range q.Words {
		if !strings.Contains(head, w) {
			rest = append(rest, w)
		}
	}
	if len(rest) == 0 {
		return f, true, nil
	}
	body, err := s.st.Body(ctx, msg.ContentID)
	if err != nil {
		return f, false, err
	}
	text := strings.ToLower(sum.Text(body, searchText))
	return f, containsAll(text, rest), nil
}

// TextCandidates asks the word index which messages of a mailbox may hold a
// string (SubstringTerms, then SearchIndex: the engine the webmail's search
// uses). The set includes messages whose bodies the indexer has not reached
// yet or indexed only in part, so a message outside it cannot hold the
// string in its body; each message inside it must still be checked. ok is
// false for a string the index cannot serve (a short word, punctuation):
// then every message must be read (RFC 9051 6.4.4).
func (s *Service) TextCandidates(ctx context.Context, mailboxID int64, needle string) (set map[uint32]bool, ok bool, err error) {
	terms, ok, err := s.st.SubstringTerms(ctx, needle)
	if err != nil || !ok {
		return nil, false, err
	}
	hits, err := s.st.SearchIndex(ctx, mailboxID, terms, time.Time{}, time.Time{})
	if err != nil {
		return nil, false, err
	}
	set = make(map[uint32]bool, len(hits))
	for _, h := range hits {
		set[h.UID] = true
	}
	return set, true, nil
}
