package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// IMAPStressConfig sets up `wardmail bench imap-stress`: many clients
// working on the same mailboxes at once, in the manner of Dovecot's
// imaptest (which Debian does not ship). Each client connects, says
// STARTTLS and LOGIN, runs a random mix of LIST, STATUS, SELECT, FETCH,
// STORE, EXPUNGE and APPEND on four shared mailboxes of one account, and
// after a few commands says LOGOUT and starts again. The same run is made
// against `wardmail serve` (its own process) and against Debian's Dovecot
// 2.3 on loopback (bench outside --pair's), one after the other for each
// client count, so both see the same machine.
type IMAPStressConfig struct {
	Binary   string        // the wardmail executable to serve with ("": this one)
	Clients  []int         // client counts, each a run on each side (10, 50)
	Duration time.Duration // per run (30 s)
	Seed     int           // messages put in each mailbox first (100)
	Dovecot  bool          // also measure Dovecot
	Install  bool          // apt-get install Dovecot (and Postfix, which the pair starts) when missing
	// ServerProfile: Wardmail writes a CPU profile of the whole run here.
	ServerProfile string
	Out           io.Writer
}

// IMAPStressRun is one side at one client count.
type IMAPStressRun struct {
	Side     string  `json:"side"`
	Clients  int     `json:"clients"`
	Seconds  float64 `json:"seconds"`
	Ops      int     `json:"operations"`
	OpsPerS  float64 `json:"operations_per_second"`
	Sessions int     `json:"sessions"` // LOGIN … LOGOUT
	// Protocol errors: any BAD, anything after BYE but the tagged OK, and a
	// NO where the command should have worked.
	Bad, AfterBye, UnexpectedNo int
	// ExpungedNo counts NO answers for messages another client expunged
	// meanwhile (Dovecot's "no longer exist"): the protocol allows them.
	ExpungedNo int `json:"expunged_no"`
	LastError  string
	Commands   map[string]IMAPStressCommand `json:"commands"`
	Load       float64                      `json:"load_average_before"`
}

// IMAPStressCommand is one command's figures in a run.
type IMAPStressCommand struct {
	Count   int     `json:"count"`
	PerS    float64 `json:"per_second"`
	P50Ms   float64 `json:"p50_ms"`
	P99Ms   float64 `json:"p99_ms"`
	NoCount int     `json:"no"`
}

// IMAPStressResult holds the runs.
type IMAPStressResult struct {
	Runs []IMAPStressRun `json:"runs"`
}

// stressMailboxes are the shared mailboxes every client works on.
var stressMailboxes = []string{"INBOX", "Stress1", "Stress2", "Stress3"}

// IMAPStress runs the benchmark.
func IMAPStress(ctx context.Context, cfg IMAPStressConfig) (*IMAPStressResult, error) {
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if len(cfg.Clients) == 0 {
		cfg.Clients = []int{10, 50}
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 30 * time.Second
	}
	if cfg.Seed <= 0 {
		cfg.Seed = 100
	}
	if cfg.Dovecot {
		if err := ensureTools(cfg.Out, cfg.Install, "postconf", "dovecot"); err != nil {
			return nil, err
		}
	}
	dir, err := os.MkdirTemp("", "wardmail-bench-imap-stress-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := seedOutsidePeople(ctx, dir, 1); err != nil {
		return nil, err
	}
	secret, err := os.ReadFile(filepath.Join(dir, readerSecretFile))
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "bench.conf")
	if err := os.WriteFile(conf, []byte("imap_max_connections_per_network = 1000\n"), 0o600); err != nil {
		return nil, err
	}
	srv, err := startServe(cfg.Binary, dir, cfg.ServerProfile, "--config", conf, "--smtp", "127.0.0.1:0",
		"--submission", "127.0.0.1:0", "--imap", "127.0.0.1:0", "--http", "127.0.0.1:0", "--log-level", "error")
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	sides := []struct{ name, addr string }{{"wardmail", srv.doors["imap"]}}
	if cfg.Dovecot {
		fmt.Fprintln(cfg.Out, "starting Dovecot on loopback...")
		pair, err := startMailPair(dir, string(secret))
		if err != nil {
			return nil, err
		}
		defer pair.stop()
		sides = append(sides, struct{ name, addr string }{"dovecot", pair.imapAddr})
	}
	for _, s := range sides {
		if err := stressSeed(s.addr, string(secret), cfg.Seed); err != nil {
			return nil, fmt.Errorf("seeding %s: %w", s.name, err)
		}
	}
	res := &IMAPStressResult{}
	for _, n := range cfg.Clients {
		for _, s := range sides {
			fmt.Fprintf(cfg.Out, "%s: %d clients for %v...\n", s.name, n, cfg.Duration)
			r := stressRun(s.name, s.addr, string(secret), n, cfg.Duration)
			res.Runs = append(res.Runs, *r)
			r.print(cfg.Out)
		}
	}
	return res, nil
}

// stressMessage is a small message of the kind a ward sends all day.
func stressMessage(rnd *rand.Rand) []byte {
	return []byte(fmt.Sprintf("From: Bench <bench@nhs.test>\r\nTo: Reader <reader@nhs.test>\r\nSubject: Stress %d\r\n"+
		"Message-ID: <%d.%d@nhs.test>\r\nDate: Mon, 2 Mar 2026 09:00:00 +0000\r\n\r\nBed %d is free; please send the next patient.\r\n",
		rnd.IntN(1000), rnd.Uint64(), time.Now().UnixNano(), rnd.IntN(40)))
}

// stressSeed creates the mailboxes and puts seed messages in each.
func stressSeed(addr, password string, seed int) error {
	c, err := stressLogin(addr, password)
	if err != nil {
		return err
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, mb := range stressMailboxes {
		if mb != "INBOX" {
			if _, err := c.cmd("CREATE %s", mb); err != nil {
				return err
			}
		}
		for i := 0; i < seed; i++ {
			r, err := c.appendMsg(mb, stressMessage(rnd))
			if err != nil {
				return err
			}
			if r.status != "OK" {
				return fmt.Errorf("APPEND: %s %s", r.status, r.text)
			}
		}
	}
	return c.logout()
}

func stressLogin(addr, password string) (*stressConn, error) {
	c, err := dialStress(addr)
	if err != nil {
		return nil, err
	}
	if err := c.startTLS(); err != nil {
		c.nc.Close()
		return nil, err
	}
	r, err := c.cmd("LOGIN %s %q", readerAddress, password)
	if err != nil {
		c.nc.Close()
		return nil, err
	}
	if r.status != "OK" {
		c.nc.Close()
		return nil, fmt.Errorf("LOGIN: %s %s", r.status, r.text)
	}
	return c, nil
}

// stressTally is one client's figures.
type stressTally struct {
	lat                         map[string][]time.Duration
	no                          map[string]int
	sessions                    int
	bad, afterBye, unexpectedNo int
	expungedNo                  int
	lastErr                     string
}

func (t *stressTally) note(name string, d time.Duration, r *stressReply) {
	t.lat[name] = append(t.lat[name], d)
	if r == nil || r.status != "NO" {
		return
	}
	t.no[name]++
	// Another client may expunge a message between this client's view
	// and its command (RFC 9051 7.5.1 lets a server refuse then).
	text := strings.ToLower(r.text)
	if strings.Contains(text, "expungeissued") || strings.Contains(text, "no longer exist") {
		t.expungedNo++
		return
	}
	t.unexpectedNo++
	t.lastErr = name + ": NO " + r.text
}

// stressRun runs clients against one server for d.
func stressRun(side, addr, password string, clients int, d time.Duration) *IMAPStressRun {
	run := &IMAPStressRun{Side: side, Clients: clients, Load: loadAverage(), Commands: map[string]IMAPStressCommand{}}
	deadline := time.Now().Add(d)
	tallies := make([]*stressTally, clients)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < clients; i++ {
		tallies[i] = &stressTally{lat: map[string][]time.Duration{}, no: map[string]int{}}
		wg.Add(1)
		go func(t *stressTally, seed uint64) {
			defer wg.Done()
			stressClient(t, addr, password, deadline, rand.New(rand.NewPCG(seed, 7)))
		}(tallies[i], uint64(i))
	}
	wg.Wait()
	run.Seconds = time.Since(start).Seconds()
	all := map[string][]time.Duration{}
	nos := map[string]int{}
	for _, t := range tallies {
		for k, v := range t.lat {
			all[k] = append(all[k], v...)
		}
		for k, v := range t.no {
			nos[k] += v
		}
		run.Sessions += t.sessions
		run.Bad += t.bad
		run.AfterBye += t.afterBye
		run.UnexpectedNo += t.unexpectedNo
		run.ExpungedNo += t.expungedNo
		if t.lastErr != "" {
			run.LastError = t.lastErr
		}
	}
	for k, v := range all {
		slices.Sort(v)
		run.Ops += len(v)
		run.Commands[k] = IMAPStressCommand{Count: len(v), PerS: float64(len(v)) / run.Seconds,
			P50Ms: ms(v[len(v)/2]), P99Ms: ms(v[min(len(v)-1, len(v)*99/100)]), NoCount: nos[k]}
	}
	run.OpsPerS = float64(run.Ops) / run.Seconds
	return run
}

// stressClient is one client: sessions of LOGIN, a few random commands and
// LOGOUT, until the deadline. A connection that fails is counted and
// replaced.
func stressClient(t *stressTally, addr, password string, deadline time.Time, rnd *rand.Rand) {
	for time.Now().Before(deadline) {
		t0 := time.Now()
		c, err := stressLogin(addr, password)
		if err != nil {
			t.unexpectedNo++
			t.lastErr = "LOGIN: " + err.Error()
			time.Sleep(100 * time.Millisecond)
			continue
		}
		t.lat["LOGIN"] = append(t.lat["LOGIN"], time.Since(t0))
		t.sessions++
		err = stressSession(t, c, deadline, rnd)
		if err == nil {
			t0 = time.Now()
			err = c.logout()
			t.lat["LOGOUT"] = append(t.lat["LOGOUT"], time.Since(t0))
		}
		c.nc.Close()
		t.bad += c.bad
		t.afterBye += c.afterBye
		if c.lastErr != "" {
			t.lastErr = c.lastErr
		}
		if err != nil && time.Now().Before(deadline) {
			t.unexpectedNo++
			t.lastErr = "connection: " + err.Error()
		}
	}
}

// stressSession runs 10 to 30 commands, weighted as a busy client's are:
// mostly FETCH, STORE and SELECT, some APPEND and EXPUNGE, now and then
// LIST and STATUS.
func stressSession(t *stressTally, c *stressConn, deadline time.Time, rnd *rand.Rand) error {
	selected := false
	n := 10 + rnd.IntN(21)
	for i := 0; i < n && time.Now().Before(deadline); i++ {
		mb := stressMailboxes[rnd.IntN(len(stressMailboxes))]
		var name string
		var r *stressReply
		var err error
		t0 := time.Now()
		switch k := rnd.IntN(100); {
		case k < 5:
			name = "LIST"
			r, err = c.cmd(`LIST "" "*"`)
		case k < 15:
			name = "STATUS"
			r, err = c.cmd("STATUS %s (MESSAGES UNSEEN UIDNEXT)", mb)
		case k < 30 || !selected:
			name = "SELECT"
			r, err = c.cmd("SELECT %s", mb)
			selected = err == nil && r.status == "OK"
		case k < 55:
			name = "FETCH"
			if c.exists == 0 {
				r, err = c.cmd("NOOP")
				name = "NOOP"
				break
			}
			lo := 1 + rnd.IntN(c.exists)
			hi := min(c.exists, lo+rnd.IntN(10))
			r, err = c.cmd("FETCH %d:%d (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])", lo, hi)
		case k < 75:
			name = "STORE"
			if c.exists == 0 {
				r, err = c.cmd("NOOP")
				name = "NOOP"
				break
			}
			flag := []string{`\Seen`, `\Flagged`, `\Answered`, `\Deleted`}[rnd.IntN(4)]
			op := "+"
			if rnd.IntN(3) == 0 {
				op = "-"
			}
			r, err = c.cmd("STORE %d %sFLAGS (%s)", 1+rnd.IntN(c.exists), op, flag)
		case k < 85:
			name = "EXPUNGE"
			r, err = c.cmd("EXPUNGE")
		default:
			name = "APPEND"
			r, err = c.appendMsg(mb, stressMessage(rnd))
		}
		if err != nil {
			return err
		}
		t.note(name, time.Since(t0), r)
	}
	return nil
}

func (r *IMAPStressRun) print(w io.Writer) {
	fmt.Fprintf(w, "%-9s %3d clients: %6.0f ops/s (%d ops, %d sessions in %.1fs); protocol errors: %d BAD, %d after BYE, %d unexpected NO (%d NO for messages expunged meanwhile); load %.1f\n",
		r.Side, r.Clients, r.OpsPerS, r.Ops, r.Sessions, r.Seconds, r.Bad, r.AfterBye, r.UnexpectedNo, r.ExpungedNo, r.Load)
	if r.LastError != "" {
		fmt.Fprintf(w, "          last error: %s\n", r.LastError)
	}
	names := make([]string, 0, len(r.Commands))
	for k := range r.Commands {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		c := r.Commands[k]
		fmt.Fprintf(w, "          %-8s %7.1f/s  p50 %7.2f ms  p99 %7.2f ms  (%d, %d NO)\n", k, c.PerS, c.P50Ms, c.P99Ms, c.Count, c.NoCount)
	}
}

// Print writes the figures for people, the two sides of each client count
// together.
func (res *IMAPStressResult) Print(w io.Writer) {
	for i := range res.Runs {
		res.Runs[i].print(w)
	}
}
