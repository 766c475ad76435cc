package bench

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"wardmail/auth"
	"wardmail/freeport"
	"wardmail/outbound"
	"wardmail/privilege"
	"wardmail/server"
	"wardmail/store"
	"wardmail/submit"
)

// OutboundConfig is `wardmail bench outbound`: messages queued for several
// destination domains, all of whose mail servers are Postfix's smtp-sink on
// loopback, delivered by Wardmail's queue and, in the same run, by Postfix's
// own SMTP client from its queue to the same sink.
type OutboundConfig struct {
	Messages int // default 50,000
	Domains  int // default 20
	Size     int // bytes per message, default 2,048
	// Down queues this many messages for a destination that does not answer
	// and reports memory and CPU while they wait, then the drain rate once
	// it answers (0: skipped).
	Down    int
	Postfix bool // also measure Postfix
	// PostfixOnly measures Postfix alone (for trying its settings).
	PostfixOnly bool
	SkipDrain   bool // only the destination that is down
	Out         io.Writer
}

// OutboundResult is what the benchmark measured.
type OutboundResult struct {
	Messages int          `json:"messages"`
	Domains  int          `json:"domains"`
	Size     int          `json:"size"`
	Wardmail *DrainResult `json:"wardmail"`
	Postfix  *DrainResult `json:"postfix,omitempty"`
	Down     *DownResult  `json:"down,omitempty"`
}

// DrainResult is one side's delivery of a full queue.
type DrainResult struct {
	Side       string  `json:"side"`
	Seconds    float64 `json:"seconds"`
	PerSecond  float64 `json:"messages_per_second"`
	FillSecond float64 `json:"fill_seconds"`
	CPUSeconds float64 `json:"cpu_seconds"`
	// End to end: the same messages handed over SMTP while the queue
	// delivers, from the first until the sink has acknowledged the last.
	E2ESeconds   float64 `json:"e2e_seconds"`
	E2EPerSecond float64 `json:"e2e_messages_per_second"`
}

// DownResult is the queue's behaviour with much mail for a destination that
// is down.
type DownResult struct {
	Messages      int     `json:"messages"`
	RSSMiB        float64 `json:"rss_mib"`
	IdleCPUPct    float64 `json:"idle_cpu_percent"` // over 30 s of waiting
	DrainPerSec   float64 `json:"drain_messages_per_second"`
	DrainSeconds  float64 `json:"drain_seconds"`
	FillPerSecond float64 `json:"fill_messages_per_second"`
}

// Outbound runs the benchmark.
func Outbound(ctx context.Context, cfg OutboundConfig) (*OutboundResult, error) {
	if cfg.Messages <= 0 {
		cfg.Messages = 50000
	}
	if cfg.Domains <= 0 {
		cfg.Domains = 20
	}
	if cfg.Size <= 0 {
		cfg.Size = 2048
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if err := ensureTools(cfg.Out, false, "smtp-sink"); err != nil {
		return nil, err
	}
	port, err := freeport.Get()
	if err != nil {
		return nil, err
	}
	// One sink on every loopback address: destination i is 127.0.1.i, so
	// each side sees Domains destinations, each with its own limits.
	sink := exec.Command(lookTool("smtp-sink"), sinkArgs(fmt.Sprintf("0.0.0.0:%d", port))...)
	sink.Stderr = os.Stderr
	if err := sink.Start(); err != nil {
		return nil, err
	}
	defer func() { _ = sink.Process.Kill(); _ = sink.Wait() }()
	if err := waitListening(fmt.Sprintf("127.0.0.1:%d", port)); err != nil {
		return nil, err
	}
	res := &OutboundResult{Messages: cfg.Messages, Domains: cfg.Domains, Size: cfg.Size}
	routes := map[string]string{}
	for i := 0; i < cfg.Domains; i++ {
		routes[fmt.Sprintf("d%d.bench.test", i)] = fmt.Sprintf("127.0.1.%d:%d", i+1, port)
	}
	if cfg.PostfixOnly {
		cfg.Postfix = true
	}
	if cfg.SkipDrain {
		cfg.Postfix = false
	} else if !cfg.PostfixOnly {
		fmt.Fprintf(cfg.Out, "wardmail: queueing %d messages of %d bytes for %d domains...\n", cfg.Messages, cfg.Size, cfg.Domains)
		if res.Wardmail, err = wardmailDrain(ctx, cfg, routes); err != nil {
			return res, err
		}
		fmt.Fprintf(cfg.Out, "wardmail: %.0f messages/s end to end, %.0f draining a full queue\n", res.Wardmail.E2EPerSecond, res.Wardmail.PerSecond)
	}
	if cfg.Postfix {
		fmt.Fprintf(cfg.Out, "postfix: queueing the same messages...\n")
		if res.Postfix, err = postfixDrain(cfg, routes); err != nil {
			return res, err
		}
		fmt.Fprintf(cfg.Out, "postfix: %.0f messages/s end to end, %.0f draining a full queue\n", res.Postfix.E2EPerSecond, res.Postfix.PerSecond)
	}
	if cfg.Down > 0 {
		fmt.Fprintf(cfg.Out, "wardmail: queueing %d messages for a destination that is down...\n", cfg.Down)
		if res.Down, err = downQueue(ctx, cfg); err != nil {
			return res, err
		}
	}
	return res, nil
}

func lookTool(name string) string {
	for _, d := range []string{"/usr/sbin", "/usr/bin"} {
		if _, err := os.Stat(d + "/" + name); err == nil {
			return d + "/" + name
		}
	}
	return name
}

// benchServer starts Wardmail in this process with its queue paused and one
// sender.
func benchServer(ctx context.Context, routes map[string]string, paused bool) (*server.Server, string, error) {
	dir, err := os.MkdirTemp("", "wardmail-bench-outbound-")
	if err != nil {
		return nil, "", err
	}
	cfg := server.Defaults()
	cfg.DataDir, cfg.Hostname = dir, "mx.nhs.test"
	cfg.SMTPAddr, cfg.SubmissionAddr, cfg.IMAPAddr, cfg.HTTPAddr = "", "127.0.0.1:0", "", ""
	cfg.SenderLimitsOff = true
	cfg.Outbound.Routes, cfg.Outbound.Paused = routes, paused
	srv, err := server.Start(ctx, cfg, nil)
	if err != nil {
		return nil, dir, err
	}
	h, err := auth.HashPassword(auth.TestParams(), "bench-sender-pw")
	if err != nil {
		return nil, dir, err
	}
	if _, _, err := srv.Store.UpsertPeople(ctx, []store.PersonRecord{{Email: "sender@nhs.test", Name: "Sender", Org: "Bench Trust", PasswordHash: h}}); err != nil {
		return nil, dir, err
	}
	return srv, dir, nil
}

// inject sends n messages over SMTP (signed in when auth), message i to
// domain i mod domains.
func inject(addr string, useTLS, signIn bool, n, domains, size int, domainName func(int) string) error {
	body := strings.Repeat("x", 76) + "\r\n"
	text := strings.Repeat(body, max(1, size/len(body)))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			var c *smtp.Client
			var err error
			if useTLS {
				c, err = smtp.DialStartTLS(addr, &tls.Config{InsecureSkipVerify: true})
			} else {
				c, err = smtp.Dial(addr)
			}
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			if signIn {
				if err := c.Auth(sasl.NewPlainClient("", "sender@nhs.test", "bench-sender-pw")); err != nil {
					errs <- err
					return
				}
			}
			for i := g; i < n; i += 8 {
				to := fmt.Sprintf("r%d@%s", i, domainName(i%domains))
				msg := "From: sender@nhs.test\r\nTo: " + to + "\r\nSubject: bench " + strconv.Itoa(i) + "\r\n\r\n" + text
				if err := c.SendMail("sender@nhs.test", []string{to}, strings.NewReader(msg)); err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func wardmailDrain(ctx context.Context, cfg OutboundConfig, routes map[string]string) (*DrainResult, error) {
	e2e, err := wardmailE2E(ctx, cfg, routes)
	if err != nil {
		return nil, err
	}
	srv, dir, err := benchServer(ctx, routes, true)
	if dir != "" {
		defer os.RemoveAll(dir)
	}
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	start := time.Now()
	if err := inject(srv.Addrs["submission"], true, true, cfg.Messages, cfg.Domains, cfg.Size, func(i int) string { return fmt.Sprintf("d%d.bench.test", i) }); err != nil {
		return nil, err
	}
	r := &DrainResult{Side: "wardmail", FillSecond: time.Since(start).Seconds(), E2ESeconds: e2e, E2EPerSecond: float64(cfg.Messages) / e2e}
	cpu0 := selfCPU()
	start = time.Now()
	srv.Queue.Start()
	for {
		n, _, err := srv.Store.QueueSize(ctx)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.Seconds = time.Since(start).Seconds()
	r.CPUSeconds = (selfCPU() - cpu0).Seconds()
	r.PerSecond = float64(cfg.Messages) / r.Seconds
	failed, err := srv.Store.QueueList(ctx, store.QueueFilter{State: store.QueueFailed, Limit: 5})
	if err != nil {
		return nil, err
	}
	if len(failed) > 0 {
		return r, fmt.Errorf("wardmail: %d+ messages failed: %s", len(failed), failed[0].Rcpts[0].LastReply)
	}
	return r, nil
}

// wardmailE2E hands the messages to a running Wardmail over submission
// and waits until its queue is empty.
func wardmailE2E(ctx context.Context, cfg OutboundConfig, routes map[string]string) (float64, error) {
	srv, dir, err := benchServer(ctx, routes, false)
	if dir != "" {
		defer os.RemoveAll(dir)
	}
	if err != nil {
		return 0, err
	}
	defer srv.Close()
	start := time.Now()
	if err := inject(srv.Addrs["submission"], true, true, cfg.Messages, cfg.Domains, cfg.Size, func(i int) string { return fmt.Sprintf("d%d.bench.test", i) }); err != nil {
		return 0, err
	}
	for {
		n, _, err := srv.Store.QueueSize(ctx)
		if err != nil {
			return 0, err
		}
		if n == 0 {
			return time.Since(start).Seconds(), nil
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// postfixE2E hands the messages to a running Postfix over SMTP and waits
// until its queue is empty.
func postfixE2E(cfg OutboundConfig, routes map[string]string) (float64, error) {
	p := &mailPair{}
	dir, err := os.MkdirTemp("", "wardmail-bench-postfix-")
	if err != nil {
		return 0, err
	}
	p.dir = dir
	defer p.stop()
	if err := os.Chmod(dir, 0o755); err != nil {
		return 0, err
	}
	port, err := freeport.Get()
	if err != nil {
		return 0, err
	}
	p.smtpAddr = fmt.Sprintf("127.0.0.1:%d", port)
	transport, extra := postfixRoutes(p, routes)
	if err := p.startPostfixWith(port, extra, map[string]string{"transport": transport}); err != nil {
		return 0, err
	}
	start := time.Now()
	if err := inject(p.smtpAddr, false, false, cfg.Messages, cfg.Domains, cfg.Size, func(i int) string { return fmt.Sprintf("d%d.bench.test", i) }); err != nil {
		return 0, fmt.Errorf("%w\n%s", err, tail(p.path("maillog")))
	}
	if err := p.waitDrained(30 * time.Minute); err != nil {
		return 0, err
	}
	return time.Since(start).Seconds(), nil
}

func postfixRoutes(p *mailPair, routes map[string]string) (transport, extra string) {
	var t strings.Builder
	for d, addr := range routes {
		host, sinkPort, _ := net.SplitHostPort(addr)
		fmt.Fprintf(&t, "%s smtp:[%s]:%s\n", d, host, sinkPort)
	}
	return t.String(), "relay_domains = bench.test, .bench.test\ntransport_maps = texthash:" + p.path("conf", "transport") +
		"\nsmtpd_recipient_restrictions = permit_mynetworks, reject\n"
}

// postfixDrain fills a Postfix queue with delivery deferred, then lets its
// queue manager deliver to the same sink, one transport entry per domain
// (as Wardmail's routes), and waits until its queue is empty.
func postfixDrain(cfg OutboundConfig, routes map[string]string) (*DrainResult, error) {
	e2e, err := postfixE2E(cfg, routes)
	if err != nil {
		return nil, err
	}
	p := &mailPair{}
	dir, err := os.MkdirTemp("", "wardmail-bench-postfix-")
	if err != nil {
		return nil, err
	}
	p.dir = dir
	defer p.stop()
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	port, err := freeport.Get()
	if err != nil {
		return nil, err
	}
	p.smtpAddr = fmt.Sprintf("127.0.0.1:%d", port)
	transport, extra := postfixRoutes(p, routes)
	if err := p.startPostfixWith(port, extra+"defer_transports = smtp\n", map[string]string{"transport": transport}); err != nil {
		return nil, err
	}
	start := time.Now()
	if err := inject(p.smtpAddr, false, false, cfg.Messages, cfg.Domains, cfg.Size, func(i int) string { return fmt.Sprintf("d%d.bench.test", i) }); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, tail(p.path("maillog")))
	}
	// Every message is in the queue, deferred, before the clock starts.
	for {
		n, err := p.queued()
		if err != nil {
			return nil, err
		}
		inc, _ := countFiles(p.path("queue", "incoming"))
		act, _ := countFiles(p.path("queue", "active"))
		if n >= cfg.Messages && inc == 0 && act == 0 {
			break
		}
		if time.Since(start) > 10*time.Minute {
			return nil, fmt.Errorf("postfix queued %d of %d", n, cfg.Messages)
		}
		time.Sleep(50 * time.Millisecond)
	}
	r := &DrainResult{Side: "postfix", FillSecond: time.Since(start).Seconds(), E2ESeconds: e2e, E2EPerSecond: float64(cfg.Messages) / e2e}
	if err := p.writeMainCF(port, extra); err != nil {
		return nil, err
	}
	cpu0 := p.cpu()
	start = time.Now()
	if err := p.master.Process.Signal(syscall.SIGHUP); err != nil {
		return nil, err
	}
	time.Sleep(200 * time.Millisecond)
	if out, err := exec.Command("postqueue", "-c", p.path("conf"), "-f").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("postqueue -f: %v %s", err, out)
	}
	if err := p.waitDrained(30 * time.Minute); err != nil {
		return nil, err
	}
	r.Seconds = time.Since(start).Seconds()
	r.CPUSeconds = (p.cpu() - cpu0).Seconds()
	if os.Getenv("WARDMAIL_BENCH_LOG") != "" {
		fmt.Fprintln(cfg.Out, tail(p.path("maillog")))
	}
	r.PerSecond = float64(cfg.Messages) / r.Seconds
	return r, nil
}

func countFiles(dir string) (int, error) {
	n := 0
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		if e.IsDir() {
			k, err := countFiles(dir + "/" + e.Name())
			if err != nil {
				return 0, err
			}
			n += k
		} else {
			n++
		}
	}
	return n, nil
}

// downQueue queues cfg.Down messages for a destination whose server does
// not answer, measures the process while they wait, then points the
// destination at the sink and measures the drain.
func downQueue(ctx context.Context, cfg OutboundConfig) (*DownResult, error) {
	deadPort, err := freeport.Get() // nothing listens there
	if err != nil {
		return nil, err
	}
	routes := map[string]string{"down.bench.test": fmt.Sprintf("127.0.2.1:%d", deadPort)}
	srv, dir, err := benchServer(ctx, routes, false)
	if dir != "" {
		defer os.RemoveAll(dir)
	}
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	start := time.Now()
	if err := submitDirect(ctx, srv, cfg.Down, cfg.Size, "down.bench.test"); err != nil {
		return nil, err
	}
	r := &DownResult{Messages: cfg.Down, FillPerSecond: float64(cfg.Down) / time.Since(start).Seconds()}
	// Waiting: the destination is backed off; nothing should rescan.
	time.Sleep(5 * time.Second)
	cpu0, t0 := selfCPU(), time.Now()
	time.Sleep(30 * time.Second)
	r.IdleCPUPct = 100 * (selfCPU() - cpu0).Seconds() / time.Since(t0).Seconds()
	r.RSSMiB = float64(selfRSS()) / (1 << 20)
	fmt.Fprintf(cfg.Out, "down: %d queued, RSS %.0f MiB, idle CPU %.2f%%\n", cfg.Down, r.RSSMiB, r.IdleCPUPct)
	// The destination comes back (a sink now listens where nothing did);
	// an operator's retry of the domain ends its back-off.
	sink := exec.Command(lookTool("smtp-sink"), sinkArgs(fmt.Sprintf("127.0.2.1:%d", deadPort))...)
	sink.Stderr = os.Stderr
	if err := sink.Start(); err != nil {
		return r, err
	}
	defer func() { _ = sink.Process.Kill(); _ = sink.Wait() }()
	if err := waitListening(fmt.Sprintf("127.0.2.1:%d", deadPort)); err != nil {
		return r, err
	}
	start = time.Now()
	if _, err := srv.Queue.Change(ctx, privilege.Operator("bench"), outbound.ActRetry, "", "down.bench.test"); err != nil {
		return r, err
	}
	for {
		n, _, err := srv.Store.QueueSize(ctx)
		if err != nil {
			return r, err
		}
		if n == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.DrainSeconds = time.Since(start).Seconds()
	r.DrainPerSec = float64(cfg.Down) / r.DrainSeconds
	return r, nil
}

// submitDirect queues n messages through the submission pipeline in this
// process (what the submission door calls, without SMTP and TLS), to fill a
// large queue quickly.
func submitDirect(ctx context.Context, srv *server.Server, n, size int, domain string) error {
	person, err := srv.Store.PersonByEmail(ctx, "sender@nhs.test")
	if err != nil {
		return err
	}
	text := strings.Repeat(strings.Repeat("x", 76)+"\r\n", max(1, size/78))
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			s := &submit.Sender{Person: person, Door: "submission", RemoteAddr: "127.0.0.1:1", Helo: "bench"}
			for i := g; i < n; i += 16 {
				to := fmt.Sprintf("r%d@%s", i, domain)
				msg := "From: sender@nhs.test\r\nTo: " + to + "\r\nSubject: down " + strconv.Itoa(i) + "\r\n\r\n" + text
				if _, err := srv.Pipeline.Submit(ctx, s, "sender@nhs.test", []submit.Recipient{{Address: to, Outside: true}}, []byte(msg)); err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// sinkArgs runs smtp-sink on addr, as nobody when root.
func sinkArgs(addr string) []string {
	if os.Geteuid() == 0 {
		return []string{"-u", "nobody", addr, "1024"}
	}
	return []string{addr, "1024"}
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// selfRSS is this process's resident set in bytes.
func selfRSS() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}
