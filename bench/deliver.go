// Package bench measures Wardmail through its real doors and prints figures
// (`wardmail bench ...`). Nothing here asserts on time: the figures go in
// docs/benchmarks.md with the command that produced them.
package bench

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"wardmail/auth"
	"wardmail/message"
	"wardmail/server"
	"wardmail/sim"
	"wardmail/store"
)

// DeliverConfig sets up `wardmail bench deliver`.
type DeliverConfig struct {
	Clients  int // concurrent SMTP submission clients (20)
	Messages int // messages to send in all (20,000)
	Size     int // bytes per message (2,048)
	People   int // recipients the messages spread over (200)
	Readers  int // concurrent IMAP LOGIN+SELECT samplers (4)
	// OpenEvery paces each sampler: one LOGIN+SELECT per interval (500ms).
	// Samplers that loop back to back would be a load of their own: every
	// LOGIN costs an argon2id hash, ~35 ms of a core.
	OpenEvery time.Duration
	Idle      time.Duration // how long readers are measured before the load (5s)
	DataDir   string        // empty: a temporary folder, removed afterwards
	// Database is a PostgreSQL database (postgres://...) to run on, as
	// serve's --database; empty: SQLite in the data folder.
	Database string
	Out      io.Writer
	// LoadProfile, when set, receives a CPU profile of the load phase
	// alone: not the seeding nor the idle measurement before it.
	LoadProfile io.Writer
}

// DeliverResult holds the figures.
type DeliverResult struct {
	Messages       int     `json:"messages"`
	Seconds        float64 `json:"seconds"`
	PerSecond      float64 `json:"messages_per_second"`
	SubmitP50Ms    float64 `json:"submit_p50_ms"`
	SubmitP99Ms    float64 `json:"submit_p99_ms"`
	VisibleP50Ms   float64 `json:"visible_p50_ms"`
	VisibleP99Ms   float64 `json:"visible_p99_ms"`
	VisibleSamples int     `json:"visible_samples"`
	IdleOpenP50Ms  float64 `json:"imap_open_idle_p50_ms"`
	IdleOpenP99Ms  float64 `json:"imap_open_idle_p99_ms"`
	LoadOpenP50Ms  float64 `json:"imap_open_load_p50_ms"`
	LoadOpenP99Ms  float64 `json:"imap_open_load_p99_ms"`
	OpenSamples    [2]int  `json:"imap_open_samples"`
	// The SELECT alone, without the argon2id hash that LOGIN pays.
	IdleSelectP50Ms float64     `json:"imap_select_idle_p50_ms"`
	IdleSelectP99Ms float64     `json:"imap_select_idle_p99_ms"`
	LoadSelectP50Ms float64     `json:"imap_select_load_p50_ms"`
	LoadSelectP99Ms float64     `json:"imap_select_load_p99_ms"`
	Stored          int         `json:"stored_rows_checked"`
	Writer          WriterStats `json:"store_writer"`
}

const benchPassword = "bench-password-2026"

// Deliver runs the delivery benchmark against an in-process server started
// on loopback ports with the embedded SQLite store.
func Deliver(ctx context.Context, cfg DeliverConfig) (*DeliverResult, error) {
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.OpenEvery <= 0 {
		cfg.OpenEvery = 500 * time.Millisecond
	}
	dir := cfg.DataDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "wardmail-bench-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
	}
	sc := server.Defaults()
	sc.DataDir, sc.Database = dir, cfg.Database
	sc.Hostname = "bench.nhs.test"
	sc.SMTPAddr, sc.SubmissionAddr, sc.IMAPAddr, sc.HTTPAddr = "", "127.0.0.1:0", "127.0.0.1:0", ""
	// Throughput, not policy: each simulated client sends far more than a
	// person's 30 messages a minute (policy.LimitConfig).
	sc.SenderLimitsOff = true
	srv, err := server.Start(ctx, sc, nil)
	if err != nil {
		return nil, err
	}
	defer srv.Close()

	fmt.Fprintf(cfg.Out, "seeding %d people (argon2id default parameters)...\n", cfg.People+cfg.Clients+cfg.Readers+1)
	senders, recipients, readers, watcher, err := seed(ctx, srv.Store, cfg)
	if err != nil {
		return nil, err
	}
	res := &DeliverResult{Messages: cfg.Messages}
	tlsc := &tls.Config{InsecureSkipVerify: true}
	subAddr, imapAddr := srv.Addrs["submission"], srv.Addrs["imap"]

	// Phase 1: IMAP opens on a quiet server.
	fmt.Fprintf(cfg.Out, "measuring IMAP LOGIN+SELECT with no load for %s...\n", cfg.Idle)
	idle, idleSel := sampleOpens(imapAddr, tlsc, readers, cfg.OpenEvery, cfg.Idle, nil)
	res.IdleOpenP50Ms, res.IdleOpenP99Ms, res.OpenSamples[0] = sim.PercentileMs(idle, 50), sim.PercentileMs(idle, 99), len(idle)
	res.IdleSelectP50Ms, res.IdleSelectP99Ms = sim.PercentileMs(idleSel, 50), sim.PercentileMs(idleSel, 99)

	// Phase 2: the load, with opens and visibility measured alongside.
	if cfg.LoadProfile != nil {
		if err := pprof.StartCPUProfile(cfg.LoadProfile); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(cfg.Out, "sending %d messages of %d bytes from %d submission clients...\n", cfg.Messages, cfg.Size, cfg.Clients)
	done := make(chan struct{})
	var loadOpens, loadSel, visible []time.Duration
	var side sync.WaitGroup
	side.Add(2)
	go func() {
		defer side.Done()
		loadOpens, loadSel = sampleOpens(imapAddr, tlsc, readers, cfg.OpenEvery, 0, done)
	}()
	go func() {
		defer side.Done()
		visible, err = watchVisible(subAddr, imapAddr, tlsc, senders[0], watcher, done)
	}()

	body := makeBody(cfg.Size)
	var sent atomic.Int64
	lat := make([][]time.Duration, cfg.Clients)
	var wg sync.WaitGroup
	start := time.Now()
	writerBefore := readWriterCounters(srv.Registry)
	var sendErr atomic.Value
	for i := 0; i < cfg.Clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := dialAuth(subAddr, tlsc, senders[i+1])
			if err != nil {
				sendErr.Store(err)
				return
			}
			defer c.Close()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			for sent.Add(1) <= int64(cfg.Messages) {
				to := recipients[rng.IntN(len(recipients))]
				t0 := time.Now()
				msg := fmt.Sprintf("From: <%s>\r\nTo: <%s>\r\nSubject: bench %d\r\n\r\n%s", senders[i+1], to, i, body)
				if err := c.SendMail(senders[i+1], []string{to}, strings.NewReader(msg)); err != nil {
					sendErr.Store(err)
					return
				}
				lat[i] = append(lat[i], time.Since(t0))
			}
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(start)
	res.Writer = writerStats(writerBefore, readWriterCounters(srv.Registry), elapsed.Seconds())
	if cfg.LoadProfile != nil {
		pprof.StopCPUProfile()
	}
	close(done)
	side.Wait()
	if e, ok := sendErr.Load().(error); ok {
		return nil, fmt.Errorf("sending: %w", e)
	}
	if err != nil {
		return nil, fmt.Errorf("watching over IMAP: %w", err)
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	res.Seconds = elapsed.Seconds()
	res.PerSecond = float64(cfg.Messages) / elapsed.Seconds()
	res.SubmitP50Ms, res.SubmitP99Ms = sim.PercentileMs(all, 50), sim.PercentileMs(all, 99)
	res.VisibleP50Ms, res.VisibleP99Ms, res.VisibleSamples = sim.PercentileMs(visible, 50), sim.PercentileMs(visible, 99), len(visible)
	res.LoadOpenP50Ms, res.LoadOpenP99Ms, res.OpenSamples[1] = sim.PercentileMs(loadOpens, 50), sim.PercentileMs(loadOpens, 99), len(loadOpens)
	res.LoadSelectP50Ms, res.LoadSelectP99Ms = sim.PercentileMs(loadSel, 50), sim.PercentileMs(loadSel, 99)

	// Every accepted message is visible: count the rows over IMAP STATUS.
	if res.Stored, err = countOverIMAP(imapAddr, tlsc, recipients); err != nil {
		return nil, err
	}
	if res.Stored != cfg.Messages {
		return res, fmt.Errorf("%d messages were accepted but %d are in the mailboxes", cfg.Messages, res.Stored)
	}
	return res, nil
}

// Print writes the figures as a table and as JSON.
func (r *DeliverResult) Print(w io.Writer) {
	fmt.Fprintf(w, "\ndelivered %d messages in %.2fs: %.0f messages/s (SMTP submission to durable)\n", r.Messages, r.Seconds, r.PerSecond)
	fmt.Fprintf(w, "submission latency         p50 %7.2f ms   p99 %7.2f ms\n", r.SubmitP50Ms, r.SubmitP99Ms)
	fmt.Fprintf(w, "submit to IMAP IDLE EXISTS p50 %7.2f ms   p99 %7.2f ms   (%d samples)\n", r.VisibleP50Ms, r.VisibleP99Ms, r.VisibleSamples)
	fmt.Fprintf(w, "IMAP LOGIN+SELECT, idle    p50 %7.2f ms   p99 %7.2f ms   (%d samples)\n", r.IdleOpenP50Ms, r.IdleOpenP99Ms, r.OpenSamples[0])
	fmt.Fprintf(w, "IMAP LOGIN+SELECT, load    p50 %7.2f ms   p99 %7.2f ms   (%d samples)\n", r.LoadOpenP50Ms, r.LoadOpenP99Ms, r.OpenSamples[1])
	fmt.Fprintf(w, "IMAP SELECT alone, idle    p50 %7.2f ms   p99 %7.2f ms\n", r.IdleSelectP50Ms, r.IdleSelectP99Ms)
	fmt.Fprintf(w, "IMAP SELECT alone, load    p50 %7.2f ms   p99 %7.2f ms\n", r.LoadSelectP50Ms, r.LoadSelectP99Ms)
	r.Writer.print(w)
	fmt.Fprintf(w, "checked over IMAP STATUS: %d messages in the recipients' INBOXes\n", r.Stored)
	b, _ := json.Marshal(r)
	fmt.Fprintf(w, "%s\n", b)
}

func seed(ctx context.Context, st *store.Store, cfg DeliverConfig) (senders, recipients, readers []string, watcher string, err error) {
	hash, err := auth.HashPassword(auth.DefaultParams(), benchPassword)
	if err != nil {
		return
	}
	var recs []store.PersonRecord
	add := func(prefix string, n int) []string {
		var out []string
		for i := 0; i < n; i++ {
			e := fmt.Sprintf("%s%d@bench.nhs.test", prefix, i)
			out = append(out, e)
			recs = append(recs, store.PersonRecord{Email: e, Name: e, Org: "Bench Trust", PasswordHash: hash})
		}
		return out
	}
	senders = add("sender", cfg.Clients+1) // senders[0] feeds the watcher
	recipients = add("rcpt", cfg.People)
	readers = add("reader", cfg.Readers)
	watcher = add("watch", 1)[0]
	if _, _, err = st.UpsertPeople(ctx, recs); err != nil {
		return
	}
	// Give readers a realistic INBOX to select: 200 messages each.
	for _, r := range readers {
		p, e := st.PersonByEmail(ctx, r)
		if e != nil {
			return nil, nil, nil, "", e
		}
		for i := 0; i < 200; i++ {
			b := []byte(fmt.Sprintf("From: a@bench.nhs.test\r\nSubject: old %d\r\n\r\nhello\r\n", i))
			sum, e := message.Summarize(b)
			if e != nil {
				return nil, nil, nil, "", e
			}
			c, e := st.PrepareContent(ctx, b, sum.Marshal())
			if e != nil {
				return nil, nil, nil, "", e
			}
			if _, e := st.Deliver(ctx, c, []int64{p.ID}, time.Now()); e != nil {
				return nil, nil, nil, "", e
			}
		}
	}
	return
}

func makeBody(size int) string {
	var b strings.Builder
	line := "The ward round starts at eight; bring the updated medication charts.\r\n"
	for b.Len() < size-200 {
		b.WriteString(line)
	}
	return b.String()
}

// sampleOpens runs LOGIN+SELECT+LOGOUT for each reader once per every,
// until stop closes (or for d when stop is nil), and returns the
// LOGIN+SELECT times and, apart, the SELECT times alone.
func sampleOpens(addr string, tlsc *tls.Config, readers []string, every, d time.Duration, stop chan struct{}) (out, selects []time.Duration) {
	var mu sync.Mutex
	failed := 0
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for i, r := range readers {
		wg.Add(1)
		go func(user string) {
			defer wg.Done()
			// Stagger the samplers so they do not queue behind each other.
			time.Sleep(every * time.Duration(i) / time.Duration(len(readers)))
			for {
				if stop == nil && time.Now().After(deadline) {
					return
				}
				if stop != nil {
					select {
					case <-stop:
						return
					default:
					}
				}
				next := time.Now().Add(every)
				c, err := imapclient.DialStartTLS(addr, &imapclient.Options{TLSConfig: tlsc})
				if err != nil {
					return
				}
				t0 := time.Now()
				var sel time.Duration
				err = c.Login(user, benchPassword).Wait()
				if err == nil {
					t1 := time.Now()
					_, err = c.Select("INBOX", nil).Wait()
					sel = time.Since(t1)
				}
				el := time.Since(t0)
				_ = c.Logout().Wait()
				_ = c.Close()
				if err != nil {
					// A temporary NO [UNAVAILABLE] when the hashing pool
					// is saturated: count it, wait, go on, as a client would.
					mu.Lock()
					failed++
					mu.Unlock()
					time.Sleep(200 * time.Millisecond)
					continue
				}
				mu.Lock()
				out = append(out, el)
				selects = append(selects, sel)
				mu.Unlock()
				time.Sleep(time.Until(next))
			}
		}(r)
	}
	wg.Wait()
	if failed > 0 {
		fmt.Fprintf(os.Stderr, "  (%d IMAP sign-ins answered NO [UNAVAILABLE] while the hashing pool was full; retried)\n", failed)
	}
	return out, selects
}

// watchVisible sends one message every 100 ms to the watcher, who sits in
// IMAP IDLE, and measures from the start of the SMTP transaction to the
// EXISTS that announces it.
func watchVisible(subAddr, imapAddr string, tlsc *tls.Config, sender, watcher string, stop chan struct{}) ([]time.Duration, error) {
	exists := make(chan uint32, 16)
	c, err := imapclient.DialStartTLS(imapAddr, &imapclient.Options{TLSConfig: tlsc,
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				exists <- *d.NumMessages
			}
		}}})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.Login(watcher, benchPassword).Wait(); err != nil {
		return nil, err
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		return nil, err
	}
	idle, err := c.Idle()
	if err != nil {
		return nil, err
	}
	s, err := dialAuth(subAddr, tlsc, sender)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	var out []time.Duration
	var n uint32
	for i := 0; ; i++ {
		select {
		case <-stop:
			_ = idle.Close()
			return out, nil
		case <-time.After(100 * time.Millisecond):
		}
		t0 := time.Now()
		msg := fmt.Sprintf("From: <%s>\r\nSubject: watch %d\r\n\r\nping\r\n", sender, i)
		if err := s.SendMail(sender, []string{watcher}, strings.NewReader(msg)); err != nil {
			return out, err
		}
		n++
		if err := awaitExists(exists, n); err != nil {
			return out, err
		}
		out = append(out, time.Since(t0))
	}
}

// dialAuth connects and signs in over SMTP submission. While the server's
// password-hashing pool is saturated it answers 454 (temporary); like a mail
// client, this waits and tries again on a new connection.
func dialAuth(addr string, tlsc *tls.Config, user string) (*smtp.Client, error) {
	var err error
	for try := 0; try < 30; try++ {
		var c *smtp.Client
		if c, err = smtp.DialStartTLS(addr, tlsc); err != nil {
			return nil, err
		}
		err = c.Auth(sasl.NewPlainClient("", user, benchPassword))
		if err == nil {
			return c, nil
		}
		_ = c.Close()
		var se *smtp.SMTPError
		if !errors.As(err, &se) || se.Code != 454 {
			return nil, err
		}
		time.Sleep(time.Duration(100*(try+1)) * time.Millisecond)
	}
	return nil, err
}

// awaitExists waits until the IDLE session reports at least n messages.
func awaitExists(exists <-chan uint32, n uint32) error {
	timeout := time.After(10 * time.Second)
	for {
		select {
		case got := <-exists:
			if got >= n {
				return nil
			}
		case <-timeout:
			return fmt.Errorf("message %d never showed up in IDLE", n)
		}
	}
}

func countOverIMAP(addr string, tlsc *tls.Config, people []string) (int, error) {
	total := 0
	for _, p := range people {
		c, err := imapclient.DialStartTLS(addr, &imapclient.Options{TLSConfig: tlsc})
		if err != nil {
			return 0, err
		}
		if err := c.Login(p, benchPassword).Wait(); err != nil {
			c.Close()
			return 0, err
		}
		sel, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait()
		if err != nil {
			c.Close()
			return 0, err
		}
		total += int(sel.NumMessages)
		_ = c.Logout().Wait()
		_ = c.Close()
	}
	return total, nil
}
