package server_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"wardmail/server"
	"wardmail/store/storetest"
)

// Two servers on one PostgreSQL database: each body delivered is read and
// word-indexed by one node only (the one holding the word-index lease), a
// search on the other node still finds every message, indexed or not, and
// when the indexing node stops the other takes the job over.
func TestWordIndexRunsOnceAcrossNodes(t *testing.T) {
	if !storetest.Postgres() {
		t.Skip("several nodes share a database only on PostgreSQL: " + storetest.Env + " (make test-postgres)")
	}
	ctx := context.Background()
	dir, db := t.TempDir(), storetest.Database(t)
	start := func(name string) *server.Server {
		cfg := server.Defaults()
		cfg.DataDir, cfg.Database, cfg.Hostname, cfg.NodeName = dir, db, "mx.nhs.test", name
		cfg.SMTPAddr, cfg.SubmissionAddr, cfg.IMAPAddr, cfg.HTTPAddr = "", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
		cfg.SenderPerMinute = 10000
		srv, err := server.Start(ctx, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = srv.Close() })
		return srv
	}
	a, b := start("node-a"), start("node-b")
	seedPeople(t, a, "amira@nhs.test", "ben@nhs.test")

	// Which node indexes: the one that took the lease.
	var indexer, other *server.Server
	waitFor(t, "a node to take the word-index lease", func() bool {
		leases, err := a.Store.Leases(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range leases {
			if l.Job == server.JobWordIndex {
				indexer, other = a, b
				if l.Holder == b.Node.Name() {
					indexer, other = b, a
				}
				return true
			}
		}
		return false
	})

	const n = 120
	send := func(srv *server.Server, from, to int) {
		t.Helper()
		c, err := smtp.DialStartTLS(srv.Addrs["submission"], clientTLS)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Auth(sasl.NewPlainClient("", "amira@nhs.test", "pw-amira@nhs.test")); err != nil {
			t.Fatal(err)
		}
		for i := from; i < to; i++ {
			msg := fmt.Sprintf("From: amira@nhs.test\r\nTo: ben@nhs.test\r\nSubject: handover %d\r\n\r\nBed %d: obs stable, zebra%03d chart attached.\r\n", i, i, i)
			if err := c.SendMail("amira@nhs.test", []string{"ben@nhs.test"}, strings.NewReader(msg)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Ben searches on one node by IMAP (SEARCH BODY) and by the webmail.
	searchIMAP := func(srv *server.Server, text string) int {
		t.Helper()
		c, err := imapclient.DialStartTLS(srv.Addrs["imap"], &imapclient.Options{TLSConfig: clientTLS})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Login("ben@nhs.test", "pw-ben@nhs.test").Wait(); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Select("INBOX", nil).Wait(); err != nil {
			t.Fatal(err)
		}
		d, err := c.UIDSearch(&imap.SearchCriteria{Body: []string{text}}, nil).Wait()
		if err != nil {
			t.Fatal(err)
		}
		return len(d.AllUIDs())
	}
	searchWeb := func(srv *server.Server, q string) int {
		t.Helper()
		var out struct {
			Total int `json:"total"`
		}
		if code := newAPIClient(t, srv, "ben@nhs.test").do("GET", "/api/v1/search?q="+url.QueryEscape(q), nil, &out); code != 200 {
			t.Fatalf("webmail search %q: %d", q, code)
		}
		return out.Total
	}
	indexed := func(srv *server.Server) int {
		t.Helper()
		families, err := srv.Registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range families {
			if f.GetName() == "wardmail_store_bodies_word_indexed_total" {
				return int(f.GetMetric()[0].GetCounter().GetValue())
			}
		}
		t.Fatal("no wardmail_store_bodies_word_indexed_total")
		return 0
	}
	caughtUp := func(srv *server.Server) {
		t.Helper()
		waitFor(t, "the word index to catch up", func() bool {
			left, err := srv.Store.WordIndexBacklog(ctx, 1000)
			if err != nil {
				t.Fatal(err)
			}
			return left == 0
		})
	}
	checkSearch := func(srv *server.Server, want int, when string) {
		t.Helper()
		if got := searchIMAP(srv, "zebra"); got != want {
			t.Errorf("%s: IMAP SEARCH BODY zebra on %s found %d, want %d", when, srv.Node.Name(), got, want)
		}
		if got := searchIMAP(srv, "zebra007"); got != 1 {
			t.Errorf("%s: IMAP SEARCH BODY zebra007 on %s found %d, want 1", when, srv.Node.Name(), got)
		}
		if got := searchWeb(srv, "zebra042"); got != 1 {
			t.Errorf("%s: webmail search zebra042 on %s found %d, want 1", when, srv.Node.Name(), got)
		}
	}

	// Mail through both nodes; the node that does not index finds it all,
	// whatever part the indexer has reached.
	send(a, 0, n/2)
	send(b, n/2, n)
	if left, err := other.Store.WordIndexBacklog(ctx, 1000); err == nil {
		t.Logf("searching on %s with %d of %d bodies not indexed yet", other.Node.Name(), left, n)
	}
	checkSearch(other, n, "just delivered")
	caughtUp(a)
	if ia, ib := indexed(a), indexed(b); ia+ib != n || indexed(other) != 0 {
		t.Errorf("%d bodies delivered; indexed %d times by %s and %d times by %s, want %d in all, by %s alone",
			n, ia, a.Node.Name(), ib, b.Node.Name(), n, indexer.Node.Name())
	}
	checkSearch(other, n, "indexed")

	// The indexing node stops: the other indexes what comes next.
	before := indexed(indexer)
	if err := indexer.Close(); err != nil {
		t.Fatal(err)
	}
	send(other, n, 2*n)
	caughtUp(other)
	if got := indexed(other); got != n {
		t.Errorf("after %s stopped, %s indexed %d bodies, want the %d delivered since", indexer.Node.Name(), other.Node.Name(), got, n)
	}
	if got := indexed(indexer); got != before {
		t.Errorf("%s indexed %d bodies after it stopped", indexer.Node.Name(), got-before)
	}
	checkSearch(other, 2*n, "after the takeover")
}

// waitFor polls cond until it holds, failing t after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
