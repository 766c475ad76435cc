// Package server wires Wardmail's parts together and starts every door. It
// is what `wardmail serve` runs, and what tests and benchmarks start with a
// Config to get a real server on loopback ports (":0" picks a free port).
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"wardmail/dkimsign"
	"wardmail/tlspolicy"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"wardmail/admin"
	"wardmail/auth"
	"wardmail/blob"
	"wardmail/blob/s3blob"
	"wardmail/cluster"
	"wardmail/connlimit"
	"wardmail/directory"
	"wardmail/imapd"
	"wardmail/inbound"
	"wardmail/lists"
	"wardmail/listsvc"
	"wardmail/lockout"
	"wardmail/mail"
	"wardmail/outbound"
	"wardmail/policy"
	"wardmail/quickack"
	"wardmail/scan"
	"wardmail/smtpd"
	"wardmail/store"
	"wardmail/store/postgres"
	"wardmail/store/sqlite"
	"wardmail/submit"
	"wardmail/web"
)

// Server is a running Wardmail.
type Server struct {
	Store    *store.Store
	Login    *auth.Login
	Pipeline *submit.Pipeline
	Admin    *admin.Service  // what administrators do, decided by the privilege model
	Node     *cluster.Node   // this process in the cluster: heartbeat, background-job leases
	Storms   *policy.Breaker // the reply-all storm breaker and its board
	Limits   *policy.Limits  // per-sender limits
	Policy   *policy.Metrics
	Scanner  *scan.Scanner   // attachments, malware, spam (config_scan.go)
	Queue    *outbound.Queue // mail to other domains; nil when outbound is off
	Registry *prometheus.Registry
	TLS      *tls.Config
	Mail     *MailSecurity // DKIM keys and outbound TLS policy (mailsec.go)
	// Addrs are the addresses the doors listen on, by config key
	// ("smtp", "submission", "imap", ...).
	Addrs map[string]string
	// DMARCReports sends the daily DMARC aggregate reports (nil when
	// inbound authentication is off).
	DMARCReports *inbound.Reporter

	log     *slog.Logger
	closers []func() error
	wg      sync.WaitGroup
	errs    chan error
}

// openStore opens the embedded SQLite database in the data folder or, when
// cfg.Database names one, PostgreSQL with the bodies in DATA/blobs.
func openStore(ctx context.Context, cfg Config, log *slog.Logger) (*store.Store, error) {
	openBlobs, err := bodyStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	if cfg.Database != "" {
		return postgres.Open(ctx, cfg.Database, postgres.Options{BlobDir: filepath.Join(cfg.DataDir, "blobs"), OpenBlobs: openBlobs,
			KeyFile: cfg.KeyFile, TOTPKeyFile: totpKeyFile(cfg), InlineMax: cfg.InlineMax, Logger: log, Now: cfg.Now,
			ListGovernance: listGovernance(cfg), NodeName: nodeName(cfg), ExtraMigrations: cfg.ExtraMigrations,
			IndexEvery: -1}) // the word indexer runs under a lease, once joined (startIndexer)
	}
	return sqlite.Open(ctx, cfg.DataDir, sqlite.Options{KeyFile: cfg.KeyFile, TOTPKeyFile: totpKeyFile(cfg), InlineMax: cfg.InlineMax,
		OpenBlobs: openBlobs, Logger: log, Now: cfg.Now, ListGovernance: listGovernance(cfg)})
}

// bodyStore returns how to open the S3 bucket that s3_endpoint names, or nil
// for the blobs folder in the data folder.
func bodyStore(ctx context.Context, cfg Config, log *slog.Logger) (func(*blob.Sealer) (blob.Store, error), error) {
	if cfg.S3Endpoint == "" {
		return nil, nil
	}
	var secret []byte
	if cfg.S3SecretKeyFile != "" {
		var err error
		if secret, err = os.ReadFile(cfg.S3SecretKeyFile); err != nil {
			return nil, fmt.Errorf("s3_secret_key_file: %w", err)
		}
	}
	return func(sealer *blob.Sealer) (blob.Store, error) {
		st, err := s3blob.Open(ctx, s3blob.Config{Endpoint: cfg.S3Endpoint, Bucket: cfg.S3Bucket, Prefix: cfg.S3Prefix,
			Region: cfg.S3Region, AccessKey: cfg.S3AccessKey, SecretKey: strings.TrimSpace(string(secret)),
			Insecure: cfg.S3Insecure, CAFile: cfg.S3CAFile, Timeout: cfg.S3Timeout}, sealer)
		if err != nil {
			return nil, err
		}
		log.Info("message bodies in an object store", "store", st.String())
		return st, nil
	}, nil
}

// totpKeyFile is the key that seals TOTP secrets: totp_key_file, or
// DATA/totp.key (made on the first start).
func totpKeyFile(cfg Config) string {
	if cfg.TOTPKeyFile != "" {
		return cfg.TOTPKeyFile
	}
	return filepath.Join(cfg.DataDir, "totp.key")
}

// Start opens the store (cfg.Database, else the SQLite database in
// cfg.DataDir) and starts every configured door.
func Start(ctx context.Context, cfg Config, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var unlock func() error
	if cfg.Database == "" {
		var err error
		if unlock, err = lockDataFolder(cfg.DataDir); err != nil {
			return nil, err
		}
	}
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		if unlock != nil {
			_ = unlock()
		}
		return nil, fmt.Errorf("opening the store: %w", err)
	}
	// TOTP secrets an older version kept in clear are sealed now.
	if n, err := st.SealTOTPSecrets(ctx); err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("sealing TOTP secrets: %w", err)
	} else if n > 0 {
		log.Info("sealed TOTP secrets kept in clear", "count", n)
	}
	s := &Server{Store: st, Registry: prometheus.NewRegistry(), Addrs: map[string]string{}, log: log, errs: make(chan error, 8)}
	if unlock != nil {
		s.closers = append(s.closers, unlock)
	}
	s.closers = append(s.closers, st.Close)
	fail := func(err error) (*Server, error) {
		_ = s.Close()
		return nil, err
	}

	s.TLS, err = LoadTLS(cfg.TLSCert, cfg.TLSKey, cfg.DataDir, cfg.Hostname)
	if err != nil {
		return fail(err)
	}
	if s.Mail, err = newMailSecurity(ctx, st, cfg, log); err != nil {
		return fail(err)
	}
	params := auth.DefaultParams()
	if cfg.Argon2Memory > 0 {
		params.Memory = cfg.Argon2Memory
	}
	if cfg.Argon2Time > 0 {
		params.Time = cfg.Argon2Time
	}
	if cfg.Argon2Threads > 0 {
		params.Threads = cfg.Argon2Threads
	}
	hasher := auth.NewHasher(params, cfg.HashWorkers, cfg.HashWait)
	signinKey, err := loadSignInKey(cfg.SignInKeyFile, cfg.DataDir)
	if err != nil {
		return fail(err)
	}
	lock, err := lockout.New(ctx, lockout.Config{Store: st, Logger: log, Key: signinKey, Policy: lockout.Policy{
		Threshold: cfg.LockoutThreshold, FamiliarThreshold: cfg.LockoutFamiliarThreshold,
		AccountThreshold: cfg.LockoutAccountThreshold, LockBase: cfg.LockoutBase, LockMax: cfg.LockoutMax,
		NetworkThreshold: cfg.LockoutNetworkThreshold, NetworkWindow: cfg.LockoutNetworkWindow}})
	if err != nil {
		return fail(fmt.Errorf("starting lockout: %w", err))
	}
	s.closers = append(s.closers, lock.Close)
	s.Login = auth.New(auth.Config{Store: st, Hasher: hasher, Lockout: lock, Logger: log, SlowLookup: cfg.SignInSlowLookup, Now: cfg.Now})
	s.closers = append(s.closers, s.Login.Close)
	s.Policy, s.Storms, s.Limits = newPolicy(st, cfg, log)
	nodeCtx, stopNode := context.WithCancel(context.Background())
	node, err := cluster.Join(nodeCtx, st, cluster.Info{Name: nodeName(cfg), Version: cfg.Version}, log)
	if err != nil {
		stopNode()
		return fail(fmt.Errorf("joining the cluster: %w", err))
	}
	s.Node = node
	s.closers = append(s.closers, func() error {
		stopNode()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return node.Leave(ctx)
	})
	if cfg.Database != "" {
		// Stopped before the node leaves (closers run last first).
		s.closers = append(s.closers, startIndexer(st, node))
	}
	s.Scanner = newScanner(cfg.Scan, cfg)
	var queue submit.Outbound
	var reports inbound.Enqueuer = st // kept in the outbox until a queue takes them
	if !cfg.Outbound.Off {
		s.Queue = startQueue(st, cfg, s.Mail, node, log)
		s.closers = append(s.closers, s.Queue.Close)
		s.StartTLSReports(cfg, s.Queue)
		drainOutbox(ctx, st, s.Queue, log)
		queue, reports = s.Queue, s.Queue
	}
	checker := newInbound(cfg, st, log)
	if checker != nil {
		s.DMARCReports = newReporter(cfg, st, reports, log)
		s.closers = append(s.closers, s.DMARCReports.Run(time.Hour))
	}
	s.Pipeline = submit.New(submit.Config{
		Outbound: queue,
		Limits:   s.Limits, Breaker: s.Storms, Now: cfg.Now, Scanner: s.Scanner,
		Store: st, Hostname: cfg.Hostname, LocalDomains: cfg.LocalDomains,
		MaxRecipients: cfg.MaxRecipients, MaxMessageBytes: cfg.MaxMessageBytes, Logger: log,
		Governance:   listGovernance(cfg),
		ConfirmAbove: cfg.ConfirmAudienceAbove,
		Inbound:      inboundChecker(checker),
		Reports:      tlsReports{st: st, cfg: cfg},
	})

	s.closers = append(s.closers, startWorkers(st, s.Pipeline, node, cfg.PostTrickle, log))
	s.closers = append(s.closers, startBrakeWorker(s.Storms, time.Second, log))
	// Revocations made by the CLI or another node reach open sessions
	// within a second; this process's own reach them at once.
	s.closers = append(s.closers, st.Revocations().Run(time.Second))

	// Every door's connections are capped in total and per client network,
	// within the open-file limit, which serve raises as far as it may.
	nofile, err := connlimit.RaiseFileLimit()
	if err != nil {
		log.Warn("raising the open-file limit", "err", err)
	}
	caps := fitDoors(&cfg, nofile, log)
	log.Info("connection caps", "open_file_limit", nofile, "caps", caps)
	connMetrics := connlimit.NewMetrics()
	limiter := func(door string, session time.Duration) *connlimit.Limiter {
		l := caps[door]
		l.SessionLimit = session
		return connlimit.New(door, l, connMetrics, log)
	}
	preAuth := orDefault(cfg.PreAuthSessionLimit, defPreAuthSession)
	smtpConfig := smtpd.Config{Pipeline: s.Pipeline, TLS: s.TLS, Hostname: cfg.Hostname, Logger: log, Metrics: smtpd.NewMetrics(),
		ReadTimeout: orDefault(cfg.SMTPCommandTimeout, defSMTPCommand),
		DataTimeout: orDefault(cfg.SMTPDataTimeout, defSMTPData), DataMinRate: orDefault(cfg.SMTPDataMinRate, defMinRate)}
	smtpMetrics := smtpConfig.Metrics
	inboundConfig := smtpConfig
	inboundConfig.Conns = limiter("smtp", orDefault(cfg.SMTPSessionLimit, defSMTPSession))
	inbound := smtpd.New(inboundConfig)
	submissionConfig := smtpConfig
	submissionConfig.Auth, submissionConfig.Submission, submissionConfig.Conns = s.Login, true, limiter("submission", preAuth)
	submissionConfig.Revocations = st.Revocations()
	submission := smtpd.New(submissionConfig)
	mailSvc := mail.New(st, log)
	imap := imapd.New(imapd.Config{Mail: mailSvc, Revocations: st.Revocations(), Auth: s.Login, TLS: s.TLS, Hostname: cfg.Hostname, Logger: log,
		Conns: limiter("imap", 0), Limits: imapd.Limits{PreAuthSession: preAuth,
			PreAuthTimeout: orDefault(cfg.IMAPPreAuthTimeout, defIMAPPreAuthIdle), IdleTimeout: orDefault(cfg.IMAPIdleTimeout, defIMAPIdle)}})
	httpConns := limiter("http", 0)
	s.closers = append(s.closers, inbound.Close, submission.Close, imap.Close)

	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		st.Metrics(), hasher, s.Login, lock, s.Pipeline.Metrics(), smtpMetrics, imap.Metrics(), s.Policy, connMetrics, s.Scanner.Metrics(),
		dkimsign.SignedTotal, tlspolicy.Collectors()[0],
	} {
		if err := s.Registry.Register(c); err != nil {
			return fail(fmt.Errorf("registering metrics: %w", err))
		}
	}
	if checker != nil {
		if err := s.Registry.Register(checker.Metrics()); err != nil {
			return fail(fmt.Errorf("registering metrics: %w", err))
		}
	}
	// The object store's requests and bytes, when the bodies live in one.
	if c, ok := st.Blobs().(prometheus.Collector); ok {
		if err := s.Registry.Register(c); err != nil {
			return fail(fmt.Errorf("registering metrics: %w", err))
		}
	}
	if s.Queue != nil {
		if err := s.Registry.Register(s.Queue.Metrics()); err != nil {
			return fail(fmt.Errorf("registering metrics: %w", err))
		}
	}

	s.Admin = admin.New(admin.Config{Store: st, Hasher: hasher, Locks: admin.EngineLocks{Engine: lock},
		CheckPassword: auth.CheckPasswordPolicy})
	httpSrv := &http.Server{
		Handler: limitHTTP(web.New(web.Config{Mail: mailSvc, Pipeline: s.Pipeline, Login: s.Login,
			Sessions:  auth.NewWebSessions(auth.WebSessionsConfig{Store: st, Now: cfg.Now, Logger: log}),
			Directory: directory.NewService(st),
			Lists:     listsvc.New(listsvc.Config{Store: st, Governance: s.Pipeline.Governance(), Notify: s.Pipeline}),
			Health:    storeHealth{st},
			Registry:  s.Registry, Logger: log, TLS: true, ReplyAll: s.Storms, Admin: s.Admin, Now: cfg.Now, Scanners: s.Scanner,
			MTASTS: s.mtaSTSHandler(cfg), Queue: s.Queue}),
			orDefault(cfg.HTTPBodyTimeout, defHTTPBody), orDefault(cfg.HTTPBodyMinRate, defMinRate)),
		ReadHeaderTimeout: orDefault(cfg.HTTPReadHeaderTimeout, defHTTPHeader),
		IdleTimeout:       orDefault(cfg.HTTPIdleTimeout, defHTTPIdle),
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		TLSConfig:         quickack.AfterHandshake(s.TLS),
		ConnContext:       connContext,
	}
	s.closers = append(s.closers, httpSrv.Close)
	// The HTTP door speaks HTTPS with the server's certificate, like every
	// other door; http_plain is for a TLS-terminating proxy in front of it.
	// A connection past the caps is let in marked, so that its request is
	// answered 503 in HTTP (limitHTTP) rather than the TLS handshake cut; a
	// plain-HTTP request on this port is redirected to https://.
	serveHTTP := func(l net.Listener) error {
		return httpSrv.ServeTLS(web.RedirectPlainHTTP(httpConns.Listen(l, nil), log), "", "")
	}
	if cfg.HTTPPlain {
		serveHTTP = func(l net.Listener) error { return httpSrv.Serve(httpConns.Listen(l, nil)) }
	}

	doors := []struct {
		key, addr string
		serve     func(net.Listener) error
	}{
		{"smtp", cfg.SMTPAddr, inbound.Serve},
		{"submission", cfg.SubmissionAddr, submission.Serve},
		{"submissions", cfg.SubmissionsAddr, submission.ServeTLS},
		{"imap", cfg.IMAPAddr, imap.Serve},
		{"imaps", cfg.IMAPSAddr, imap.ServeTLS},
		{"http", cfg.HTTPAddr, serveHTTP},
	}
	for _, d := range doors {
		if d.addr == "" {
			continue
		}
		listen := cfg.Listen
		if listen == nil {
			listen = net.Listen
		}
		l, err := listen("tcp", d.addr)
		if err != nil {
			return fail(fmt.Errorf("%s door: %w", d.key, err))
		}
		s.Addrs[d.key] = l.Addr().String()
		log.Info("listening", "door", d.key, "addr", l.Addr().String())
		s.wg.Add(1)
		go func(key string, serve func(net.Listener) error) {
			defer s.wg.Done()
			if err := serve(l); err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, http.ErrServerClosed) {
				s.errs <- fmt.Errorf("%s door: %w", key, err)
			}
		}(d.key, d.serve)
	}
	if err := node.SetDoors(ctx, s.DescribeDoors()); err != nil {
		log.Warn("cluster heartbeat", "err", err)
	}
	return s, nil
}

// DescribeDoors lists the doors that listen, "smtp 127.0.0.1:25, ...".
func (s *Server) DescribeDoors() string {
	var parts []string
	for _, k := range []string{"smtp", "submission", "submissions", "imap", "imaps", "http"} {
		if a, ok := s.Addrs[k]; ok {
			parts = append(parts, k+" "+a)
		}
	}
	return strings.Join(parts, ", ")
}

// nodeName is node_name, or the machine's host name.
func nodeName(cfg Config) string {
	if cfg.NodeName != "" {
		return cfg.NodeName
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return cfg.Hostname
}

// Err returns a channel that receives an error when a door stops on its own.
func (s *Server) Err() <-chan error { return s.errs }

// Close stops the doors, then the store (which commits what is queued).
func (s *Server) Close() error {
	var err error
	// Doors first, store last.
	for i := len(s.closers) - 1; i >= 0; i-- {
		if e := s.closers[i](); e != nil && !errors.Is(e, net.ErrClosed) {
			err = errors.Join(err, e)
		}
	}
	s.closers = nil
	s.wg.Wait()
	return err
}

// listGovernance is the list defaults of the configuration, one value for
// the pipeline (posting) and the store (nesting).
func listGovernance(cfg Config) lists.Governance {
	return lists.Governance{SendersOnlyAbove: cfg.ListSendersOnlyAbove, ApprovalAbove: cfg.ListApprovalAbove,
		Approvals: cfg.ListApprovals, DriftPercent: cfg.ListDriftPercent, HoldDays: cfg.ListHoldDays}
}
