package bench

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"wardmail/auth"
	"wardmail/sim"
	"wardmail/store"
	"wardmail/store/sqlite"
)

// SignInConfig sets up `wardmail bench signin`: every device reconnecting
// with its app password (a new TCP connection, STARTTLS and LOGIN or AUTH
// PLAIN each time) against a `wardmail serve` in its own process, so that
// the server's CPU per sign-in can be read apart from the clients'.
type SignInConfig struct {
	Binary     string        // the wardmail executable to serve with
	People     int           // people, one app-password device each (20,000)
	Clients    int           // concurrent reconnecting clients (64)
	Duration   time.Duration // how long to measure after the warm-up (20s)
	ServerCPUs string        // pin the server to these CPUs with taskset ("": not pinned)
	TLSResume  bool          // clients resume TLS sessions, as real devices do
	DataDir    string        // empty: a temporary folder, removed afterwards
	// ServerProfile: the server writes a CPU profile of the whole run here.
	ServerProfile string
	Out           io.Writer
}

// SignInResult holds the figures.
type SignInResult struct {
	SignIns      int     `json:"signins"`
	Seconds      float64 `json:"seconds"`
	PerSecond    float64 `json:"signins_per_second"`
	LoginP50Ms   float64 `json:"login_p50_ms"`
	LoginP99Ms   float64 `json:"login_p99_ms"`
	TotalP99Ms   float64 `json:"connect_tls_login_p99_ms"`
	Errors       int     `json:"errors"`
	ServerCPUSec float64 `json:"server_cpu_seconds"`
	// ServerCPUPerSignInUs is the server process's CPU (user + system) per
	// sign-in; PerServerCore is what one core of it sustains.
	ServerCPUPerSignInUs float64 `json:"server_cpu_per_signin_us"`
	PerServerCore        float64 `json:"signins_per_server_core"`
	ServerCPUs           string  `json:"server_cpus,omitempty"`
}

// SignIn runs the benchmark.
func SignIn(ctx context.Context, cfg SignInConfig) (*SignInResult, error) {
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	cfg.People = max(cfg.People, 1)
	cfg.Clients = max(cfg.Clients, 1)
	if cfg.Duration <= 0 {
		cfg.Duration = 20 * time.Second
	}
	dir := cfg.DataDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "wardmail-bench-signin-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
	}
	fmt.Fprintf(cfg.Out, "seeding %d people with an app password each...\n", cfg.People)
	secrets, err := seedAppPasswords(ctx, dir, cfg.People)
	if err != nil {
		return nil, err
	}
	srv, err := startServeProcess(cfg.Binary, dir, cfg.ServerCPUs, cfg.ServerProfile)
	if err != nil {
		return nil, err
	}
	defer srv.stop()

	tlsc := &tls.Config{InsecureSkipVerify: true, CurvePreferences: []tls.CurveID{tls.X25519}}
	if cfg.TLSResume {
		tlsc.ClientSessionCache = tls.NewLRUClientSessionCache(cfg.People)
	}
	once := func(k int) (int, time.Duration, time.Duration) {
		proto, addr := "imap", srv.imap
		if k%2 == 1 {
			proto, addr = "smtp", srv.submission
		}
		from := fmt.Sprintf("127.%d.%d.%d", 30+k/62500, (k/250)%250, 1+k%250)
		v, login, total, _ := sim.SignInOnce(proto, addr, from, sim.BenchEmail(k), secrets[k], tlsc)
		return v, login, total
	}

	// Warm-up: each device once, so its network is familiar (written once
	// a day) and TLS sessions are cached when resuming.
	fmt.Fprintf(cfg.Out, "warm-up: %d devices sign in once...\n", cfg.People)
	var next atomic.Int64
	var warmErr atomic.Int64
	var wg sync.WaitGroup
	for range cfg.Clients {
		wg.Go(func() {
			for k := int(next.Add(1)) - 1; k < cfg.People; k = int(next.Add(1)) - 1 {
				if v, _, _ := once(k); v != sim.VerdictOK {
					warmErr.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := warmErr.Load(); n > 0 {
		return nil, fmt.Errorf("warm-up: %d of %d sign-ins failed", n, cfg.People)
	}

	fmt.Fprintf(cfg.Out, "reconnect storm: %d clients for %s...\n", cfg.Clients, cfg.Duration)
	cpu0, err := processCPU(srv.cmd.Process.Pid)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	deadline := start.Add(cfg.Duration)
	var mu sync.Mutex
	var logins, totals []time.Duration
	var errs atomic.Int64
	for c := range cfg.Clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(c), 5000))
			var l, t []time.Duration
			for time.Now().Before(deadline) {
				v, login, total := once(rng.IntN(cfg.People))
				if v != sim.VerdictOK {
					errs.Add(1)
					continue
				}
				l, t = append(l, login), append(t, total)
			}
			mu.Lock()
			logins, totals = append(logins, l...), append(totals, t...)
			mu.Unlock()
		})
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	cpu1, err := processCPU(srv.cmd.Process.Pid)
	if err != nil {
		return nil, err
	}
	res := &SignInResult{SignIns: len(logins), Seconds: secs, PerSecond: float64(len(logins)) / secs,
		LoginP50Ms: sim.PercentileMs(logins, 50), LoginP99Ms: sim.PercentileMs(logins, 99), TotalP99Ms: sim.PercentileMs(totals, 99),
		Errors: int(errs.Load()), ServerCPUSec: (cpu1 - cpu0).Seconds(), ServerCPUs: cfg.ServerCPUs}
	if res.SignIns > 0 && res.ServerCPUSec > 0 {
		res.ServerCPUPerSignInUs = res.ServerCPUSec * 1e6 / float64(res.SignIns)
		res.PerServerCore = float64(res.SignIns) / res.ServerCPUSec
	}
	return res, nil
}

// Print writes the figures for people.
func (r *SignInResult) Print(w io.Writer) {
	fmt.Fprintf(w, "app-password reconnects: %d sign-ins in %.1fs = %.0f/s (client errors %d)\n", r.SignIns, r.Seconds, r.PerSecond, r.Errors)
	fmt.Fprintf(w, "sign-in command p50 %.2f ms, p99 %.2f ms; connect+STARTTLS+sign-in p99 %.2f ms\n", r.LoginP50Ms, r.LoginP99Ms, r.TotalP99Ms)
	pinned := "not pinned"
	if r.ServerCPUs != "" {
		pinned = "pinned to CPUs " + r.ServerCPUs
	}
	fmt.Fprintf(w, "server process (%s): %.1f CPU-seconds, %.0f µs per sign-in = %.0f sign-ins/s per server core\n",
		pinned, r.ServerCPUSec, r.ServerCPUPerSignInUs, r.PerServerCore)
}

// seedAppPasswords adds people p000000@bench... with one app password each
// (scopes imap and smtp) and returns the passwords by person.
func seedAppPasswords(ctx context.Context, dir string, people int) ([]string, error) {
	st, err := sqlite.Open(ctx, dir, sqlite.Options{})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	const chunk = 5000
	secrets := make([]string, people)
	for k := 0; k < people; k += chunk {
		var recs []store.PersonRecord
		for j := k; j < min(k+chunk, people); j++ {
			recs = append(recs, store.PersonRecord{Email: sim.BenchEmail(j), Name: fmt.Sprint("Device owner ", j), Org: "Bench Trust"})
		}
		if _, _, err := st.UpsertPeople(ctx, recs); err != nil {
			return nil, err
		}
		var aps []store.AppPasswordRecord
		for j := k; j < min(k+chunk, people); j++ {
			p, err := st.PersonByEmail(ctx, sim.BenchEmail(j))
			if err != nil {
				return nil, err
			}
			secret, hash := auth.NewAppPassword()
			secrets[j] = secret
			aps = append(aps, store.AppPasswordRecord{PersonID: p.ID, Name: "phone", Hash: hash, Scopes: []string{auth.ScopeIMAP, auth.ScopeSMTP}})
		}
		if err := st.AddAppPasswords(ctx, aps); err != nil {
			return nil, err
		}
	}
	return secrets, nil
}

// serveProcess is a `wardmail serve` child.
type serveProcess struct {
	cmd              *exec.Cmd
	imap, submission string
}

var doorsLine = regexp.MustCompile(`serving .*submission (127\.0\.0\.1:\d+).*imap (127\.0\.0\.1:\d+)`)

// startServeProcess runs `wardmail serve` on loopback (submission and IMAP
// only), optionally under taskset, and waits for its doors.
func startServeProcess(bin, dir, cpus, profile string) (*serveProcess, error) {
	if bin == "" {
		var err error
		if bin, err = os.Executable(); err != nil {
			return nil, err
		}
	}
	args := []string{bin, "serve", "--data", dir, "--smtp", "", "--submission", "127.0.0.1:0", "--imap", "127.0.0.1:0",
		"--http", "", "--log-level", "error"}
	if profile != "" {
		args = append(args, "--cpuprofile", profile)
	}
	if cpus != "" {
		args = append([]string{"taskset", "-c", cpus}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &serveProcess{cmd: cmd}
	found := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		var seen []string
		for sc.Scan() {
			if m := doorsLine.FindStringSubmatch(sc.Text()); m != nil && p.imap == "" {
				p.submission, p.imap = m[1], m[2]
				found <- nil
				continue
			}
			seen = append(seen, sc.Text())
		}
		found <- fmt.Errorf("wardmail serve stopped: %s", strings.Join(seen, "\n"))
	}()
	select {
	case err := <-found:
		if err != nil {
			_ = cmd.Wait()
			return nil, err
		}
	case <-time.After(60 * time.Second):
		p.stop()
		return nil, errors.New("wardmail serve did not open its doors in 60 s")
	}
	return p, nil
}

func (p *serveProcess) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// processCPU reads a process's user + system CPU time from /proc (Linux).
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("reading the server's CPU time: %w", err)
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, errors.New("reading the server's CPU time: short /proc stat")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("reading the server's CPU time: bad /proc stat")
	}
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticks, nil
}
