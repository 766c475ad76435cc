package sim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"wardmail/auth"
	"wardmail/directory"
	"wardmail/server"
	"wardmail/store"
	"wardmail/store/sqlite"
)

// StormConfig sets up `wardmail sim replay list-scope|reply-all-storm`: the
// November 2016 incidents replayed against a real server through its real
// doors (SMTP submission, IMAP, the HTTP admin API).
type StormConfig struct {
	// Scenario is "list-scope" (a post to a dynamic list whose scope was
	// national by mistake, then reply-alls to it) or "reply-all-storm" (a
	// post to an organisation-wide list under 50,000 that an administrator
	// opened to all its members, then reply-alls).
	Scenario   string
	Protection bool // the storm breaker, sender limits and list governance on
	People     int  // directory size when DataDir is empty (1,200,000)
	Orgs       int
	Seed       uint64
	// StormListSize is the head count the reply-all-storm list aims at:
	// the organisation closest to it is used (8,000: over the breaker's
	// 2,500, under a person's 10,000 recipients a day, so the breaker and
	// not the daily limit decides).
	StormListSize int
	Readers       int           // simulated staff opening their mailboxes (200)
	OpenEvery     time.Duration // each reader opens their mailbox this often (4s)
	Senders       int           // staff sending one-to-one mail (40)
	SendEvery     time.Duration // each sender sends this often (4s)
	Replies       int           // people who press reply-all (500)
	Duration      time.Duration // whole run: a quarter quiet, half incident, a quarter after
	// Target is a running server ("HOST" with the default ports, or set
	// the three addresses); empty starts one in this process on DataDir.
	Target                             string
	SubmissionAddr, IMAPAddr, HTTPAddr string
	DataDir                            string // prepared data folder (empty: a temporary one)
	PrepareOnly                        bool   // set up DataDir and stop
	Chart                              string // write the latency chart here (.svg)
	// Tweak adjusts the in-process server's config (the CLI's --set).
	Tweak func(*server.Config) error
	Out   io.Writer
}

// StormResult holds the figures.
type StormResult struct {
	Scenario    string  `json:"scenario"`
	Protection  bool    `json:"protection"`
	People      int64   `json:"people"`
	List        string  `json:"list"`
	ListSize    int64   `json:"list_size"`
	PostResult  string  `json:"post_result"` // the first post: accepted, or the reply
	Readers     int     `json:"readers"`
	Senders     int     `json:"senders"`
	DurationSec float64 `json:"duration_s"`

	Open   map[string]PhaseLatency `json:"mailbox_open_ms"` // LOGIN+SELECT+FETCH, by phase
	Direct map[string]PhaseLatency `json:"one_to_one_ms"`   // submission to durable 250, by phase

	StormSent     int            `json:"storm_replies_sent"`
	StormAccepted int            `json:"storm_replies_accepted"`
	StormRefused  map[string]int `json:"storm_replies_refused"` // by reply code
	StormBraked   int64          `json:"storm_replies_braked"`  // accepted, list delivery held by the brake
	Deliveries    struct {
		Materialised int64 `json:"materialised"`
		Pending      int64 `json:"pending"`
		Held         int64 `json:"held"`
	} `json:"mailbox_deliveries"`
	PurgeSeconds  float64  `json:"purge_s"`
	PurgeTouched  int64    `json:"purge_mailboxes"`
	ClientErrors  int64    `json:"client_errors"`
	FirstErrors   []string `json:"first_errors,omitempty"`
	Load          string   `json:"load_before"`
	ChartFile     string   `json:"chart,omitempty"`
	quiet, during time.Duration
	purgeAt       time.Duration
	opens, sends  []sample
}

// PhaseLatency is one phase's latency.
type PhaseLatency struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
}

type sample struct {
	at, d time.Duration
}

const (
	stormPassword = "sim-storm-password-2016"
	stormDomain   = "nhs.test"
)

// stormSetup is what a prepared data folder holds for the replay.
type stormSetup struct {
	list                       *store.List
	poster, admin              *store.Person
	readers, senders, repliers []string
	people                     int64
}

// prepareStorm makes the directory (if empty), the scenario's list and
// the simulated staff's passwords. It is idempotent.
func prepareStorm(ctx context.Context, st *store.Store, cfg StormConfig, logf func(string, ...any)) (*stormSetup, error) {
	n, err := st.CountPeople(ctx)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		logf("importing a synthetic health service of %d people in %d organisations...", cfg.People, cfg.Orgs)
		pr, pw := io.Pipe()
		go func() {
			_, err := WritePeopleCSV(pw, GenConfig{People: cfg.People, Orgs: cfg.Orgs, Seed: cfg.Seed, Domain: stormDomain})
			pw.CloseWithError(err)
		}()
		if _, err := directory.Import(ctx, st, pr, "people.csv", auth.DefaultParams()); err != nil {
			return nil, err
		}
		if n, err = st.CountPeople(ctx); err != nil {
			return nil, err
		}
	}
	set := &stormSetup{people: n}
	// One shared password hash with cheap parameters: sign-in cost is not
	// what this replay measures (the lockout replay does that).
	params := auth.DefaultParams()
	params.Memory, params.Time = 1024, 1
	hash, err := auth.HashPassword(params, stormPassword)
	if err != nil {
		return nil, err
	}
	admin, err := st.PersonByID(ctx, 1)
	if err != nil {
		return nil, err
	}
	second, err := st.PersonByID(ctx, 2)
	if err != nil {
		return nil, err
	}
	for _, a := range []*store.Person{admin, second} {
		if err := st.GrantAdmin(ctx, "sim", a.ID, store.RoleNational, 0); err != nil && !strings.Contains(err.Error(), "UNIQUE") {
			return nil, err
		}
	}
	set.admin = admin
	addr := "storm-" + cfg.Scenario + "@" + stormDomain
	l, err := st.ListByAddress(ctx, addr)
	if err == store.ErrNotFound {
		spec := store.ListSpec{Address: addr, Kind: store.ListDynamic, Rule: "*", Owners: []int64{admin.ID}}
		if cfg.Scenario == "list-scope" {
			// Meant for one organisation; scoped national by mistake.
			spec.Name, spec.Scope = "Test list (meant: my organisation)", "national"
		} else {
			orgs, err := st.Orgs(ctx)
			if err != nil {
				return nil, err
			}
			// Big enough for the breaker to count its replies (2,500),
			// under the 50,000 that needs administrators' approval.
			var best *store.Org
			for i, o := range orgs {
				if o.People < 2500 || o.People >= 50000 {
					continue
				}
				if best == nil || math.Abs(float64(o.People-int64(cfg.StormListSize))) < math.Abs(float64(best.People-int64(cfg.StormListSize))) {
					best = &orgs[i]
				}
			}
			if best == nil {
				return nil, errors.New("no organisation has between 2,500 and 50,000 people: use more --people")
			}
			spec.Name, spec.Scope = "Everyone at "+best.Name, "org:"+best.Name
		}
		logf("creating %s (%s)...", addr, spec.Scope)
		if l, err = st.CreateList(ctx, "sim", spec); err != nil {
			return nil, err
		}
		if cfg.Scenario == "reply-all-storm" {
			// The 2016 setting: an administrator let every member post.
			if err := st.SetPostPolicy(ctx, admin.Email, l.ID, "members", nil, admin.ID); err != nil {
				return nil, err
			}
		}
	} else if err != nil {
		return nil, err
	}
	if cfg.Scenario == "list-scope" && !cfg.Protection && l.ApprovedSize == 0 {
		// Protection off: as in 2016, nothing stood between the post and
		// everyone: the list is approved and open to its owner.
		for _, a := range []*store.Person{admin, second} {
			if l, err = st.ApproveList(ctx, a.Email, l.ID, a.ID, 2); err != nil {
				return nil, err
			}
		}
		if err := st.SetPostPolicy(ctx, admin.Email, l.ID, "members", nil, admin.ID); err != nil {
			return nil, err
		}
	}
	set.list = l
	need := cfg.Readers + cfg.Senders + cfg.Replies + 1
	members, err := st.ListMembers(ctx, l.ID, "", need+2)
	if err != nil {
		return nil, err
	}
	var people []string
	for _, m := range members {
		if m.ID != admin.ID && m.ID != second.ID {
			people = append(people, m.Email)
		}
	}
	if len(people) < need {
		return nil, fmt.Errorf("the list has %d members; the replay needs %d", len(people), need)
	}
	set.poster, err = st.PersonByEmail(ctx, people[0])
	if err != nil {
		return nil, err
	}
	people = people[1:]
	set.readers, people = people[:cfg.Readers], people[cfg.Readers:]
	set.senders, people = people[:cfg.Senders], people[cfg.Senders:]
	set.repliers = people[:cfg.Replies]
	ids, _, err := st.PersonIDs(ctx, append(append(append([]string{set.poster.Email, admin.Email}, set.readers...), set.senders...), set.repliers...))
	if err != nil {
		return nil, err
	}
	logf("giving %d simulated staff a password...", len(ids))
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	for _, id := range ids {
		wg.Go(func() {
			if err := st.SetPassword(ctx, id, hash); err != nil {
				failed.Store(&err)
			}
		})
	}
	wg.Wait()
	if e := failed.Load(); e != nil {
		return nil, *e
	}
	return set, nil
}

// ReplayStorm runs the replay.
func ReplayStorm(ctx context.Context, cfg StormConfig) (*StormResult, error) {
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.Scenario != "list-scope" && cfg.Scenario != "reply-all-storm" {
		return nil, fmt.Errorf("unknown scenario %q: list-scope or reply-all-storm", cfg.Scenario)
	}
	logf := func(format string, a ...any) {
		fmt.Fprintf(cfg.Out, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
	}
	res := &StormResult{Scenario: cfg.Scenario, Protection: cfg.Protection, Readers: cfg.Readers, Senders: cfg.Senders,
		StormRefused: map[string]int{}, Load: loadAverage()}
	dir := cfg.DataDir
	if dir == "" {
		if cfg.Target != "" || cfg.PrepareOnly {
			return nil, fmt.Errorf("--data is required with --target or --prepare")
		}
		var err error
		if dir, err = os.MkdirTemp("", "wardmail-sim-storm-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
	}
	var st *store.Store
	subAddr, imapAddr, httpAddr := cfg.SubmissionAddr, cfg.IMAPAddr, cfg.HTTPAddr
	if cfg.Target == "" && !cfg.PrepareOnly {
		sc := server.Defaults()
		sc.DataDir, sc.Hostname = dir, "sim.nhs.test"
		sc.SMTPAddr, sc.SubmissionAddr, sc.IMAPAddr, sc.HTTPAddr = "", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
		sc.LogLevel = "error"
		sc.StormOff, sc.SenderLimitsOff = !cfg.Protection, !cfg.Protection
		if cfg.Tweak != nil {
			if err := cfg.Tweak(&sc); err != nil {
				return nil, err
			}
		}
		srv, err := server.Start(ctx, sc, nil)
		if err != nil {
			return nil, err
		}
		defer srv.Close()
		st = srv.Store
		subAddr, imapAddr, httpAddr = srv.Addrs["submission"], srv.Addrs["imap"], srv.Addrs["http"]
	} else {
		var err error
		if st, err = sqlite.Open(ctx, dir, sqlite.Options{}); err != nil {
			return nil, err
		}
		defer st.Close()
		host := cfg.Target
		if subAddr == "" {
			subAddr = host + ":2587"
		}
		if imapAddr == "" {
			imapAddr = host + ":2143"
		}
		if httpAddr == "" {
			httpAddr = host + ":8080"
		}
	}
	set, err := prepareStorm(ctx, st, cfg, logf)
	if err != nil {
		return nil, err
	}
	res.People, res.List, res.ListSize = set.people, set.list.Address, set.list.Size
	if cfg.PrepareOnly {
		logf("prepared %s: list %s of %d people", dir, set.list.Address, set.list.Size)
		return res, nil
	}
	tlsc := &tls.Config{InsecureSkipVerify: true}
	if cfg.Target != "" {
		on, err := protectionOn(httpAddr, tlsc)
		if err != nil {
			return nil, fmt.Errorf("reading the target's /metrics: %w", err)
		}
		if on != cfg.Protection {
			return nil, fmt.Errorf("the target runs with the storm breaker %s, but --protection %s was asked for: set storm_breaker and sender_limits in its config", onOff(on), onOff(cfg.Protection))
		}
	}

	// The run: quiet, incident, after.
	res.quiet, res.during = cfg.Duration/4, cfg.Duration/2
	start := time.Now()
	stop := make(chan struct{})
	var mu sync.Mutex
	var errorsN atomic.Int64
	noteErr := func(err error) {
		if errorsN.Add(1) <= 3 {
			mu.Lock()
			res.FirstErrors = append(res.FirstErrors, err.Error())
			mu.Unlock()
		}
	}
	var wg sync.WaitGroup
	for i, r := range set.readers {
		wg.Go(func() {
			// Staggered so opens spread evenly.
			if !sleepOrStop(stop, time.Duration(i)*cfg.OpenEvery/time.Duration(len(set.readers))) {
				return
			}
			for {
				t0 := time.Now()
				d, err := openMailbox(imapAddr, tlsc, r, stormPassword)
				if err != nil {
					noteErr(fmt.Errorf("mailbox open: %w", err))
				} else {
					mu.Lock()
					res.opens = append(res.opens, sample{t0.Sub(start), d})
					mu.Unlock()
				}
				if !sleepOrStop(stop, cfg.OpenEvery-time.Since(t0)) {
					return
				}
			}
		})
	}
	for i, s := range set.senders {
		wg.Go(func() {
			if !sleepOrStop(stop, time.Duration(i)*cfg.SendEvery/time.Duration(len(set.senders))) {
				return
			}
			sendLoop(subAddr, tlsc, s, set.readers, cfg.SendEvery, stop, func(at time.Time, d time.Duration, err error) {
				if err != nil {
					noteErr(fmt.Errorf("one-to-one: %w", err))
					return
				}
				mu.Lock()
				res.sends = append(res.sends, sample{at.Sub(start), d})
				mu.Unlock()
			})
		})
	}

	logf("quiet: %d staff open their mailboxes every %s, %d send one-to-one mail every %s (%s)...",
		cfg.Readers, cfg.OpenEvery, cfg.Senders, cfg.SendEvery, res.quiet)
	time.Sleep(res.quiet)
	thread := fmt.Sprintf("<storm-%d@sim.nhs.test>", time.Now().UnixNano())
	subject := "Test - please ignore"
	if cfg.Scenario == "reply-all-storm" {
		subject = "Flu vaccination clinic times"
	}
	logf("incident: %s posts %q to %s (%d people)...", set.poster.Email, subject, set.list.Address, set.list.Size)
	err = sendOne(subAddr, tlsc, set.poster.Email, []string{set.list.Address},
		fmt.Sprintf("To: %s\r\nSubject: %s\r\nMessage-ID: %s\r\n", set.list.Address, subject, thread))
	res.PostResult = "accepted"
	if err != nil {
		res.PostResult = err.Error()
	}
	logf("the post: %s", res.PostResult)
	// Reply-alls over the incident, bell-shaped around its middle (the
	// 2016 storm built up, peaked and tailed off).
	incidentStart := time.Now()
	var accepted, refused sync.Map // Message-IDs accepted; people refused, with the code
	var sent atomic.Int64
	var rwg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i, who := range set.repliers {
		u := (float64(i) + 0.5) / float64(len(set.repliers))
		at := time.Duration(float64(res.during) * math.Min(1, math.Max(0, 0.5+math.Log(u/(1-u))/10)))
		time.Sleep(time.Until(incidentStart.Add(at)))
		sem <- struct{}{}
		rwg.Go(func() {
			defer func() { <-sem }()
			sent.Add(1)
			id := fmt.Sprintf("<reply-%d-%s", i, thread[1:])
			err := sendOne(subAddr, tlsc, who, []string{set.list.Address, set.poster.Email},
				fmt.Sprintf("To: %s, %s\r\nSubject: RE: %s\r\nMessage-ID: %s\r\nIn-Reply-To: %s\r\nReferences: %s\r\n",
					set.list.Address, set.poster.Email, subject, id, thread, thread))
			if err == nil {
				accepted.Store(id, true)
				return
			}
			refused.Store(who, replyCode(err))
		})
	}
	rwg.Wait()
	time.Sleep(time.Until(incidentStart.Add(res.during)))
	res.StormSent = int(sent.Load())
	accepted.Range(func(_, _ any) bool { res.StormAccepted++; return true })
	refused.Range(func(_, v any) bool { res.StormRefused[v.(string)]++; return true })
	logf("after: %d reply-alls sent, %d accepted, refused %v", res.StormSent, res.StormAccepted, res.StormRefused)

	// Where the thread is, then purge it through the admin API.
	traces, _ := st.TraceMessage(ctx, thread)
	accepted.Range(func(id, _ any) bool {
		if t, err := st.TraceMessage(ctx, id.(string)); err == nil {
			traces = append(traces, t...)
		}
		return true
	})
	for _, t := range traces {
		res.Deliveries.Materialised += t.Materialised
		res.Deliveries.Pending += t.Pending
		res.Deliveries.Held += t.Held
	}
	if tr, err := stormThread(ctx, st, thread); err == nil {
		res.StormBraked = tr.Braked
	}
	if res.PostResult == "accepted" {
		res.purgeAt = time.Since(start)
		d, touched, err := purgeThread(ctx, st, httpAddr, tlsc, set.admin, stormPassword, thread)
		if err != nil {
			logf("purge: %v", err)
		}
		res.PurgeSeconds, res.PurgeTouched = d.Seconds(), touched
		logf("purged the thread from %d mailboxes in %.2fs", touched, d.Seconds())
	}
	time.Sleep(time.Until(start.Add(cfg.Duration)))
	close(stop)
	wg.Wait()
	res.DurationSec = time.Since(start).Seconds()
	res.ClientErrors = errorsN.Load()
	res.Open = res.phases(res.opens)
	res.Direct = res.phases(res.sends)
	if cfg.Chart != "" {
		f, err := os.Create(cfg.Chart)
		if err != nil {
			return res, err
		}
		werr := writeStormChart(f, res)
		if err := errors.Join(werr, f.Close()); err != nil {
			return res, err
		}
		res.ChartFile = cfg.Chart
	}
	return res, nil
}

// phases splits samples into before, during and after the incident.
func (r *StormResult) phases(s []sample) map[string]PhaseLatency {
	by := map[string][]time.Duration{}
	for _, x := range s {
		p := "before"
		switch {
		case x.at >= r.quiet+r.during:
			p = "after"
		case x.at >= r.quiet:
			p = "during"
		}
		by[p] = append(by[p], x.d)
	}
	out := map[string]PhaseLatency{}
	for _, p := range []string{"before", "during", "after"} {
		out[p] = PhaseLatency{N: len(by[p]), P50: PercentileMs(by[p], 50), P99: PercentileMs(by[p], 99)}
	}
	return out
}

// String formats the result for docs/benchmarks.md.
func (r *StormResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, protection %s: %d people; list %s of %d people; load before: %s\n", r.Scenario, onOff(r.Protection), r.People, r.List, r.ListSize, r.Load)
	fmt.Fprintf(&b, "first post: %s\n", r.PostResult)
	fmt.Fprintf(&b, "reply-alls: %d sent, %d accepted (%d braked), refused %v\n", r.StormSent, r.StormAccepted, r.StormBraked, r.StormRefused)
	fmt.Fprintf(&b, "mailbox deliveries of the thread: %d materialised + %d pending + %d held\n", r.Deliveries.Materialised, r.Deliveries.Pending, r.Deliveries.Held)
	if r.PurgeTouched > 0 || r.PurgeSeconds > 0 {
		fmt.Fprintf(&b, "purge: %d mailboxes in %.2f s\n", r.PurgeTouched, r.PurgeSeconds)
	}
	for _, p := range []string{"before", "during", "after"} {
		o, d := r.Open[p], r.Direct[p]
		fmt.Fprintf(&b, "%-6s mailbox open p50 %6.1f ms p99 %6.1f ms (%d)   one-to-one p50 %6.1f ms p99 %6.1f ms (%d)\n",
			p, o.P50, o.P99, o.N, d.P50, d.P99, d.N)
	}
	fmt.Fprintf(&b, "client errors: %d %q\n", r.ClientErrors, r.FirstErrors)
	return b.String()
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func sleepOrStop(stop chan struct{}, d time.Duration) bool {
	if d <= 0 {
		select {
		case <-stop:
			return false
		default:
			return true
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-stop:
		return false
	case <-t.C:
		return true
	}
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func stormThread(ctx context.Context, st *store.Store, thread string) (*store.StormThread, error) {
	return st.StormThread(ctx, thread, time.Now().Add(-time.Hour))
}
