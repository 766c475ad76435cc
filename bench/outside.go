package bench

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"wardmail/auth"
	"wardmail/store"
	"wardmail/store/sqlite"
)

// OutsideConfig sets up `wardmail bench outside`: delivery and mailbox reads
// measured the way an outside user measures them. Postfix's own load
// generator (smtp-source: a new connection per message, plain SMTP) sends
// into the inbound door of `wardmail serve` running as its own process, and
// Python's imaplib opens a large mailbox. With Pair, the same commands run
// against a stock Postfix → LMTP → Dovecot pair on loopback (Debian's
// packages, started in the foreground from a temporary folder), interleaved
// with Wardmail's runs, so both are measured under the same machine load.
type OutsideConfig struct {
	Binary   string // the wardmail executable to serve with ("": this one)
	People   int    // recipients 1..People, as smtp-source -N names them (20,000)
	Messages int    // messages per delivery run (20,000)
	Sessions int    // smtp-source -s (20)
	Size     int    // smtp-source -l (1,940)
	Runs     int    // delivery runs of each side, interleaved (3)
	// ReadMessages is the size of the INBOX opened by the read test (10,000;
	// 0 skips it); ReadRepeats the warm opens timed (20).
	ReadMessages, ReadRepeats int
	// FloodPosts posts to a list of every bench person from 20 named
	// senders while 4 readers open random members' mailboxes (0: no
	// flood); FloodQuiet is how long opens are timed before and after.
	FloodPosts    int
	FloodQuiet    time.Duration
	Pair          bool   // also measure Postfix+Dovecot
	Install       bool   // apt-get install what is missing
	DataDir       string // Wardmail's data folder ("": a temporary one)
	ServerProfile string // Wardmail writes a CPU profile here
	Out           io.Writer
}

// OutsideRun is one delivery run of one side.
type OutsideRun struct {
	Side     string  `json:"side"` // "wardmail" or "postfix+dovecot"
	Run      int     `json:"run"`
	Messages int     `json:"messages"`
	Seconds  float64 `json:"seconds"` // smtp-source start to the last delivery durable
	PerSec   float64 `json:"per_second"`
	SourceS  float64 `json:"smtp_source_seconds"` // smtp-source alone (Postfix queues before delivering)
	ServerMs float64 `json:"server_cpu_ms_per_message"`
	// Commits and MsgsPerCommit are Wardmail's group commits during the run.
	Commits       float64 `json:"commits,omitempty"`
	CommitsPerSec float64 `json:"commits_per_second,omitempty"`
	MsgsPerCommit float64 `json:"messages_per_commit,omitempty"`
	MachineBusy   float64 `json:"machine_cpu_busy_percent"`
	IOWait        float64 `json:"iowait_percent"`
	Load          float64 `json:"load_average_before"`
	DBBytes       int64   `json:"database_bytes,omitempty"`
	WALBytes      int64   `json:"wal_bytes,omitempty"`
	Stored        int64   `json:"messages_stored_before"`
}

// OutsideRead is the warm open of a large INBOX by imaplib.
type OutsideRead struct {
	Side       string  `json:"side"`
	Messages   int     `json:"messages"`
	LoginMs    float64 `json:"login_ms"`
	SelectMs   float64 `json:"select_ms"`
	FetchMs    float64 `json:"fetch_ms"`
	TotalMs    float64 `json:"total_ms"`
	FirstTotal float64 `json:"first_open_total_ms"`
	Load       float64 `json:"load_average_before"`
}

// OutsideResult holds the figures.
type OutsideResult struct {
	Runs  []OutsideRun  `json:"runs"`
	Reads []OutsideRead `json:"reads"`
	Flood *OutsideFlood `json:"flood,omitempty"`
}

// readerAddress is the person whose INBOX the read test opens.
const readerAddress = "reader@nhs.test"

// readerSecretFile, in the data folder, holds the reader's password on both
// sides: on Wardmail an app password.
const readerSecretFile = "bench-reader-secret"

// Outside runs the benchmark.
func Outside(ctx context.Context, cfg OutsideConfig) (*OutsideResult, error) {
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	cfg.People = max(cfg.People, 1)
	cfg.Messages = max(cfg.Messages, 1)
	cfg.Sessions = max(cfg.Sessions, 1)
	cfg.Runs = max(cfg.Runs, 0)
	if cfg.Size <= 0 {
		cfg.Size = 1940
	}
	if cfg.ReadRepeats <= 0 {
		cfg.ReadRepeats = 20
	}
	need := []string{"smtp-source"}
	if cfg.Pair {
		need = append(need, "postconf", "dovecot")
	}
	if cfg.ReadMessages > 0 {
		need = append(need, "python3")
	}
	if err := ensureTools(cfg.Out, cfg.Install, need...); err != nil {
		return nil, err
	}
	dir := cfg.DataDir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "wardmail-bench-outside-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "wardmail.db")); os.IsNotExist(err) {
		fmt.Fprintf(cfg.Out, "seeding %d people...\n", cfg.People+1)
		if err := seedOutsidePeople(ctx, dir, cfg.People); err != nil {
			return nil, err
		}
	}
	var floodFS *floodSecrets
	if cfg.FloodPosts > 0 {
		fmt.Fprintln(cfg.Out, "seeding the flood list...")
		var err error
		if floodFS, err = loadOrSeedFlood(ctx, dir, cfg.People); err != nil {
			return nil, err
		}
	}
	secret, err := os.ReadFile(filepath.Join(dir, readerSecretFile))
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "bench.conf")
	// Outside senders are not limited per sender in the real service
	// either; the limits count signed-in people. Every client is on
	// 127.0.0.1, one network: its cap (50 a network by default) is lifted,
	// as smtp-source's sessions overlap the server's last replies.
	if err := os.WriteFile(conf, []byte("sender_limits = off\nsmtp_max_connections_per_network = 1000\n"), 0o600); err != nil {
		return nil, err
	}
	srv, err := startServe(cfg.Binary, dir, cfg.ServerProfile, "--config", conf, "--smtp", "127.0.0.1:0",
		"--submission", "127.0.0.1:0", "--imap", "127.0.0.1:0", "--http", "127.0.0.1:0", "--log-level", "error")
	if err != nil {
		return nil, err
	}
	defer srv.stop()

	var pair *mailPair
	if cfg.Pair {
		fmt.Fprintln(cfg.Out, "starting Postfix → LMTP → Dovecot on loopback...")
		if pair, err = startMailPair(dir, string(secret)); err != nil {
			return nil, err
		}
		defer pair.stop()
	}

	res := &OutsideResult{}
	stored := int64(0)
	for run := 1; run <= cfg.Runs; run++ {
		r, err := wardmailRun(cfg, srv, dir, run, stored)
		if err != nil {
			return res, err
		}
		stored += int64(r.Messages)
		res.Runs = append(res.Runs, *r)
		r.print(cfg.Out)
		if pair != nil {
			r, err := pair.run(cfg, run)
			if err != nil {
				return res, err
			}
			res.Runs = append(res.Runs, *r)
			r.print(cfg.Out)
		}
	}
	if cfg.ReadMessages > 0 {
		fmt.Fprintf(cfg.Out, "filling %s with %d messages on each side...\n", readerAddress, cfg.ReadMessages)
		if _, err := smtpSource(srv.doors["smtp"], cfg.ReadMessages, cfg.Sessions, cfg.Size, false, readerAddress); err != nil {
			return res, err
		}
		rd, err := imapRead("wardmail", srv.doors["imap"], string(secret), cfg.ReadRepeats)
		if err != nil {
			return res, err
		}
		res.Reads = append(res.Reads, *rd)
		if pair != nil {
			if _, err := smtpSource(pair.smtpAddr, cfg.ReadMessages, cfg.Sessions, cfg.Size, false, readerAddress); err != nil {
				return res, err
			}
			if err := pair.waitDrained(10 * time.Minute); err != nil {
				return res, err
			}
			rd, err := imapRead("postfix+dovecot", pair.imapAddr, string(secret), cfg.ReadRepeats)
			if err != nil {
				return res, err
			}
			res.Reads = append(res.Reads, *rd)
		}
	}
	if floodFS != nil {
		if cfg.FloodQuiet <= 0 {
			cfg.FloodQuiet = 10 * time.Second
		}
		fmt.Fprintf(cfg.Out, "list flood: %d posts while 4 readers open mailboxes...\n", cfg.FloodPosts)
		if res.Flood, err = flood(srv, floodFS, cfg.People, cfg.FloodPosts, cfg.FloodQuiet); err != nil {
			return res, err
		}
		res.Flood.print(cfg.Out)
	}
	return res, nil
}

// wardmailRun sends one batch into Wardmail's inbound door.
func wardmailRun(cfg OutsideConfig, srv *serveProc, dir string, run int, stored int64) (*OutsideRun, error) {
	r := &OutsideRun{Side: "wardmail", Run: run, Messages: cfg.Messages, Load: loadAverage(), Stored: stored}
	m0, err := srv.metrics()
	if err != nil {
		return nil, err
	}
	cpu0, err := processCPU(srv.cmd.Process.Pid)
	if err != nil {
		return nil, err
	}
	mc0 := machineCPU()
	start := time.Now()
	if _, err := smtpSource(srv.doors["smtp"], cfg.Messages, cfg.Sessions, cfg.Size, true, "bench@nhs.test"); err != nil {
		return nil, err
	}
	r.Seconds = time.Since(start).Seconds()
	r.SourceS = r.Seconds
	mc1 := machineCPU()
	cpu1, err := processCPU(srv.cmd.Process.Pid)
	if err != nil {
		return nil, err
	}
	m1, err := srv.metrics()
	if err != nil {
		return nil, err
	}
	if got := m1["wardmail_store_mailbox_deliveries_total"] - m0["wardmail_store_mailbox_deliveries_total"]; int(got) != cfg.Messages {
		return nil, fmt.Errorf("wardmail run %d: smtp-source sent %d messages but %v were delivered", run, cfg.Messages, got)
	}
	r.PerSec = float64(cfg.Messages) / r.Seconds
	r.ServerMs = (cpu1 - cpu0).Seconds() * 1000 / float64(cfg.Messages)
	r.Commits = m1["wardmail_store_commits_total"] - m0["wardmail_store_commits_total"]
	r.CommitsPerSec = r.Commits / r.Seconds
	if r.Commits > 0 {
		r.MsgsPerCommit = float64(cfg.Messages) / r.Commits
	}
	r.MachineBusy, r.IOWait = mc1.since(mc0)
	r.DBBytes = fileSize(filepath.Join(dir, "wardmail.db"))
	r.WALBytes = fileSize(filepath.Join(dir, "wardmail.db-wal"))
	return r, nil
}

func (r *OutsideRun) print(w io.Writer) {
	fmt.Fprintf(w, "%-16s run %d: %d messages in %.1fs = %.0f/s; server CPU %.2f ms/message; machine busy %.0f%%, iowait %.0f%%; load %.1f",
		r.Side, r.Run, r.Messages, r.Seconds, r.PerSec, r.ServerMs, r.MachineBusy, r.IOWait, r.Load)
	if r.Commits > 0 {
		fmt.Fprintf(w, "; %.0f commits/s, %.1f messages/commit; db %.0f MB, WAL %.0f MB (%d stored before)",
			r.CommitsPerSec, r.MsgsPerCommit, float64(r.DBBytes)/1e6, float64(r.WALBytes)/1e6, r.Stored)
	} else {
		fmt.Fprintf(w, "; smtp-source alone %.1fs", r.SourceS)
	}
	fmt.Fprintln(w)
}

// Print writes the figures for people.
func (res *OutsideResult) Print(w io.Writer) {
	fmt.Fprintln(w, "delivery (smtp-source -N, new connection per message):")
	for i := range res.Runs {
		res.Runs[i].print(w)
	}
	for _, rd := range res.Reads {
		fmt.Fprintf(w, "%-16s warm open of %d messages (imaplib, median of repeats): LOGIN %.1f ms, SELECT %.1f ms, UID FETCH 1:* (FLAGS ENVELOPE) %.1f ms, all %.1f ms (first open %.1f ms); load %.1f\n",
			rd.Side, rd.Messages, rd.LoginMs, rd.SelectMs, rd.FetchMs, rd.TotalMs, rd.FirstTotal, rd.Load)
	}
	if res.Flood != nil {
		res.Flood.print(w)
	}
}

// seedOutsidePeople adds bench@nhs.test, 1bench@nhs.test … Nbench@nhs.test
// (smtp-source -N numbers recipients from 1) and the reader with a password.
func seedOutsidePeople(ctx context.Context, dir string, people int) error {
	st, err := sqlite.Open(ctx, dir, sqlite.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	const chunk = 5000
	for k := 0; k <= people; k += chunk {
		var recs []store.PersonRecord
		for j := k; j < min(k+chunk, people+1); j++ {
			email := fmt.Sprintf("%dbench@nhs.test", j)
			if j == 0 {
				email = "bench@nhs.test"
			}
			recs = append(recs, store.PersonRecord{Email: email, Name: fmt.Sprint("Bench person ", j), Org: "Bench Trust"})
		}
		if _, _, err := st.UpsertPeople(ctx, recs); err != nil {
			return err
		}
	}
	if _, _, err := st.UpsertPeople(ctx, []store.PersonRecord{{Email: readerAddress, Name: "Bench reader", Org: "Bench Trust"}}); err != nil {
		return err
	}
	// The reader is a mail client: it signs in with an app password, as
	// devices do here (SHA-256, DESIGN section 5); Dovecot's reader has a
	// plain static password.
	p, err := st.PersonByEmail(ctx, readerAddress)
	if err != nil {
		return err
	}
	secret, hash := auth.NewAppPassword()
	if err := st.AddAppPasswords(ctx, []store.AppPasswordRecord{{PersonID: p.ID, Name: "bench reader", Hash: hash,
		Scopes: []string{auth.ScopeIMAP}}}); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, readerSecretFile), []byte(secret), 0o600)
}

// smtpSource runs Postfix's load generator: msgs messages of size bytes
// over sessions parallel connections, a new connection per message.
// numbered prepends a sequence number to the recipient (-N).
func smtpSource(addr string, msgs, sessions, size int, numbered bool, to string) (time.Duration, error) {
	args := []string{"-m", strconv.Itoa(msgs), "-s", strconv.Itoa(sessions), "-l", strconv.Itoa(size),
		"-f", "sender@outside.test", "-t", to}
	if numbered {
		args = append([]string{"-N"}, args...)
	}
	args = append(args, addr)
	start := time.Now()
	out, err := exec.Command("smtp-source", args...).CombinedOutput()
	if err != nil || len(out) > 0 {
		return 0, fmt.Errorf("smtp-source %s: %v %s", strings.Join(args, " "), err, out)
	}
	return time.Since(start), nil
}

// ensureTools checks that the commands are on PATH (or in /usr/sbin), and
// installs Debian's packages for the missing ones when asked.
func ensureTools(out io.Writer, install bool, tools ...string) error {
	pkg := map[string]string{"smtp-source": "postfix", "postconf": "postfix", "dovecot": "dovecot-imapd dovecot-lmtpd", "python3": "python3"}
	var missing []string
	for _, t := range tools {
		if _, err := exec.LookPath(t); err == nil {
			continue
		}
		if _, err := os.Stat("/usr/sbin/" + t); err == nil {
			continue
		}
		missing = append(missing, pkg[t])
	}
	if len(missing) == 0 {
		return nil
	}
	if !install {
		return fmt.Errorf("missing %s: install Debian's %s, or run with --install", strings.Join(tools, ", "), strings.Join(missing, " "))
	}
	fmt.Fprintf(out, "installing %s...\n", strings.Join(missing, " "))
	cmd := exec.Command("apt-get", append([]string{"install", "-y", "--no-install-recommends"}, strings.Fields(strings.Join(missing, " "))...)...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get install: %v\n%s", err, b)
	}
	return nil
}

// metrics reads the server's Prometheus series: unlabelled ones by name,
// labelled ones by name and labels as written (name{label="value"}).
func (p *serveProc) metrics() (map[string]float64, error) {
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := c.Get("https://" + p.doors["http"] + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics: %s", resp.Status)
	}
	m := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		// The value is last: a label's value may hold a space.
		i := strings.LastIndexByte(line, ' ')
		name, val, ok := line[:max(i, 0)], line[i+1:], i > 0
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
			m[name] = v
		}
	}
	return m, nil
}

// cpuTimes is the machine's /proc/stat line.
type cpuTimes struct{ busy, iowait, total float64 }

func machineCPU() cpuTimes {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var t cpuTimes
	for i, s := range f[1:] {
		v, _ := strconv.ParseFloat(s, 64)
		t.total += v
		switch i {
		case 3: // idle
		case 4:
			t.iowait = v
		default:
			t.busy += v
		}
	}
	return t
}

// since returns the busy and iowait percentages of the machine between two
// readings.
func (t cpuTimes) since(t0 cpuTimes) (busy, iowait float64) {
	d := t.total - t0.total
	if d <= 0 {
		return 0, 0
	}
	return 100 * (t.busy - t0.busy) / d, 100 * (t.iowait - t0.iowait) / d
}

func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

var errNoDoor = errors.New("wardmail serve did not say where its doors are")
