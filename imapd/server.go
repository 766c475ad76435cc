package imapd

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"wardmail/connlimit"
	"wardmail/mail"
)

// Authenticator checks a person's credentials. auth.Login implements it.
// It returns an error matching auth.ErrBadCredentials for wrong credentials
// and one wrapping auth.ErrUnavailable when it cannot decide now.
type Authenticator interface {
	Authenticate(ctx context.Context, username, password string) (*mail.Person, error)
}

// Limits bound what one connection may do. Zero fields take the defaults.
type Limits struct {
	MaxLine            int           // longest command line, default 64 KiB
	MaxLiteral         int64         // largest APPEND literal, advertised as APPENDLIMIT; default 35 MiB
	MaxCompressed      int64         // connections with COMPRESS=DEFLATE at once (about 0.8 MB each), default 1,000
	MaxAppendTotal     int64         // all messages of one APPEND together (MULTIAPPEND, RFC 3502), default 2 × MaxLiteral
	MaxPreAuthLiteral  int64         // largest literal before authentication, default 4 KiB (RFC 7888 LITERAL- size)
	MaxDepth           int           // deepest list nesting, default 16
	MaxArgs            int           // most arguments in one command, default 10,000
	MaxPreAuthCommands int           // commands before authentication, default 20
	MaxBadCommands     int           // BAD answers before disconnecting, default 10
	IdleTimeout        time.Duration // authenticated inactivity and IDLE refresh, default 30 min (RFC 9051 5.4)
	PreAuthTimeout     time.Duration // inactivity before authentication, default 60 s
	PreAuthSession     time.Duration // whole time before authentication, whatever the client does, default 2 min
	WriteTimeout       time.Duration // longest a client may take to accept output, default 2 min
	// NotifyBurst is the most NOTIFY responses (STATUS, LIST) one change
	// may give a session before it is told NOTIFICATIONOVERFLOW and NOTIFY
	// is turned off (RFC 5465 5.8), default 1,000.
	NotifyBurst int
	// QuotaBytes is the storage limit GETQUOTA reports; 0 reports no limit.
	QuotaBytes int64
	// EnvelopeCache is how many decoded envelopes the server keeps in
	// memory (about 0.5 KB each), default 100,000; -1 keeps none.
	EnvelopeCache int
}

func (l *Limits) setDefaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxLine, 64<<10)
	def(&l.MaxDepth, 16)
	def(&l.MaxArgs, 10000)
	def(&l.MaxPreAuthCommands, 20)
	def(&l.MaxBadCommands, 10)
	def(&l.NotifyBurst, 1000)
	if l.EnvelopeCache == 0 {
		l.EnvelopeCache = 100000
	}
	if l.MaxLiteral <= 0 {
		l.MaxLiteral = 35 << 20
	}
	if l.MaxCompressed <= 0 {
		l.MaxCompressed = 1000
	}
	if l.MaxAppendTotal <= 0 {
		l.MaxAppendTotal = 2 * l.MaxLiteral
	}
	if l.MaxPreAuthLiteral <= 0 {
		l.MaxPreAuthLiteral = 4 << 10
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = 30 * time.Minute
	}
	if l.PreAuthTimeout <= 0 {
		l.PreAuthTimeout = 60 * time.Second
	}
	if l.PreAuthSession <= 0 {
		l.PreAuthSession = 2 * time.Minute
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = 2 * time.Minute
	}
}

// Config is what New needs.
type Config struct {
	// Mail is the mail service every command reads and writes through.
	Mail *mail.Service
	// Revocations ends a signed-in session when its credentials are
	// revoked (disable, password reset, app password revoked).
	Revocations Revocations
	Auth        Authenticator
	// TLS enables STARTTLS on Serve and is required by ServeTLS. Without it,
	// sign-in is refused on plain connections (LOGINDISABLED).
	TLS      *tls.Config
	Logger   *slog.Logger
	Hostname string
	Limits   Limits
	// Metrics lets servers share one set of metrics; nil makes a new set.
	Metrics *Metrics
	// Conns caps the door's connections (in total and per client
	// network); nil means no caps. Accept errors never stop the door.
	Conns *connlimit.Limiter
}

// Revocations watches a signed-in person's credentials for a door: onEnd
// runs when they are revoked (*store.Revocations implements it).
type Revocations interface {
	Watch(p *mail.Person, door string, onEnd func(reason string)) *mail.CredWatch
}

// ErrServerClosed is returned by Serve and ServeTLS after Close. It wraps
// net.ErrClosed, so callers that check for a closed listener see it too.
var ErrServerClosed = fmt.Errorf("imapd: server closed: %w", net.ErrClosed)

// Server is an IMAP server.
type Server struct {
	cfg     Config
	log     *slog.Logger
	metrics *Metrics
	envs    *envelopeCache
	threads *threadCache // THREAD's fields by content id, as many as envs

	compressed atomic.Int64 // connections with COMPRESS=DEFLATE on

	// scanText makes SEARCH BODY and TEXT read every message instead of
	// asking the word index first (narrowText): tests and benchmarks
	// compare the two. Set before serving.
	scanText atomic.Bool

	mu        sync.Mutex
	closed    bool
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	wg        sync.WaitGroup
}

// New returns a server.
func New(cfg Config) *Server {
	cfg.Limits.setDefaults()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Hostname == "" {
		cfg.Hostname = "localhost"
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics()
	}
	if cfg.Conns == nil {
		cfg.Conns = connlimit.New("imap", connlimit.Limits{}, nil, cfg.Logger)
	}
	return &Server{
		cfg: cfg, log: cfg.Logger, metrics: cfg.Metrics, envs: newEnvelopeCache(cfg.Limits.EnvelopeCache), threads: newThreadCache(cfg.Limits.EnvelopeCache),
		listeners: map[net.Listener]struct{}{}, conns: map[*conn]struct{}{},
	}
}

// Metrics returns the server's Prometheus collector.
func (s *Server) Metrics() *Metrics { return s.metrics }

// Serve accepts plain connections that may upgrade with STARTTLS (port 143).
func (s *Server) Serve(l net.Listener) error {
	return s.serve(s.cfg.Conns.Listen(l, s.refuse(false)), false)
}

// ServeTLS accepts connections on a listener, wrapping each in TLS (implicit
// TLS, port 993, RFC 8314).
func (s *Server) ServeTLS(l net.Listener) error {
	if s.cfg.TLS == nil {
		return errors.New("imapd: ServeTLS needs Config.TLS")
	}
	return s.serve(tls.NewListener(s.cfg.Conns.Listen(l, s.refuse(true)), s.cfg.TLS), true)
}

// refuse answers a connection past the door's caps with BYE instead of the
// greeting (RFC 9051 7.1.5), inside TLS on an implicit-TLS listener.
func (s *Server) refuse(implicitTLS bool) connlimit.Refuse {
	return func(nc net.Conn, reason string) {
		if implicitTLS {
			tc := tls.Server(nc, s.cfg.TLS)
			if tc.Handshake() != nil {
				return
			}
			nc = tc
		}
		text := "Too many connections from your network; please try again later."
		if reason == connlimit.ReasonTotal {
			text = "The server has too many connections; please try again later."
		}
		_, _ = io.WriteString(nc, "* BYE [UNAVAILABLE] "+text+"\r\n")
	}
}

func (s *Server) serve(l net.Listener, implicitTLS bool) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()
	var backoff time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			// Out of file descriptors and the like passes: wait and retry
			// (connlimit's listener already does; this is for any other).
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("accept failed; retrying", "err", err, "after", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		c := s.newConn(nc, implicitTLS)
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = nc.Close()
			return ErrServerClosed
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			c.serve()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// Close stops the listeners, tells every connection "* BYE" once its current
// command is done, and waits (at most 10 s, then closes them hard).
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	var errs []error
	for l := range s.listeners {
		if err := l.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.shutdown()
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.mu.Lock()
		for c := range s.conns {
			_ = c.nc.Close()
		}
		s.mu.Unlock()
		<-done
	}
	return errors.Join(errs...)
}

// newCID returns a short random connection id for log lines.
func newCID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
