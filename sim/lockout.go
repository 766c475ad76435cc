package sim

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"wardmail/auth"
	"wardmail/lockout"
	"wardmail/server"
	"wardmail/store"
)

// LockoutConfig sets up `wardmail sim replay lockout`: the 1 December 2018
// outage replayed against a real server.
type LockoutConfig struct {
	People  int // people (100,000)
	Devices int // devices in all, 1-3 per person (200,000)
	// PasswordShare of devices sign in with the person's password, the rest
	// with an app password (0.1).
	PasswordShare float64
	// StaleShare of devices hold a stale secret: an old password or a
	// revoked app password (0.05).
	StaleShare float64
	// Retries: how often a device retries a refused sign-in (12: a stale
	// device retries more often than a lock threshold).
	Retries int
	// AttackSources networks spray guesses at AttackAccounts accounts
	// (4 and 300).
	AttackSources, AttackAccounts int
	AttackClients                 int           // concurrent attacker connections (4)
	Outage                        time.Duration // the credential store fails this long (15 s)
	Clients                       int           // concurrent device connections (64)
	// ClientX25519Only makes the simulated clients offer X25519 alone, as
	// most deployed mail clients do, rather than Go's default hybrid
	// post-quantum key exchange (X25519MLKEM768), which costs both sides
	// more per handshake.
	ClientX25519Only bool
	// TLSResume lets devices resume their TLS session (a session ticket
	// from the warm-up), as phones and desktop clients do when they
	// reconnect: the handshake then skips the certificate.
	TLSResume bool
	// Params hash the one password every simulated person shares.
	Params  auth.Params
	DataDir string // empty: a temporary folder
	Seed    uint64
	Out     io.Writer
}

// LockoutResult holds the figures.
type LockoutResult struct {
	People, Devices, PasswordDevices, AppDevices, StaleDevices int
	// LegitLockedOut: people with a device holding the right secret that was
	// refused as locked, or with a lock on one of their own networks.
	LegitLockedOut     int `json:"legit_locked_out"`
	LegitRefusedLocked int `json:"legit_device_signins_refused_locked"`
	LegitLocksOnOwnNet int `json:"locks_on_legit_networks"`
	OutageSignIns      int `json:"outage_signins"`
	OutageNotTemporary int `json:"outage_signins_not_temporary"`
	// Storm: everyone reconnecting at once after the outage.
	StormSeconds         float64 `json:"storm_seconds"`
	StormSignIns         int     `json:"storm_signins"`
	StormPerSecond       float64 `json:"storm_signins_per_second"`
	AppPerSecond         float64 `json:"storm_app_password_signins_per_second"`
	PasswordPerSecond    float64 `json:"storm_password_signins_per_second"`
	AppLoginP50Ms        float64 `json:"app_login_p50_ms"`
	AppLoginP99Ms        float64 `json:"app_login_p99_ms"`
	PasswordLoginP50Ms   float64 `json:"password_login_p50_ms"`
	PasswordLoginP99Ms   float64 `json:"password_login_p99_ms"`
	ConnectLoginP99Ms    float64 `json:"connect_tls_login_p99_ms"`
	ClientErrors         int     `json:"client_errors"`
	StormCores           float64 `json:"storm_cpu_cores_used"` // server and clients together
	DecisionAppPerSecond float64 `json:"decision_only_app_password_signins_per_second"`
	DecisionAppP99Us     float64 `json:"decision_only_app_password_p99_us"`
	// The attacker.
	AttackSeconds   float64 `json:"attack_seconds"`
	AttackGuesses   int     `json:"attack_guesses"`
	AttackEvaluated int     `json:"attack_guesses_evaluated"`
	// AttackPasswordsEvaluated: the password-shaped guesses among them (the
	// others are app-password-shaped: 160 random bits, never right).
	AttackPasswordsEvaluated int     `json:"attack_password_guesses_evaluated"`
	AttackPasswordMaxPerAcct int     `json:"attack_max_password_guesses_per_account"`
	AttackMaxPerAccount      int     `json:"attack_max_evaluated_per_account"`
	AttackMeanPerAccount     float64 `json:"attack_mean_evaluated_per_account"`
	AttackPerAccountPerHour  float64 `json:"attack_evaluated_per_account_per_hour_bound"`
	Locks                    int     `json:"locks_at_end"`
}

type device struct {
	person int
	proto  string
	app    bool
	stale  bool
	from   string
	secret string
}

const simPassword = "sim-password-2026-lockout"

func simEmail(k int) string { return fmt.Sprintf("p%06d@sim.nhs.test", k) }

// ReplayLockout runs the replay against an in-process server on loopback:
// real IMAP and SMTP clients, each from its own loopback network address
// (127.a.b.c), and a fault injected into the credential store for the
// outage window.
func ReplayLockout(ctx context.Context, cfg LockoutConfig) (*LockoutResult, error) {
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.Clients <= 0 {
		cfg.Clients = 64
	}
	if cfg.AttackClients <= 0 {
		cfg.AttackClients = 4
	}
	if cfg.Retries <= 0 {
		cfg.Retries = 3
	}
	if cfg.Devices < cfg.People {
		cfg.Devices = cfg.People
	}
	cfg.Devices = min(cfg.Devices, 3*cfg.People)
	dir := cfg.DataDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "wardmail-sim-lockout-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
	}
	sc := server.Defaults()
	sc.DataDir, sc.Hostname = dir, "sim.nhs.test"
	sc.SMTPAddr, sc.SubmissionAddr, sc.IMAPAddr, sc.HTTPAddr = "", "127.0.0.1:0", "127.0.0.1:0", ""
	sc.LogLevel = "error"
	srv, err := server.Start(ctx, sc, nil)
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	rng := rand.New(rand.NewPCG(cfg.Seed, 2018))
	logf := func(format string, a ...any) {
		fmt.Fprintf(cfg.Out, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
	}

	logf("seeding %d people and %d devices...", cfg.People, cfg.Devices)
	devs, err := seedLockout(ctx, srv.Store, cfg, rng)
	if err != nil {
		return nil, err
	}
	res := &LockoutResult{People: cfg.People, Devices: len(devs)}
	for _, d := range devs {
		switch {
		case d.app:
			res.AppDevices++
		default:
			res.PasswordDevices++
		}
		if d.stale {
			res.StaleDevices++
		}
	}
	tlsc := &tls.Config{InsecureSkipVerify: true}
	if cfg.ClientX25519Only {
		tlsc.CurvePreferences = []tls.CurveID{tls.X25519}
	}
	if cfg.TLSResume {
		tlsc.ClientSessionCache = tls.NewLRUClientSessionCache(1024)
	}
	addrOf := func(proto string) string {
		if proto == "imap" {
			return srv.Addrs["imap"]
		}
		return srv.Addrs["submission"]
	}
	type outcome struct {
		verdict      int
		login, total time.Duration
	}
	var tried atomic.Int64
	try := func(d *device) outcome {
		v, l, t, _ := SignInOnce(d.proto, addrOf(d.proto), d.from, simEmail(d.person), d.secret, tlsc)
		tried.Add(1)
		return outcome{v, l, t}
	}
	progress, stopProgress := time.NewTicker(30*time.Second), make(chan struct{})
	defer func() { progress.Stop(); close(stopProgress) }()
	go func() {
		for {
			select {
			case <-progress.C:
				logf("... %d device sign-ins so far", tried.Load())
			case <-stopProgress:
				return
			}
		}
	}()

	// 1. Before: every device has been signing in for weeks; its networks
	// are familiar.
	logf("warm-up: every device signs in once (%d clients)...", cfg.Clients)
	start := time.Now()
	var warmBad atomic.Int64
	parallel(len(devs), cfg.Clients, func(i int) {
		if o := try(&devs[i]); o.verdict != VerdictOK && !devs[i].stale {
			warmBad.Add(1)
		}
	})
	logf("warm-up done in %.1fs (%d good devices refused)", time.Since(start).Seconds(), warmBad.Load())
	if err := srv.Login.Lockout().Refresh(ctx); err != nil {
		return nil, err
	}

	// The attacker sprays from the outage's start to the storm's end.
	attackStop := make(chan struct{})
	attack := startAttack(cfg, addrOf, tlsc, attackStop)

	// 2. The outage: the credential store fails; devices retry and people
	// retry by hand (with typos too).
	logf("outage: the credential store fails for %s...", cfg.Outage)
	srv.Login.InjectFault(auth.FaultStoreDown)
	deadline := time.Now().Add(cfg.Outage)
	var outN, outBad atomic.Int64
	order := rng.Perm(len(devs))
	parallel(len(order), cfg.Clients, func(i int) {
		if time.Now().After(deadline) {
			return
		}
		d := devs[order[i]]
		if !d.app && i%3 == 0 {
			d.secret = fmt.Sprintf("typo-%d", i) // a person retyping, wrongly
		}
		o := try(&d)
		outN.Add(1)
		if o.verdict != verdictTemporary {
			outBad.Add(1)
		}
	})
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	res.OutageSignIns, res.OutageNotTemporary = int(outN.Load()), int(outBad.Load())
	logf("outage: %d sign-ins, %d not answered as temporary failures", res.OutageSignIns, res.OutageNotTemporary)

	// 3. Recovery: everyone reconnects at once; stale devices retry.
	srv.Login.InjectFault(auth.FaultNone)
	logf("storm: %d devices reconnect at once...", len(devs))
	var mu sync.Mutex
	var appLat, pwLat, totLat []time.Duration
	var appLast, pwLast time.Duration
	var clientErrs, refusedLocked int
	lockedPeople := map[int]bool{}
	start = time.Now()
	cpu0 := cpuTime()
	parallel(len(devs), cfg.Clients, func(i int) {
		d := &devs[i]
		for attempt := 0; attempt <= cfg.Retries; attempt++ {
			o := try(d)
			since := time.Since(start)
			mu.Lock()
			if d.app {
				appLat = append(appLat, o.login)
				appLast = since
			} else {
				pwLat = append(pwLat, o.login)
				pwLast = since
			}
			totLat = append(totLat, o.total)
			if o.verdict == verdictClientError {
				clientErrs++
			}
			if !d.stale && (o.verdict == verdictLocked || o.verdict == verdictBad) {
				refusedLocked++
				lockedPeople[d.person] = true
			}
			mu.Unlock()
			if o.verdict == VerdictOK || (!d.stale && (o.verdict == verdictBad || o.verdict == verdictLocked)) {
				return // done, or refused for good (counted above)
			}
		}
	})
	storm := time.Since(start)
	res.StormCores = (cpuTime() - cpu0).Seconds() / storm.Seconds()
	close(attackStop)
	at := attack.wait()

	res.StormSeconds = storm.Seconds()
	res.StormSignIns = len(appLat) + len(pwLat)
	res.StormPerSecond = float64(res.StormSignIns) / storm.Seconds()
	if appLast > 0 {
		res.AppPerSecond = float64(len(appLat)) / appLast.Seconds()
	}
	if pwLast > 0 {
		res.PasswordPerSecond = float64(len(pwLat)) / pwLast.Seconds()
	}
	res.AppLoginP50Ms, res.AppLoginP99Ms = PercentileMs(appLat, 50), PercentileMs(appLat, 99)
	res.PasswordLoginP50Ms, res.PasswordLoginP99Ms = PercentileMs(pwLat, 50), PercentileMs(pwLat, 99)
	res.ConnectLoginP99Ms = PercentileMs(totLat, 99)
	res.ClientErrors = clientErrs
	res.LegitRefusedLocked = refusedLocked

	// Locks on networks legitimate devices use.
	legitNets := map[string]bool{}
	for _, d := range devs {
		legitNets[lockout.NetworkSource(netip.MustParseAddr(d.from))] = true
	}
	locks := srv.Login.Lockout().Locks()
	res.Locks = len(locks)
	for _, l := range locks {
		if legitNets[l.Source] {
			res.LegitLocksOnOwnNet++
			var k int
			if _, err := fmt.Sscanf(l.Account, "p%06d@", &k); err == nil {
				lockedPeople[k] = true
			}
		}
	}
	res.LegitLockedOut = len(lockedPeople)

	res.AttackSeconds = at.seconds
	res.AttackGuesses, res.AttackEvaluated = at.guesses, at.evaluated
	for _, n := range at.perAccount {
		res.AttackMaxPerAccount = max(res.AttackMaxPerAccount, n)
	}
	res.AttackPasswordsEvaluated = at.passwords
	for _, n := range at.passwordPerAccount {
		res.AttackPasswordMaxPerAcct = max(res.AttackPasswordMaxPerAcct, n)
	}
	if len(at.perAccount) > 0 {
		res.AttackMeanPerAccount = float64(at.evaluated) / float64(len(at.perAccount))
	}
	res.AttackPerAccountPerHour = guessesPerHourBound(srv.Login.Lockout().Policy(), cfg.AttackSources)
	logf("storm done in %.1fs; attacker: %d guesses, %d evaluated", storm.Seconds(), at.guesses, at.evaluated)

	// 4. The decision alone, without TLS and the protocol: app passwords
	// through Login.SignIn as fast as the cores allow.
	logf("decision only: app-password sign-ins through auth.Login...")
	var decLat []time.Duration
	var apps []*device
	for i := range devs {
		if devs[i].app && !devs[i].stale {
			apps = append(apps, &devs[i])
		}
	}
	decLat = make([]time.Duration, len(apps))
	start = time.Now()
	parallel(len(apps), 2*runtime.GOMAXPROCS(0), func(i int) {
		d := apps[i]
		t := time.Now()
		_, _ = srv.Login.SignIn(ctx, auth.Attempt{Username: simEmail(d.person), Password: d.secret,
			Source: netip.MustParseAddr(d.from), Protocol: d.proto})
		decLat[i] = time.Since(t)
	})
	if el := time.Since(start); len(apps) > 0 {
		res.DecisionAppPerSecond = float64(len(apps)) / el.Seconds()
		res.DecisionAppP99Us = PercentileMs(decLat, 99) * 1000
	}
	return res, nil
}

// seedLockout writes the people (one shared password hash), their app
// passwords, and returns the devices.
func seedLockout(ctx context.Context, st *store.Store, cfg LockoutConfig, rng *rand.Rand) ([]device, error) {
	hash, err := auth.HashPassword(cfg.Params, simPassword)
	if err != nil {
		return nil, err
	}
	const chunk = 5000
	for k := 0; k < cfg.People; k += chunk {
		var recs []store.PersonRecord
		for j := k; j < min(k+chunk, cfg.People); j++ {
			recs = append(recs, store.PersonRecord{Email: simEmail(j), Name: fmt.Sprint("Person ", j),
				Org: fmt.Sprintf("Sim Trust %d", j/2000), PasswordHash: hash})
		}
		if _, _, err := st.UpsertPeople(ctx, recs); err != nil {
			return nil, err
		}
	}
	ids := make([]int64, cfg.People)
	after := ""
	for {
		ps, err := st.People(ctx, after, 10000)
		if err != nil {
			return nil, err
		}
		if len(ps) == 0 {
			break
		}
		for _, p := range ps {
			var k int
			if _, err := fmt.Sscanf(p.Email, "p%06d@", &k); err == nil && k < cfg.People {
				ids[k] = p.ID
			}
		}
		after = ps[len(ps)-1].Email
	}
	counts := make([]int, cfg.People)
	for k := range counts {
		counts[k] = 1
	}
	for extra := cfg.Devices - cfg.People; extra > 0; {
		if k := rng.IntN(cfg.People); counts[k] < 3 {
			counts[k]++
			extra--
		}
	}
	devs := make([]device, 0, cfg.Devices)
	var recs []store.AppPasswordRecord
	flush := func() error {
		err := st.AddAppPasswords(ctx, recs)
		recs = recs[:0]
		return err
	}
	for k, n := range counts {
		for j := range n {
			d := device{person: k, proto: []string{"imap", "smtp"}[j%2], from: legitAddr(k, j)}
			d.app = rng.Float64() >= cfg.PasswordShare
			d.stale = rng.Float64() < cfg.StaleShare
			switch {
			case d.app:
				secret, h := auth.NewAppPassword()
				if d.stale {
					d.secret, _ = auth.NewAppPassword() // revoked long ago: not stored
				} else {
					d.secret = secret
					recs = append(recs, store.AppPasswordRecord{PersonID: ids[k], Name: fmt.Sprint("device ", j), Hash: h,
						Scopes: []string{auth.ScopeIMAP, auth.ScopeSMTP}})
				}
			case d.stale:
				d.secret = "last-years-password-" + fmt.Sprint(k)
			default:
				d.secret = simPassword
			}
			devs = append(devs, d)
			if len(recs) >= chunk {
				if err := flush(); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return devs, nil
}

// legitAddr is device j of person k's address: the first device on the
// organisation's network (50 people to a /24), the others on a mobile
// network; all in 127.10.0.0 - 127.26.255.255.
func legitAddr(k, j int) string {
	net := k / 50
	if j > 0 {
		net += 2000
	}
	return fmt.Sprintf("127.%d.%d.%d", 10+net/250, net%250, 1+(k%50)*4+j)
}

// parallel runs fn(0..n-1) on workers goroutines.
func parallel(n, workers int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}

// PercentileMs is the p-th percentile of durations, in milliseconds (0 for
// none), as every replay and benchmark reports it.
func PercentileMs(d []time.Duration, p int) float64 {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	if i > 0 {
		i--
	}
	return float64(s[i].Microseconds()) / 1000
}

// String formats the result as the table in docs/benchmarks.md.
func (r *LockoutResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "people %d, devices %d (%d app passwords, %d passwords, %d stale)\n", r.People, r.Devices, r.AppDevices, r.PasswordDevices, r.StaleDevices)
	fmt.Fprintf(&b, "legitimate people locked out: %d (device sign-ins refused as locked or bad: %d; locks on their networks: %d)\n",
		r.LegitLockedOut, r.LegitRefusedLocked, r.LegitLocksOnOwnNet)
	fmt.Fprintf(&b, "outage: %d sign-ins, %d not a temporary failure\n", r.OutageSignIns, r.OutageNotTemporary)
	fmt.Fprintf(&b, "storm: %d sign-ins in %.1fs = %.0f/s; app passwords %.0f/s, passwords %.0f/s; client errors %d\n",
		r.StormSignIns, r.StormSeconds, r.StormPerSecond, r.AppPerSecond, r.PasswordPerSecond, r.ClientErrors)
	fmt.Fprintf(&b, "storm CPU: %.2f cores busy (server and clients in one process)\n", r.StormCores)
	fmt.Fprintf(&b, "sign-in command latency: app p50 %.2f ms p99 %.2f ms; password p50 %.2f ms p99 %.2f ms; connect+TLS+sign-in p99 %.2f ms\n",
		r.AppLoginP50Ms, r.AppLoginP99Ms, r.PasswordLoginP50Ms, r.PasswordLoginP99Ms, r.ConnectLoginP99Ms)
	fmt.Fprintf(&b, "decision only (auth.Login.SignIn, app passwords): %.0f/s, p99 %.0f µs\n", r.DecisionAppPerSecond, r.DecisionAppP99Us)
	fmt.Fprintf(&b, "attacker: %d guesses in %.0fs, %d evaluated; per account max %d, mean %.1f; policy bound %.0f per account in the first hour\n",
		r.AttackGuesses, r.AttackSeconds, r.AttackEvaluated, r.AttackMaxPerAccount, r.AttackMeanPerAccount, r.AttackPerAccountPerHour)
	fmt.Fprintf(&b, "attacker's password guesses: %d evaluated, per account max %d (the network budget caps each attacker network)\n",
		r.AttackPasswordsEvaluated, r.AttackPasswordMaxPerAcct)
	fmt.Fprintf(&b, "locks running at the end: %d\n", r.Locks)
	return b.String()
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
