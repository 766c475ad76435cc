package bench

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"wardmail/auth"
	"wardmail/directory"
	"wardmail/server"
	"wardmail/sim"
	"wardmail/store"
)

// FanoutConfig sets up `wardmail bench fanout`.
type FanoutConfig struct {
	Members int // people in the directory, all on one national list (1,200,000)
	Posts   int // posts to the list (100)
	Readers int // random members who then open their INBOX (1,000)
	Workers int // concurrent IMAP readers (8)
	DataDir string
	// Database is a PostgreSQL database to run on; empty: SQLite.
	Database string
	Out      io.Writer
}

// FanoutResult holds the figures.
type FanoutResult struct {
	Members         int     `json:"members"`
	ImportSeconds   float64 `json:"import_seconds"`
	ListSeconds     float64 `json:"list_create_seconds"`
	ListSize        int64   `json:"list_size"`
	FirstPostMs     float64 `json:"first_post_accepted_ms"`
	FirstSelectP50  float64 `json:"first_select_after_post_p50_ms"`
	FirstSelectP99  float64 `json:"first_select_after_post_p99_ms"`
	FirstSelects    int     `json:"first_select_samples"`
	PostP50Ms       float64 `json:"post_accepted_p50_ms"`
	PostP99Ms       float64 `json:"post_accepted_p99_ms"`
	Posts           int     `json:"posts"`
	ReadP50Ms       float64 `json:"select_fetch_all_p50_ms"`
	ReadP99Ms       float64 `json:"select_fetch_all_p99_ms"`
	LoginP50Ms      float64 `json:"login_p50_ms"`
	LoginP99Ms      float64 `json:"login_p99_ms"`
	Readers         int     `json:"readers"`
	MessagesPerRead int     `json:"messages_per_reader"`
	MailRows        int64   `json:"mailbox_rows_materialised"`
	DiskBytes       int64   `json:"disk_bytes"`
	PeakRSSBytes    int64   `json:"peak_rss_bytes"`
}

// Fanout imports a synthetic national directory, puts everyone on one list,
// posts to it and measures what members see.
func Fanout(ctx context.Context, cfg FanoutConfig) (*FanoutResult, error) {
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	dir := cfg.DataDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "wardmail-fanout-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
	}
	sc := server.Defaults()
	sc.DataDir, sc.Database = dir, cfg.Database
	sc.Hostname = "bench.nhs.test"
	sc.SMTPAddr, sc.SubmissionAddr, sc.IMAPAddr, sc.HTTPAddr = "", "127.0.0.1:0", "127.0.0.1:0", ""
	// The trickle would materialise every member in the background; this
	// benchmark measures the post log itself, so members materialise only
	// when they read.
	sc.PostTrickle = 0
	// Throughput, not policy: each simulated client sends far more than a
	// person's 30 messages a minute (policy.LimitConfig).
	sc.SenderLimitsOff = true
	// Every reader connects from 127.0.0.1, one network to the door's
	// per-network cap; they hold their sessions open together.
	sc.IMAPMaxConnsPerNet = max(cfg.Readers+100, 1000)
	srv, err := server.Start(ctx, sc, nil)
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	st := srv.Store
	res := &FanoutResult{Members: cfg.Members, Posts: cfg.Posts, Readers: cfg.Readers}

	// 1. The directory.
	fmt.Fprintf(cfg.Out, "importing %d people...\n", cfg.Members)
	gen := sim.GenConfig{People: cfg.Members, Orgs: 250, Seed: 2016, Domain: "nhs.test"}
	pr, pw := io.Pipe()
	go func() { _, err := sim.WritePeopleCSV(pw, gen); pw.CloseWithError(err) }()
	t0 := time.Now()
	if _, err := directory.Import(ctx, st, pr, "people.csv", auth.DefaultParams()); err != nil {
		return nil, err
	}
	res.ImportSeconds = time.Since(t0).Seconds()

	// 2. The poster, two administrators and the readers get a password.
	hash, err := auth.HashPassword(auth.DefaultParams(), benchPassword)
	if err != nil {
		return nil, err
	}
	people, err := st.CountPeople(ctx)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(7, 2016))
	pick := func() (*store.Person, error) { return st.PersonByID(ctx, 1+rng.Int64N(people)) }
	poster, err := pick()
	if err != nil {
		return nil, err
	}
	var admins []*store.Person
	for range 2 {
		a, err := pick()
		if err != nil {
			return nil, err
		}
		admins = append(admins, a)
	}
	readers := map[int64]*store.Person{}
	for len(readers) < cfg.Readers {
		p, err := pick()
		if err != nil {
			return nil, err
		}
		readers[p.ID] = p
	}
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	for _, p := range append([]*store.Person{poster}, mapValues(readers)...) {
		wg.Add(1)
		go func(id int64) {
			defer wg.Done()
			if err := st.SetPassword(ctx, id, hash); err != nil {
				select {
				case errs <- err:
				default:
				}
			}
		}(p.ID)
	}
	wg.Wait()
	select {
	case err := <-errs:
		return nil, err
	default:
	}

	// 3. One list of everyone, approved by two administrators, posted to by
	// a named sender.
	fmt.Fprintf(cfg.Out, "creating a national list of everyone...\n")
	t0 = time.Now()
	l, err := st.CreateList(ctx, "bench", store.ListSpec{Address: "everyone@nhs.test", Name: "Everyone", Kind: store.ListDynamic,
		Rule: "*", Scope: "national", Owners: []int64{poster.ID}, PostPolicy: "announce"})
	if err != nil {
		return nil, err
	}
	res.ListSeconds, res.ListSize = time.Since(t0).Seconds(), l.Size
	for _, a := range admins {
		if err := st.GrantAdmin(ctx, "bench", a.ID, store.RoleNational, 0); err != nil {
			return nil, err
		}
		if _, err := st.ApproveList(ctx, a.Email, l.ID, a.ID, 2); err != nil {
			return nil, err
		}
	}

	tlsc := &tls.Config{InsecureSkipVerify: true}
	sub, err := dialAuth(srv.Addrs["submission"], tlsc, poster.Email)
	if err != nil {
		return nil, err
	}
	defer sub.Close()
	post := func(i int) (time.Duration, error) {
		msg := fmt.Sprintf("From: <%s>\r\nTo: <everyone@nhs.test>\r\nSubject: National bulletin %d\r\n\r\n%s", poster.Email, i, makeBody(2048))
		t0 := time.Now()
		err := sub.SendMail(poster.Email, []string{"everyone@nhs.test"}, strings.NewReader(msg))
		return time.Since(t0), err
	}

	// 4. The first post, and members' first SELECT after it.
	fmt.Fprintf(cfg.Out, "posting to %d members...\n", l.Size)
	d, err := post(0)
	if err != nil {
		return nil, fmt.Errorf("posting: %w", err)
	}
	res.FirstPostMs = ms(d)
	var firstSel []time.Duration
	n := 0
	for _, p := range readers {
		if n == 50 {
			break
		}
		n++
		c, err := imapclient.DialStartTLS(srv.Addrs["imap"], &imapclient.Options{TLSConfig: tlsc})
		if err != nil {
			return nil, err
		}
		if err := c.Login(p.Email, benchPassword).Wait(); err != nil {
			return nil, err
		}
		t0 := time.Now()
		sel, err := c.Select("INBOX", nil).Wait()
		firstSel = append(firstSel, time.Since(t0))
		_ = c.Logout().Wait()
		_ = c.Close()
		if err != nil {
			return nil, err
		}
		if sel.NumMessages != 1 {
			return nil, fmt.Errorf("%s has %d messages after the first post", p.Email, sel.NumMessages)
		}
	}
	res.FirstSelectP50, res.FirstSelectP99, res.FirstSelects = sim.PercentileMs(firstSel, 50), sim.PercentileMs(firstSel, 99), len(firstSel)

	// 5. The other posts.
	postTimes := []time.Duration{d}
	for i := 1; i < cfg.Posts; i++ {
		d, err := post(i)
		if err != nil {
			return nil, fmt.Errorf("posting %d: %w", i, err)
		}
		postTimes = append(postTimes, d)
	}
	res.PostP50Ms, res.PostP99Ms = sim.PercentileMs(postTimes, 50), sim.PercentileMs(postTimes, 99)

	// 6. Readers sign in first (LOGIN pays argon2id, ~20 ms of a core each,
	// which would otherwise crowd the measurement), then each opens their
	// INBOX and fetches everything.
	fmt.Fprintf(cfg.Out, "%d members sign in, then each SELECT and FETCH 1:* (FLAGS ENVELOPE)...\n", len(readers))
	type session struct {
		c     *imapclient.Client
		email string
	}
	signIn := make(chan *store.Person)
	signedIn := make(chan session, len(readers))
	var mu sync.Mutex
	var reads, logins []time.Duration
	var readErr error
	fail := func(err error) {
		mu.Lock()
		if readErr == nil {
			readErr = err
		}
		mu.Unlock()
	}
	for range cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range signIn {
				c, err := imapclient.DialStartTLS(srv.Addrs["imap"], &imapclient.Options{TLSConfig: tlsc})
				if err != nil {
					fail(err)
					continue
				}
				t0 := time.Now()
				if err := c.Login(p.Email, benchPassword).Wait(); err != nil {
					fail(err)
					_ = c.Close()
					continue
				}
				mu.Lock()
				logins = append(logins, time.Since(t0))
				mu.Unlock()
				signedIn <- session{c, p.Email}
			}
		}()
	}
	for _, p := range readers {
		signIn <- p
	}
	close(signIn)
	wg.Wait()
	close(signedIn)
	if readErr != nil {
		return nil, readErr
	}
	for range cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range signedIn {
				t0 := time.Now()
				_, err := s.c.Select("INBOX", nil).Wait()
				var msgs []*imapclient.FetchMessageBuffer
				if err == nil {
					msgs, err = s.c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}, &imap.FetchOptions{Flags: true, Envelope: true}).Collect()
				}
				d := time.Since(t0)
				_ = s.c.Logout().Wait()
				_ = s.c.Close()
				if err == nil && len(msgs) != cfg.Posts {
					err = fmt.Errorf("%s sees %d messages, want %d", s.email, len(msgs), cfg.Posts)
				}
				if err != nil {
					fail(err)
					continue
				}
				mu.Lock()
				reads = append(reads, d)
				res.MessagesPerRead = len(msgs)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if readErr != nil {
		return nil, readErr
	}
	res.ReadP50Ms, res.ReadP99Ms = sim.PercentileMs(reads, 50), sim.PercentileMs(reads, 99)
	res.LoginP50Ms, res.LoginP99Ms = sim.PercentileMs(logins, 50), sim.PercentileMs(logins, 99)
	if res.MailRows, err = st.CountMailRows(ctx); err != nil {
		return nil, err
	}
	res.DiskBytes = dirSize(dir)
	res.PeakRSSBytes = peakRSS()
	return res, nil
}

// Print writes the figures as a table and as JSON.
func (r *FanoutResult) Print(w io.Writer) {
	fmt.Fprintf(w, "\nnational list of %d members (directory import %.1fs, list built in %.1fs)\n", r.ListSize, r.ImportSeconds, r.ListSeconds)
	fmt.Fprintf(w, "first post accepted (250 OK)          %8.1f ms\n", r.FirstPostMs)
	fmt.Fprintf(w, "member's first SELECT after it        p50 %6.2f ms   p99 %6.2f ms   (%d members)\n", r.FirstSelectP50, r.FirstSelectP99, r.FirstSelects)
	fmt.Fprintf(w, "%d posts accepted                    p50 %6.2f ms   p99 %6.2f ms\n", r.Posts, r.PostP50Ms, r.PostP99Ms)
	fmt.Fprintf(w, "SELECT + FETCH 1:* of %d messages    p50 %6.2f ms   p99 %6.2f ms   (%d members)\n", r.MessagesPerRead, r.ReadP50Ms, r.ReadP99Ms, r.Readers)
	fmt.Fprintf(w, "LOGIN (argon2id) of those readers     p50 %6.2f ms   p99 %6.2f ms\n", r.LoginP50Ms, r.LoginP99Ms)
	fmt.Fprintf(w, "mailbox rows materialised: %d; disk %.1f MiB; peak RSS %.1f MiB\n", r.MailRows, float64(r.DiskBytes)/(1<<20), float64(r.PeakRSSBytes)/(1<<20))
	b, _ := json.Marshal(r)
	fmt.Fprintf(w, "%s\n", b)
}

func mapValues(m map[int64]*store.Person) []*store.Person {
	out := make([]*store.Person, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// peakRSS reads the process's high-water resident set (Linux).
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(line, "VmHWM:"), "kB")), &kb)
			return kb << 10
		}
	}
	return 0
}
