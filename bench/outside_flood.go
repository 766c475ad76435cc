package bench

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"wardmail/auth"
	"wardmail/sim"
	"wardmail/store"
	"wardmail/store/sqlite"
)

// The list flood: named senders post to a list of every bench person while
// readers keep opening random members' mailboxes (a new connection, LOGIN
// with an app password, SELECT INBOX, UID FETCH 1:* (FLAGS ENVELOPE)).
// Each open of a member's INBOX after a post also takes in that member's
// pending posts (DESIGN section 3), so the flood reaches the readers'
// opens as writes of their own.

const (
	floodList    = "flood@nhs.test"
	floodSenders = 20
	floodReaders = 200 // members with an app password, opened at random
)

// OutsideFlood is what the flood measured.
type OutsideFlood struct {
	Posts             int     `json:"posts"`
	Members           int     `json:"members"`
	PostSeconds       float64 `json:"post_seconds"`
	QuietOpens        int     `json:"quiet_opens"`
	QuietP50Ms        float64 `json:"quiet_open_p50_ms"`
	QuietP99Ms        float64 `json:"quiet_open_p99_ms"`
	AfterOpens        int     `json:"after_opens"`
	AfterP50Ms        float64 `json:"after_open_p50_ms"`
	AfterP99Ms        float64 `json:"after_open_p99_ms"`
	FloodOpens        int     `json:"flood_opens"`
	FloodP50Ms        float64 `json:"flood_open_p50_ms"`
	FloodP99Ms        float64 `json:"flood_open_p99_ms"`
	P99Ratio          float64 `json:"flood_p99_over_quiet_p99"`
	OpenErrors        int     `json:"open_errors"`
	LoadBefore        float64 `json:"load_average_before"`
	SelectP99Ms       float64 `json:"flood_select_p99_ms"`
	QuietSelP99       float64 `json:"quiet_select_p99_ms"`
	MaterialisedTotal float64 `json:"materialised"`
	// Steps are per-step figures of the three phases: quiet before, during
	// (the posts and the 10 s after), quiet after.
	Steps [3]FloodSteps `json:"steps"`
	// Burst is the opens that began while the senders were posting: the
	// p99 of the whole phase is its second-slowest open, nearly always one
	// of these few, so they are shown apart.
	Burst   FloodBurst  `json:"burst"`
	slowest []floodOpen // the flood phase's opens
}

type floodSecrets struct {
	Senders, Readers []string          // addresses
	Secrets          map[string]string // app passwords by address
}

// seedFlood adds the senders, the list of every bench person (owned by the
// senders, who alone may post), and app passwords for the senders and
// floodReaders random members.
func seedFlood(ctx context.Context, dir string, people int) (*floodSecrets, error) {
	st, err := sqlite.Open(ctx, dir, sqlite.Options{})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	fs := &floodSecrets{Secrets: map[string]string{}}
	var recs []store.PersonRecord
	for i := 1; i <= floodSenders; i++ {
		a := fmt.Sprintf("sender%d@nhs.test", i)
		fs.Senders = append(fs.Senders, a)
		recs = append(recs, store.PersonRecord{Email: a, Name: fmt.Sprint("Named sender ", i), Org: "Bench Trust"})
	}
	if _, _, err := st.UpsertPeople(ctx, recs); err != nil {
		return nil, err
	}
	var owners, members []int64
	var aps []store.AppPasswordRecord
	add := func(addr string, scope string) error {
		p, err := st.PersonByEmail(ctx, addr)
		if err != nil {
			return err
		}
		secret, hash := auth.NewAppPassword()
		fs.Secrets[addr] = secret
		aps = append(aps, store.AppPasswordRecord{PersonID: p.ID, Name: "flood", Hash: hash, Scopes: []string{scope}})
		return nil
	}
	for _, a := range fs.Senders {
		p, err := st.PersonByEmail(ctx, a)
		if err != nil {
			return nil, err
		}
		owners = append(owners, p.ID)
		if err := add(a, auth.ScopeSMTP); err != nil {
			return nil, err
		}
	}
	for k := 1; k <= people; k++ {
		p, err := st.PersonByEmail(ctx, fmt.Sprintf("%dbench@nhs.test", k))
		if err != nil {
			return nil, err
		}
		members = append(members, p.ID)
	}
	rng := rand.New(rand.NewPCG(20, 26))
	for _, k := range rng.Perm(people)[:min(floodReaders, people)] {
		a := fmt.Sprintf("%dbench@nhs.test", k+1)
		fs.Readers = append(fs.Readers, a)
		if err := add(a, auth.ScopeIMAP); err != nil {
			return nil, err
		}
	}
	if err := st.AddAppPasswords(ctx, aps); err != nil {
		return nil, err
	}
	if _, err := st.CreateList(ctx, "bench", store.ListSpec{Address: floodList, Name: "Flood", Kind: store.ListStatic,
		Owners: owners, Members: members, PostPolicy: "announce"}); err != nil {
		return nil, err
	}
	return fs, nil
}

// flood measures opens for quiet, then during posts posts.
func flood(srv *serveProc, fs *floodSecrets, members, posts int, quiet time.Duration) (*OutsideFlood, error) {
	tlsc := &tls.Config{InsecureSkipVerify: true}
	res := &OutsideFlood{Posts: posts, Members: members, LoadBefore: loadAverage()}
	m0, err := srv.metrics()
	if err != nil {
		return nil, err
	}
	var errs atomic.Int64
	var start atomic.Int64 // the flood's start, UnixNano
	var lastMu sync.Mutex
	last := map[string]uint32{} // messages each member had at their last open
	open := func(rng *rand.Rand) (o floodOpen, ok bool) {
		o.user = fs.Readers[rng.IntN(len(fs.Readers))]
		t0 := time.Now()
		if s := start.Load(); s != 0 {
			o.at = t0.Sub(time.Unix(0, s))
		}
		c, err := imapclient.DialStartTLS(srv.doors["imap"], &imapclient.Options{TLSConfig: tlsc})
		if err != nil {
			errs.Add(1)
			return o, false
		}
		defer c.Close()
		t1 := time.Now()
		if err := c.Login(o.user, fs.Secrets[o.user]).Wait(); err != nil {
			errs.Add(1)
			return o, false
		}
		t2 := time.Now()
		sd, err := c.Select("INBOX", nil).Wait()
		if err != nil {
			errs.Add(1)
			return o, false
		}
		t3 := time.Now()
		all := imap.UIDSet{}
		all.AddRange(1, 0)
		if _, err := c.Fetch(all, &imap.FetchOptions{Flags: true, Envelope: true}).Collect(); err != nil {
			errs.Add(1)
			return o, false
		}
		t4 := time.Now()
		o.connect, o.login, o.sel, o.fetch, o.total = t1.Sub(t0), t2.Sub(t1), t3.Sub(t2), t4.Sub(t3), t4.Sub(t0)
		o.messages = sd.NumMessages
		lastMu.Lock()
		o.tookIn = -1
		if n, seen := last[o.user]; seen {
			o.tookIn = int64(o.messages) - int64(n)
		}
		last[o.user] = o.messages
		lastMu.Unlock()
		_ = c.Logout().Wait()
		return o, true
	}
	// Four readers, each opening a random member's mailbox every 250 ms.
	var phase atomic.Int32 // 0 quiet, 1 flood, 2 after, 3 stop, 4 settling (not timed)
	var mu sync.Mutex
	var opens [3][]floodOpen
	var wg sync.WaitGroup
	for r := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 99))
			time.Sleep(time.Duration(r) * 250 * time.Millisecond / 4)
			for {
				ph := phase.Load()
				if ph == 3 {
					return
				}
				next := time.Now().Add(250 * time.Millisecond)
				if o, ok := open(rng); ok && phase.Load() == ph && ph < 3 {
					mu.Lock()
					opens[ph] = append(opens[ph], o)
					mu.Unlock()
				}
				time.Sleep(time.Until(next))
			}
		})
	}
	// The server's figures at each change of phase.
	// 0 start, 1 the flood starts, 2 its tail ends, 3 settled, 4 the end.
	var marks [5]map[string]float64
	var cpus [5]time.Duration
	var loads [5]float64
	mark := func(i int) {
		marks[i], _ = srv.metrics()
		cpus[i], _ = processCPU(srv.cmd.Process.Pid)
		loads[i] = loadAverage()
	}
	mark(0)
	time.Sleep(quiet)
	mark(1)
	phase.Store(1)
	t0 := time.Now()
	start.Store(t0.UnixNano())
	var next atomic.Int64
	var postErr error
	var perrMu sync.Mutex
	var pw sync.WaitGroup
	for i, s := range fs.Senders {
		pw.Go(func() {
			for k := int(next.Add(1)); k <= posts; k = int(next.Add(1)) {
				if err := postOnce(srv.doors["submission"], tlsc, s, fs.Secrets[s], k); err != nil {
					perrMu.Lock()
					postErr = fmt.Errorf("sender %d, post %d: %w", i+1, k, err)
					perrMu.Unlock()
					return
				}
			}
		})
	}
	pw.Wait()
	res.PostSeconds = time.Since(t0).Seconds()
	// The flood's tail: readers (and the idle-time trickle) take in what
	// it left pending. Then the same mailboxes, quiet again, now holding
	// the posts: what an open costs with the flood's messages in it.
	time.Sleep(quiet)
	mark(2)
	// Quiet again means the readers' mailboxes hold the posts and nothing
	// waits for them: each is opened once, untimed, first (the trickle
	// has not reached most of the list's members in these seconds).
	phase.Store(4)
	if err := settleFlood(srv, fs, tlsc); err != nil {
		return nil, err
	}
	mark(3)
	phase.Store(2)
	time.Sleep(quiet)
	mark(4)
	phase.Store(3)
	wg.Wait()
	if postErr != nil {
		return nil, postErr
	}
	totals := func(os []floodOpen) []time.Duration {
		d := make([]time.Duration, len(os))
		for i, o := range os {
			d[i] = o.total
		}
		return d
	}
	res.QuietOpens, res.FloodOpens, res.AfterOpens = len(opens[0]), len(opens[1]), len(opens[2])
	res.AfterP50Ms, res.AfterP99Ms = sim.PercentileMs(totals(opens[2]), 50), sim.PercentileMs(totals(opens[2]), 99)
	res.QuietP50Ms, res.QuietP99Ms = sim.PercentileMs(totals(opens[0]), 50), sim.PercentileMs(totals(opens[0]), 99)
	res.FloodP50Ms, res.FloodP99Ms = sim.PercentileMs(totals(opens[1]), 50), sim.PercentileMs(totals(opens[1]), 99)
	for i, at := range [3]int{0, 1, 3} { // the phases' starts; settling is left out
		res.Steps[i] = floodSteps(opens[i], marks[at], marks[at+1], (cpus[at+1] - cpus[at]).Seconds(), loads[at])
	}
	res.QuietSelP99, res.SelectP99Ms = res.Steps[0].SelectP99Ms, res.Steps[1].SelectP99Ms
	if q := max(res.QuietP99Ms, res.AfterP99Ms); q > 0 {
		res.P99Ratio = res.FloodP99Ms / q
	}
	res.slowest = opens[1]
	res.Burst = floodBurst(opens[1], time.Duration(res.PostSeconds*float64(time.Second)))
	res.OpenErrors = int(errs.Load())
	if m1, err := srv.metrics(); err == nil {
		res.MaterialisedTotal = m1["wardmail_store_materialised_total"] - m0["wardmail_store_materialised_total"]
	}
	return res, nil
}

// settleFlood opens every reader's INBOX once, four at a time, so that
// the posts still waiting for them are taken in.
func settleFlood(srv *serveProc, fs *floodSecrets, tlsc *tls.Config) error {
	work := make(chan string)
	errc := make(chan error, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for user := range work {
				c, err := imapclient.DialStartTLS(srv.doors["imap"], &imapclient.Options{TLSConfig: tlsc})
				if err == nil {
					if err = c.Login(user, fs.Secrets[user]).Wait(); err == nil {
						_, err = c.Select("INBOX", nil).Wait()
					}
					_ = c.Close()
				}
				if err != nil {
					select {
					case errc <- fmt.Errorf("settling %s: %w", user, err):
					default:
					}
				}
			}
		})
	}
	for _, u := range fs.Readers {
		work <- u
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

// postOnce posts one message to the flood list over submission: a new
// connection, STARTTLS, AUTH PLAIN with the sender's app password.
func postOnce(addr string, tlsc *tls.Config, sender, secret string, k int) error {
	c, err := smtp.DialStartTLS(addr, tlsc)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Auth(sasl.NewPlainClient("", sender, secret)); err != nil {
		return err
	}
	msg := fmt.Sprintf("From: <%s>\r\nTo: <%s>\r\nSubject: Bulletin %d\r\n\r\n%s", sender, floodList, k, makeBody(2048))
	if err := c.SendMail(sender, []string{floodList}, strings.NewReader(msg)); err != nil {
		return err
	}
	return c.Quit()
}

func (f *OutsideFlood) print(w io.Writer) {
	fmt.Fprintf(w, "list flood: %d posts to %d members in %.1fs; mailbox opens (LOGIN+SELECT+FETCH 1:*) p50/p99 quiet before %.1f/%.1f ms (%d), during and just after %.1f/%.1f ms (%d), quiet after %.1f/%.1f ms (%d): p99 %.2f× the quieter; SELECT p99 quiet %.1f, during %.1f ms; %d posts materialised; %d open errors; load %.1f\n",
		f.Posts, f.Members, f.PostSeconds, f.QuietP50Ms, f.QuietP99Ms, f.QuietOpens, f.FloodP50Ms, f.FloodP99Ms, f.FloodOpens,
		f.AfterP50Ms, f.AfterP99Ms, f.AfterOpens, f.P99Ratio,
		f.QuietSelP99, f.SelectP99Ms, int(f.MaterialisedTotal), f.OpenErrors, f.LoadBefore)
	for i, ph := range []string{"before", "during", "after"} {
		f.Steps[i].print(w, ph)
	}
	f.Burst.print(w)
	if len(f.slowest) > 0 {
		fmt.Fprintln(w, "  the slowest opens during the flood:")
		printSlowest(w, f.slowest, 8)
	}
}

// loadOrSeedFlood seeds the flood once per data folder and keeps the
// addresses and app passwords beside it.
func loadOrSeedFlood(ctx context.Context, dir string, people int) (*floodSecrets, error) {
	path := filepath.Join(dir, "bench-flood.json")
	if b, err := os.ReadFile(path); err == nil {
		var fs floodSecrets
		if err := json.Unmarshal(b, &fs); err != nil {
			return nil, err
		}
		return &fs, nil
	}
	fs, err := seedFlood(ctx, dir, people)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(fs)
	if err != nil {
		return nil, err
	}
	return fs, os.WriteFile(path, b, 0o600)
}
