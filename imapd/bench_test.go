package imapd

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"wardmail/message"
)

// BenchmarkSelectFetch10k measures what a client opening a large mailbox
// costs: LOGIN, SELECT and UID FETCH 1:* (FLAGS ENVELOPE) over loopback TLS
// on a 10,000-message INBOX. It prints ms/op; it asserts nothing on time.
func BenchmarkSelectFetch10k(b *testing.B) {
	const n = 10000
	e := newEnv(b)
	fill10k(b, e, n)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		c := e.client(b, "alice@nhs.test", nil)
		sel, err := c.Select("INBOX", nil).Wait()
		if err != nil {
			b.Fatal(err)
		}
		if sel.NumMessages != n {
			b.Fatalf("%d messages", sel.NumMessages)
		}
		msgs, err := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}, &imap.FetchOptions{Flags: true, Envelope: true}).Collect()
		if err != nil {
			b.Fatal(err)
		}
		if len(msgs) != n || msgs[n-1].Envelope == nil {
			b.Fatalf("%d messages fetched", len(msgs))
		}
		if err := c.Logout().Wait(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(b.N), "ms/op")
}

// fill10k delivers n small messages to alice, concurrently so that the
// store's group commit batches the writes as it would under real load.
func fill10k(b *testing.B, e *testEnv, n int) {
	// Deliver concurrently so the store's group commit batches the writes.
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	const workers = 64
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < n; i += workers {
				body := fmt.Sprintf("From: Sender %d <s%d@nhs.test>\r\nTo: Alice <alice@nhs.test>\r\nSubject: Message %d\r\n"+
					"Date: Tue, 05 Mar 2024 09:00:00 +0000\r\nMessage-ID: <m%d@nhs.test>\r\n\r\nBody %d\r\n", i, i, i, i, i)
				if _, err := e.deliverErr(e.alice, body); err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
			}
		}(w)
	}
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
}

// BenchmarkSelectCondstore10k measures a CONDSTORE client reopening a
// 10,000-message INBOX: LOGIN, SELECT (CONDSTORE), then UID FETCH 1:*
// (FLAGS) (CHANGEDSINCE m) for the flags changed since its last visit,
// after 100 flag changes. The first open after delivery is reported apart
// as first-ms.
func BenchmarkSelectCondstore10k(b *testing.B) {
	const n = 10000
	e := newEnv(b)
	fill10k(b, e, n)
	c := e.client(b, "alice@nhs.test", nil)
	t0 := time.Now()
	sel, err := c.Select("INBOX", &imap.SelectOptions{CondStore: true}).Wait()
	if err != nil {
		b.Fatal(err)
	}
	first := time.Since(t0)
	before := sel.HighestModSeq
	var seen imap.UIDSet
	for i := 1; i <= 100; i++ {
		seen.AddNum(imap.UID(i * 97))
	}
	if err := c.Store(seen, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
		b.Fatal(err)
	}
	_ = c.Logout().Wait()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		c := e.client(b, "alice@nhs.test", nil)
		sel, err := c.Select("INBOX", &imap.SelectOptions{CondStore: true}).Wait()
		if err != nil {
			b.Fatal(err)
		}
		if sel.NumMessages != n || sel.HighestModSeq <= before {
			b.Fatalf("%d messages, HIGHESTMODSEQ %d", sel.NumMessages, sel.HighestModSeq)
		}
		msgs, err := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}, &imap.FetchOptions{Flags: true, ChangedSince: before}).Collect()
		if err != nil {
			b.Fatal(err)
		}
		if len(msgs) != 100 {
			b.Fatalf("%d changed messages, want 100", len(msgs))
		}
		if err := c.Logout().Wait(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(b.N), "ms/op")
	b.ReportMetric(float64(first.Microseconds())/1000, "first-ms")
}

// BenchmarkMailbox100k measures UID SORT (REVERSE ARRIVAL) and UID THREAD
// REFERENCES over a whole 100,000-message INBOX, through go-imap's client
// over loopback TLS. The messages come in conversations of up to 8 (each
// reply references the conversation's earlier messages), arriving five
// minutes apart. It prints ms/op; it asserts nothing on time.
func BenchmarkMailbox100k(b *testing.B) {
	const n = 100000
	e := newEnv(b)
	if err := e.store.EnsureMailboxes(context.Background(), e.alice); err != nil {
		b.Fatal(err)
	}
	box, err := e.store.MailboxByName(context.Background(), e.alice, "INBOX")
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	const workers = 32
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < n; i += workers {
				conv, pos := i/8, i%8
				refs := ""
				for k := 0; k < pos; k++ {
					refs += fmt.Sprintf(" <c%d.%d@nhs.test>", conv, k)
				}
				subject := fmt.Sprintf("Conversation %d", conv)
				if pos > 0 {
					subject = "Re: " + subject
					refs = "References:" + refs + "\r\n"
				}
				body := fmt.Sprintf("From: s%d@nhs.test\r\nTo: alice@nhs.test\r\nSubject: %s\r\nMessage-ID: <c%d.%d@nhs.test>\r\n%s"+
					"Date: %s\r\n\r\nBody %d\r\n", i%500, subject, conv, pos, refs, t0.Add(time.Duration(i)*5*time.Minute).Format(time.RFC1123Z), i)
				if err := appendRaw(e, box.ID, body, t0.Add(time.Duration(i)*5*time.Minute)); err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
			}
		}(w)
	}
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	b.Logf("filled %d messages in %v", n, time.Since(t0))
	c := e.client(b, "alice@nhs.test", nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		b.Fatal(err)
	}
	b.Run("UIDSortReverseArrival", func(b *testing.B) {
		start := time.Now()
		for i := 0; i < b.N; i++ {
			uids, err := c.UIDSort(&imapclient.SortOptions{SearchCriteria: &imap.SearchCriteria{},
				SortCriteria: []imapclient.SortCriterion{{Key: imapclient.SortKeyArrival, Reverse: true}}}).Wait()
			if err != nil || len(uids) != n {
				b.Fatalf("%d UIDs, %v", len(uids), err)
			}
		}
		b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(b.N), "ms/op")
	})
	b.Run("UIDThreadReferences", func(b *testing.B) {
		start := time.Now()
		for i := 0; i < b.N; i++ {
			threads, err := c.UIDThread(&imapclient.ThreadOptions{Algorithm: imap.ThreadReferences, SearchCriteria: &imap.SearchCriteria{}}).Wait()
			if err != nil || len(threads) != n/8 {
				b.Fatalf("%d threads, %v", len(threads), err)
			}
		}
		b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(b.N), "ms/op")
	})
}

// appendRaw stores a message in a mailbox as APPEND does.
func appendRaw(e *testEnv, mailboxID int64, body string, date time.Time) error {
	ctx := context.Background()
	sum, err := message.Summarize([]byte(body))
	if err != nil {
		return err
	}
	c, err := e.store.PrepareContent(ctx, []byte(body), sum.Marshal())
	if err != nil {
		return err
	}
	_, err = e.store.Append(ctx, mailboxID, c, nil, date)
	return err
}

// BenchmarkStartTLSLogin measures a sign-in as a client whose socket keeps
// Nagle's algorithm on (as Python's imaplib and many mail clients do):
// connect, STARTTLS, the TLS 1.3 handshake, LOGIN. The LOGIN after the
// handshake waited for the server's delayed ACK of the client's Finished
// (about 40 ms on Linux) until the server sent that ACK at once (package
// quickack). It prints ms/op; it asserts nothing on time.
func BenchmarkStartTLSLogin(b *testing.B) {
	e := newEnv(b)
	start := time.Now()
	for i := 0; i < b.N; i++ {
		nc, err := net.Dial("tcp", e.plainAddr)
		if err != nil {
			b.Fatal(err)
		}
		if err := nc.(*net.TCPConn).SetNoDelay(false); err != nil {
			b.Fatal(err)
		}
		r := newRaw(b, nc)
		if got := last(r.cmd("a", "STARTTLS")); !strings.HasPrefix(got, "a OK") {
			b.Fatalf("STARTTLS: %q", got)
		}
		tc := tls.Client(nc, e.clientTLS)
		if err := tc.Handshake(); err != nil {
			b.Fatal(err)
		}
		r.nc, r.br = tc, bufio.NewReader(tc)
		if got := last(r.cmd("b", `LOGIN alice@nhs.test "`+testPassword+`"`)); !strings.HasPrefix(got, "b OK") {
			b.Fatalf("LOGIN: %q", got)
		}
		_ = tc.Close()
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/op")
}
