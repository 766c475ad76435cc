package imapd

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// noIndexer opens the store without the background word indexer, so a test
// decides which bodies are indexed (catchUp) and which are not yet.
func noIndexer(o *envOptions) { o.indexEvery = -1 }

// catchUp indexes every body waiting for the word indexer.
func (e *testEnv) catchUp(t testing.TB) {
	t.Helper()
	for {
		n, err := e.store.IndexWords(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func textMsg(i int, subject, text string) string {
	return fmt.Sprintf("From: Sender <s%d@nhs.test>\r\nTo: Alice <alice@nhs.test>\r\nSubject: %s\r\n"+
		"Date: Tue, 05 Mar 2024 09:00:00 +0000\r\nMessage-ID: <t%d@nhs.test>\r\nX-Ward: Ward-%d\r\n\r\n%s\r\n", i, subject, i, i, text)
}

func uidSearch(t testing.TB, c *imapclient.Client, crit *imap.SearchCriteria) []imap.UID {
	t.Helper()
	d, err := c.UIDSearch(crit, nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	u := d.AllUIDs()
	slices.Sort(u)
	return u
}

// TestSearchBodyWordIndex: SEARCH BODY and TEXT, answered with the word
// index, find a whole word, a prefix, a string starting mid-word, a phrase,
// punctuation, and a message delivered after the indexer last ran.
func TestSearchBodyWordIndex(t *testing.T) {
	e := newEnv(t, noIndexer)
	u1 := e.deliver(t, e.alice, textMsg(1, "Dose", "The heparin dose was reviewed on the ward."))
	u2 := e.deliver(t, e.alice, textMsg(2, "Beds", "Discharge summary for bed seven"))
	u3 := e.deliver(t, e.alice, textMsg(3, "Flush", "Heparinised saline flush, per protocol."))
	e.catchUp(t)
	u4 := e.deliver(t, e.alice, textMsg(4, "Late", "late HEPARIN note")) // not indexed yet
	c := e.client(t, "alice@nhs.test", nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		crit imap.SearchCriteria
		want []imap.UID
	}{
		{"word", imap.SearchCriteria{Body: []string{"heparin"}}, []imap.UID{imap.UID(u1), imap.UID(u3), imap.UID(u4)}},
		{"prefix", imap.SearchCriteria{Body: []string{"Hepa"}}, []imap.UID{imap.UID(u1), imap.UID(u3), imap.UID(u4)}},
		{"mid-word", imap.SearchCriteria{Body: []string{"arinis"}}, []imap.UID{imap.UID(u3)}},
		{"mid-word in unindexed", imap.SearchCriteria{Body: []string{"eparin no"}}, []imap.UID{imap.UID(u4)}},
		{"phrase", imap.SearchCriteria{Body: []string{"dose was rev"}}, []imap.UID{imap.UID(u1)}},
		{"whole word only", imap.SearchCriteria{Body: []string{" bed "}}, []imap.UID{imap.UID(u2)}},
		{"punctuation", imap.SearchCriteria{Body: []string{"."}}, []imap.UID{imap.UID(u1), imap.UID(u3)}},
		{"absent", imap.SearchCriteria{Body: []string{"warfarin"}}, nil},
		{"text in body", imap.SearchCriteria{Text: []string{"saline"}}, []imap.UID{imap.UID(u3)}},
		{"text in header only", imap.SearchCriteria{Text: []string{"ward-2"}}, []imap.UID{imap.UID(u2)}},
		{"body and text", imap.SearchCriteria{Body: []string{"heparin"}, Text: []string{"flush"}}, []imap.UID{imap.UID(u3)}},
		{"body or body", imap.SearchCriteria{Or: [][2]imap.SearchCriteria{{{Body: []string{"seven"}}, {Body: []string{"note"}}}}}, []imap.UID{imap.UID(u2), imap.UID(u4)}},
		{"not body", imap.SearchCriteria{Not: []imap.SearchCriteria{{Body: []string{"heparin"}}}}, []imap.UID{imap.UID(u2)}},
	} {
		if got := uidSearch(t, c, &tc.crit); !slices.Equal(got, tc.want) {
			t.Errorf("%s: UID SEARCH found %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestSearchBodySameAsScan: on a mailbox of indexed and unindexed messages,
// SEARCH BODY and TEXT answer as reading every message does.
func TestSearchBodySameAsScan(t *testing.T) {
	e := newEnv(t, noIndexer)
	texts := []string{
		"Heparin infusion started at 18:00.", "heparinised line; flush q4h", "Ward round: bed 7 discharged",
		"Discharge letter sent to GP", "Wardmail test: ward-3 handover", "Urgent: potassium 6.1 mmol/L",
		"Re-check potassium tomorrow", "Thrombolysis pathway activated", "no words here!!!", "x y z",
		"Bed-7 reassigned to ward 3", "GP letter: heparin stopped",
	}
	for i := 0; i < 48; i++ {
		e.deliver(t, e.alice, textMsg(i, fmt.Sprintf("Note %d", i%5), texts[i%len(texts)]))
		if i == 30 {
			e.catchUp(t) // the rest wait for the indexer
		}
	}
	c := e.client(t, "alice@nhs.test", nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	needles := []string{"heparin", "HEPA", "parin", "arin inf", "ward", "ward 3", "ward-3", "bed", "bed 7", "7 dis",
		"potassium 6", "6.1", ":", "!!!", "x", "note 3", "letter", "etter sent", "thrombo", "pathway activated.", "gp", "zzz"}
	for _, n := range needles {
		for _, key := range []string{"BODY", "TEXT"} {
			crit := imap.SearchCriteria{Body: []string{n}}
			if key == "TEXT" {
				crit = imap.SearchCriteria{Text: []string{n}}
			}
			e.srv.scanText.Store(false)
			got := uidSearch(t, c, &crit)
			e.srv.scanText.Store(true)
			want := uidSearch(t, c, &crit)
			if !slices.Equal(got, want) {
				t.Errorf("%s %q: with the index %v, by scanning %v", key, n, got, want)
			}
		}
	}
}

// BenchmarkSearchBody10k measures UID SEARCH BODY for a word held by 10
// messages of a 10,000-message INBOX, all indexed, through go-imap's client
// over loopback TLS: "scan" reads every message (the search before the word
// index), "index" asks the index first. It prints ms/op; it asserts nothing
// on time.
func BenchmarkSearchBody10k(b *testing.B) {
	const n = 10000
	e := newEnv(b, noIndexer)
	fill10k(b, e, n-10)
	for i := 0; i < 10; i++ {
		e.deliver(b, e.alice, textMsg(i, "Stroke", "Thrombolysis pathway activated, door to needle 42 minutes."))
	}
	e.catchUp(b)
	c := e.client(b, "alice@nhs.test", nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{"scan", "index"} {
		b.Run(mode, func(b *testing.B) {
			e.srv.scanText.Store(mode == "scan")
			start := time.Now()
			for i := 0; i < b.N; i++ {
				if got := uidSearch(b, c, &imap.SearchCriteria{Body: []string{"thrombolysis"}}); len(got) != 10 {
					b.Fatalf("%d found", len(got))
				}
			}
			b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(b.N), "ms/op")
		})
	}
}
