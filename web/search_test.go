package web_test

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"wardmail/blob"
	"wardmail/message"
	"wardmail/store"
	"wardmail/store/sqlite"
)

// startSearchWeb is the web door with the word indexer left to the test
// (indexAll), so what is and is not indexed yet is known.
func startSearchWeb(t *testing.T, people ...string) *testServer {
	t.Helper()
	ts := startWebWith(t, t.TempDir(), sqlite.Options{InlineMax: 8192, IndexEvery: -1})
	ts.addPeople(people...)
	return ts
}

func (ts *testServer) indexAll() {
	ts.t.Helper()
	for {
		n, err := ts.Store.IndexWords(context.Background())
		if err != nil {
			ts.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

type searchAnswer struct {
	Total    int
	Complete bool
	Messages []item
}

func (c *client) search(q string) searchAnswer {
	c.ts.t.Helper()
	var out searchAnswer
	if code := c.do("GET", "/api/v1/search?q="+url.QueryEscape(q), nil, &out); code != 200 {
		c.ts.t.Fatalf("search %q: %d", q, code)
	}
	return out
}

func subjects(items []item) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, it.Subject)
	}
	return out
}

// fillInbox stores n messages in person's INBOX straight through the store
// (the pipeline's checks are not what is tested), message i arriving i
// minutes after start, its text from text(i).
func (ts *testServer) fillInbox(person string, n int, start time.Time, text func(int) string) {
	ts.t.Helper()
	ctx := context.Background()
	p, err := ts.Store.PersonByEmail(ctx, person)
	if err != nil {
		ts.t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				raw := fmt.Sprintf("From: Amira Khan <amira@nhs.test>\r\nTo: %s\r\nSubject: Note %d\r\nMessage-ID: <note-%d@nhs.test>\r\n"+
					"Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n", person, i, i, text(i))
				sum, err := message.Summarize([]byte(raw))
				if err == nil {
					var c *store.Content
					if c, err = ts.Store.PrepareContent(ctx, []byte(raw), sum.Marshal()); err == nil {
						_, err = ts.Store.Deliver(ctx, c, []int64{p.ID}, start.Add(time.Duration(i)*time.Minute))
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		ts.t.Fatal(err)
	}
}

func TestSearchWordIndexLargeMailbox(t *testing.T) {
	ts := startSearchWeb(t, "ben@nhs.test")
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const n = 3000
	ts.fillInbox("ben@nhs.test", n, start, func(i int) string {
		switch i {
		case 17:
			return "Thrombolysis was given on the ward at 14:05."
		case 18:
			return "Heparin infusion paused; ward aware."
		}
		return fmt.Sprintf("Routine ward update number %d, nothing to report.", i)
	})
	ts.indexAll()
	b := ts.signIn("ben@nhs.test")

	test := func(q string, total int, want ...string) {
		t.Helper()
		got := b.search(q)
		if !got.Complete || got.Total != total {
			t.Errorf("search %q: total %d complete %v, want %d complete", q, got.Total, got.Complete, total)
		}
		if len(want) > 0 && fmt.Sprint(subjects(got.Messages[:min(len(want), len(got.Messages))])) != fmt.Sprint(want) {
			t.Errorf("search %q: %q, want %q", q, subjects(got.Messages), want)
		}
	}
	test("thrombolysis", 1, "Note 17")      // a word deep in the folder, found through the index
	test("THROMBOLYSIS ward", 1, "Note 17") // words ANDed, case ignored
	test("hep", 1, "Note 18")               // a prefix of a word
	test("heparin", 1, "Note 18")
	test("parin", 0)                                       // not the middle of a word (it was, before the index)
	test("amira", n)                                       // the sender's name is indexed with the body
	test("ward", n, "Note 2999", "Note 2998", "Note 2997") // every message, newest first
	test("thrombolysis before:2026-01-01", 0)
	test("from:amira thrombolysis", 1, "Note 17")

	var page searchAnswer
	if code := b.do("GET", "/api/v1/search?limit=3&offset=2&q=ward", nil, &page); code != 200 || page.Total != n ||
		fmt.Sprint(subjects(page.Messages)) != "[Note 2997 Note 2996 Note 2995]" {
		t.Errorf("page: %d %d %q", code, page.Total, subjects(page.Messages))
	}
}

func TestSearchSharedBodyAndJustDelivered(t *testing.T) {
	ts := startSearchWeb(t, "ben@nhs.test", "chloe@nhs.test", "dev@nhs.test")
	ts.deliver("amira@nhs.test", []string{"ben@nhs.test", "chloe@nhs.test"}, "From: amira@nhs.test\nTo: ben@nhs.test, chloe@nhs.test\n"+
		"Subject: Outbreak\nMessage-ID: <outbreak@nhs.test>\n\nNorovirus on ward 9: cohort the bay.\n")
	ts.deliver("amira@nhs.test", []string{"dev@nhs.test"}, "From: amira@nhs.test\nTo: dev@nhs.test\n"+
		"Subject: Other\nMessage-ID: <other@nhs.test>\n\nNothing about any virus.\n")
	b, c, d := ts.signIn("ben@nhs.test"), ts.signIn("chloe@nhs.test"), ts.signIn("dev@nhs.test")

	own := func(who *client, name string) {
		t.Helper()
		got := who.search("norovirus")
		inbox := who.folders()["INBOX"].ID
		if got.Total != 1 || len(got.Messages) != 1 || got.Messages[0].Folder != inbox || got.Messages[0].Subject != "Outbreak" {
			t.Errorf("%s: %+v, want Outbreak in INBOX %d", name, got, inbox)
		}
	}
	// Just delivered: not indexed yet, found all the same.
	own(b, "ben before indexing")
	own(c, "chloe before indexing")
	if got := d.search("norovirus"); got.Total != 0 {
		t.Errorf("dev before indexing: %+v", got)
	}
	ts.indexAll()
	own(b, "ben")
	own(c, "chloe")
	if got := d.search("norovirus"); got.Total != 0 || !got.Complete {
		t.Errorf("dev: %+v", got)
	}
	// Delivered after the index caught up: found from the tail.
	ts.deliver("amira@nhs.test", []string{"ben@nhs.test"}, "From: amira@nhs.test\nTo: ben@nhs.test\n"+
		"Subject: Update\nMessage-ID: <update@nhs.test>\n\nNorovirus bay reopened.\n")
	if got := b.search("norovirus"); got.Total != 2 || !got.Complete || fmt.Sprint(subjects(got.Messages)) != "[Update Outbreak]" {
		t.Errorf("ben after a new message: %+v", got)
	}
	if got := c.search("noro reopened"); got.Total != 0 {
		t.Errorf("chloe sees ben's new message: %+v", got)
	}
}

// With bodies encrypted at rest the index keeps no vocabulary (it would be
// their words in plain text) and keys words with a keyed hash: once a body
// is indexed, whole words are found and prefixes are not.
func TestSearchSealedBodiesWholeWords(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	if err := blob.GenerateKeyFile(key); err != nil {
		t.Fatal(err)
	}
	ts := startWebWith(t, filepath.Join(dir, "data"), sqlite.Options{InlineMax: 8192, IndexEvery: -1, KeyFile: key})
	ts.addPeople("ben@nhs.test")
	ts.deliver("amira@nhs.test", []string{"ben@nhs.test"}, "From: amira@nhs.test\nTo: ben@nhs.test\n"+
		"Subject: Pharmacy\nMessage-ID: <ph@nhs.test>\n\nHeparin stock is low.\n")
	ts.indexAll()
	b := ts.signIn("ben@nhs.test")
	if got := b.search("heparin"); got.Total != 1 || !got.Complete {
		t.Errorf("heparin: %+v", got)
	}
	if got := b.search("hep"); got.Total != 0 || !got.Complete {
		t.Errorf("hep, sealed: %+v", got)
	}
	if got := b.search("warfarin"); got.Total != 0 {
		t.Errorf("warfarin: %+v", got)
	}
}
