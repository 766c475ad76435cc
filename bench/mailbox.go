package bench

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"wardmail/mail"
	"wardmail/message"
	"wardmail/sim"
	"wardmail/store"
)

// MailboxConfig sets up `wardmail bench mailbox`: one person's folder filled
// with Count messages (one in five a reply, so conversations form), then the
// message list's store queries timed at deep offsets. The browser half is
// web/ui/e2e/bench-list.mjs (`make bench-ui`).
type MailboxConfig struct {
	Person  string // whose INBOX (default ben.okafor@nhs.test)
	Count   int    // messages (100,000)
	Workers int    // concurrent appends, committed together (32)
	Samples int    // timings per offset (20)
	Out     io.Writer
}

// MailboxResult holds the figures.
type MailboxResult struct {
	Folder        int64              `json:"folder"`
	Messages      int                `json:"messages"`
	SeedSeconds   float64            `json:"seed_seconds"`
	PerSecond     float64            `json:"messages_per_second"`
	Conversations int                `json:"conversations"`
	GroupMs       float64            `json:"group_ms"`               // grouping the folder into conversations (cold)
	GroupCachedMs float64            `json:"group_cached_ms"`        // the same call when nothing changed
	GroupArrival  float64            `json:"group_after_arrival_ms"` // after one new message
	GroupRemoval  float64            `json:"group_after_removal_ms"` // after one message left
	PageP50Ms     map[string]float64 `json:"page_p50_ms"`            // UIDsByDate + Messages for 100 rows, by offset
	PageP99Ms     map[string]float64 `json:"page_p99_ms"`
	IndexCatchUp  float64            `json:"index_catch_up_seconds"` // word index backlog left after seeding
	SearchMs      map[string]float64 `json:"search_p50_ms"`          // word searches of the folder (store side), by query
	SearchHits    map[string]int     `json:"search_hits"`
}

// SearchQueries are the word searches timed: a word in one message, a word
// in every message, a prefix of a word in every message, and both kinds.
var SearchQueries = []string{"73512", "ward", "rev", "ward 73512"}

// Offsets are where the list is read: the top, the middle, the end.
var Offsets = []int{0, 1000, 10000, 50000, 99900}

// Mailbox fills the folder and measures it. The person must exist (the
// command seeds the demo people first).
func Mailbox(ctx context.Context, st *store.Store, cfg MailboxConfig) (*MailboxResult, error) {
	if cfg.Person == "" {
		cfg.Person = "ben.okafor@nhs.test"
	}
	if cfg.Count <= 0 {
		cfg.Count = 100000
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 32
	}
	if cfg.Samples <= 0 {
		cfg.Samples = 20
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	p, err := st.PersonByEmail(ctx, cfg.Person)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Person, err)
	}
	if err := st.EnsureMailboxes(ctx, p.ID); err != nil {
		return nil, err
	}
	box, err := st.MailboxByName(ctx, p.ID, "INBOX")
	if err != nil {
		return nil, err
	}
	res := &MailboxResult{Folder: box.ID, Messages: cfg.Count, PageP50Ms: map[string]float64{}, PageP99Ms: map[string]float64{}}

	// Seed: dates five minutes apart ending now, so the list's order is the
	// arrival order a real mailbox would have over about a year.
	people := sim.DemoPeople()
	start := time.Now()
	end := start
	var next, done atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < cfg.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= cfg.Count {
					return
				}
				from := people[i%len(people)]
				body := mailboxMessage(i, from.Name, from.Email, cfg.Person)
				sum, err := message.Summarize(body)
				if err == nil {
					var c *store.Content
					if c, err = st.PrepareContent(ctx, body, sum.Marshal()); err == nil {
						var flags []string
						if i < cfg.Count-200 { // all but the newest 200 have been read
							flags = []string{store.FlagSeen}
						}
						_, err = st.Append(ctx, box.ID, c, flags, end.Add(-time.Duration(cfg.Count-i)*5*time.Minute))
					}
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				if n := done.Add(1); n%10000 == 0 {
					fmt.Fprintf(cfg.Out, "  %d messages (%.0f/s)\n", n, float64(n)/time.Since(start).Seconds())
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	res.SeedSeconds = time.Since(start).Seconds()
	res.PerSecond = float64(cfg.Count) / res.SeedSeconds

	// The service's side of the message list and of the conversation list
	// (the mail service groups and keeps the grouping).
	msvc := mail.New(st, nil)
	t0 := time.Now()
	th, err := msvc.Conversations(ctx, box.ID)
	if err != nil {
		return nil, err
	}
	res.GroupMs = float64(time.Since(t0).Microseconds()) / 1000
	res.Conversations = len(th.List)
	t0 = time.Now()
	if _, err := msvc.Conversations(ctx, box.ID); err != nil {
		return nil, err
	}
	res.GroupCachedMs = float64(time.Since(t0).Microseconds()) / 1000
	// One arrival, then one removal: the grouping is brought up to date.
	c, err := st.PrepareContent(ctx, mailboxMessage(cfg.Count, "Amira Khan", "amira.khan@nhs.test", cfg.Person), nil)
	if err != nil {
		return nil, err
	}
	sum, err := message.Summarize(mailboxMessage(cfg.Count, "Amira Khan", "amira.khan@nhs.test", cfg.Person))
	if err != nil {
		return nil, err
	}
	c.Summary = sum.Marshal()
	uid, err := st.Append(ctx, box.ID, c, nil, end)
	if err != nil {
		return nil, err
	}
	if res.GroupArrival, err = timeGroup(ctx, msvc, box.ID); err != nil {
		return nil, err
	}
	if _, _, err := st.SetFlags(ctx, box.ID, []uint32{uid}, store.FlagsAdd, []string{store.FlagDeleted}, 0); err != nil {
		return nil, err
	}
	if _, err := st.Expunge(ctx, box.ID, []uint32{uid}); err != nil {
		return nil, err
	}
	if res.GroupRemoval, err = timeGroup(ctx, msvc, box.ID); err != nil {
		return nil, err
	}
	for _, off := range Offsets {
		if off >= cfg.Count {
			continue
		}
		var d []time.Duration
		for range cfg.Samples {
			t0 := time.Now()
			uids, _, err := st.UIDsByDate(ctx, box.ID, time.Time{}, time.Time{}, off, 100)
			if err != nil {
				return nil, err
			}
			if _, err := st.Messages(ctx, box.ID, uids); err != nil {
				return nil, err
			}
			d = append(d, time.Since(t0))
		}
		res.PageP50Ms[fmt.Sprint(off)] = sim.PercentileMs(d, 50)
		res.PageP99Ms[fmt.Sprint(off)] = sim.PercentileMs(d, 99)
	}
	if err := benchSearch(ctx, st, box.ID, cfg.Samples, res); err != nil {
		return nil, err
	}
	return res, nil
}

// benchSearch lets the word indexer catch up, then times the searches as
// the web door runs them: each word expanded, then the folder's index query.
func benchSearch(ctx context.Context, st *store.Store, box int64, samples int, res *MailboxResult) error {
	t0 := time.Now()
	for {
		n, err := st.IndexWords(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
	}
	res.IndexCatchUp = time.Since(t0).Seconds()
	res.SearchMs, res.SearchHits = map[string]float64{}, map[string]int{}
	for _, q := range SearchQueries {
		var d []time.Duration
		for range samples {
			t0 := time.Now()
			var terms [][]int64
			for _, w := range strings.Fields(q) {
				keys, _, err := st.ExpandWord(ctx, w)
				if err != nil {
					return err
				}
				terms = append(terms, keys)
			}
			hits, err := st.SearchIndex(ctx, box, terms, time.Time{}, time.Time{})
			if err != nil {
				return err
			}
			d = append(d, time.Since(t0))
			res.SearchHits[q] = len(hits)
		}
		res.SearchMs[q] = sim.PercentileMs(d, 50)
	}
	return nil
}

func timeGroup(ctx context.Context, msvc *mail.Service, box int64) (float64, error) {
	t0 := time.Now()
	_, err := msvc.Conversations(ctx, box)
	return float64(time.Since(t0).Microseconds()) / 1000, err
}

var mailboxSubjects = []string{"Ward round", "Rota for next week", "Pharmacy stock", "Referral", "Bed management", "Discharge summary",
	"Training reminder", "Theatre list", "Audit results", "Handover notes", "Clinic letters", "Infection control"}

// mailboxMessage is message i: every fifth one replies to the one five
// before it, so about a fifth of the folder forms conversations.
func mailboxMessage(i int, name, from, to string) []byte {
	subject := fmt.Sprintf("%s %d", mailboxSubjects[i%len(mailboxSubjects)], i/5)
	refs := ""
	if i%5 == 4 {
		subject = fmt.Sprintf("Re: %s %d", mailboxSubjects[(i-4)%len(mailboxSubjects)], (i-4)/5)
		refs = fmt.Sprintf("In-Reply-To: <bench-%d@nhs.test>\r\nReferences: <bench-%d@nhs.test>\r\n", i-4, i-4)
	}
	return fmt.Appendf(nil, "From: %s <%s>\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <bench-%d@nhs.test>\r\n%sDate: Mon, 2 Nov 2026 08:00:00 +0000\r\n"+
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nMessage %d of the list benchmark.\r\nThe ward round starts at eight; bed %d needs a review.\r\n",
		name, from, to, subject, i, refs, i, i%40)
}

// Print writes the figures.
func (r *MailboxResult) Print(w io.Writer) {
	fmt.Fprintf(w, "folder %d: %d messages seeded in %.1f s (%.0f/s)\n", r.Folder, r.Messages, r.SeedSeconds, r.PerSecond)
	fmt.Fprintf(w, "conversations: %d, grouped in %.1f ms (cold), %.2f ms (unchanged folder), %.1f ms after an arrival, %.1f ms after a removal\n",
		r.Conversations, r.GroupMs, r.GroupCachedMs, r.GroupArrival, r.GroupRemoval)
	fmt.Fprintf(w, "%-8s %10s %10s\n", "offset", "p50 ms", "p99 ms")
	for _, off := range Offsets {
		k := fmt.Sprint(off)
		if _, ok := r.PageP50Ms[k]; ok {
			fmt.Fprintf(w, "%-8d %10.2f %10.2f\n", off, r.PageP50Ms[k], r.PageP99Ms[k])
		}
	}
	fmt.Fprintf(w, "word index caught up %.1f s after seeding; searches (p50):\n", r.IndexCatchUp)
	for _, q := range SearchQueries {
		fmt.Fprintf(w, "  %-12q %8.1f ms  %6d messages\n", q, r.SearchMs[q], r.SearchHits[q])
	}
}
