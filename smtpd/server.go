// Package smtpd is the SMTP door: inbound mail from other servers (RFC 5321)
// and message submission by people's mail clients (RFC 6409), both on
// emersion's go-smtp with our backend behind it. Everything accepted goes
// through the submit pipeline; a reply is sent only once the message is
// durable.
//
// Inbound sessions offer no AUTH and take mail only for local addresses;
// submission sessions require AUTH (PLAIN or LOGIN, RFC 4954), which go-smtp
// offers only after STARTTLS (RFC 3207) or on an implicit-TLS listener
// (RFC 8314).
package smtpd

import (
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"

	"wardmail/auth"
	"wardmail/connlimit"
	"wardmail/submit"
)

// Config is what a Server needs.
type Config struct {
	Pipeline *submit.Pipeline
	// Auth checks credentials; required when Submission is set.
	Auth Authenticator
	// Submission makes this the submission door (AUTH required).
	Submission bool
	TLS        *tls.Config
	Hostname   string
	Logger     *slog.Logger
	// ReadTimeout and WriteTimeout bound each command and reply; defaults
	// 5 minutes as RFC 5321 4.5.3.2 suggests for the data block.
	ReadTimeout, WriteTimeout time.Duration
	// A message (DATA) must arrive within DataTimeout (default 1 minute)
	// plus one second per DataMinRate bytes (default 10 KiB): a sender
	// dribbling it is cut, however fast it answers each line.
	DataTimeout time.Duration
	DataMinRate int64
	// Conns caps the door's connections and bounds a session's whole
	// life (inbound: always; submission: until AUTH succeeds). Nil means
	// no caps; accept errors are always retried, never fatal.
	Conns *connlimit.Limiter
	// MaxLineLength bounds a command or text line (default 2000 octets;
	// RFC 5321 4.5.3.1.6 allows 1000 but real mail is often longer).
	MaxLineLength int
	// MaxBadCommands closes a session after this many refused commands
	// before it authenticates or sends mail (default 10).
	MaxBadCommands int
	Metrics        *Metrics // shared by the doors; NewMetrics() when nil

	// Revocations, when set, ends a signed-in session once the person's
	// credentials are revoked (store/revoke.go): its next command gets 421.
	Revocations Revocations
}

// Revocations watches a signed-in person's credentials for a door: onEnd
// runs when they are revoked (*store.Revocations implements it).
type Revocations interface {
	Watch(p *auth.Person, door string, onEnd func(reason string)) *auth.CredWatch
}

// Server is one SMTP listener's worth of configuration.
type Server struct {
	cfg    Config
	smtp   *smtp.Server
	log    *slog.Logger
	nextID atomic.Uint64
	m      *Metrics
}

// New returns a Server.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ReadTimeout == 0 {
		cfg.ReadTimeout = 5 * time.Minute
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = 5 * time.Minute
	}
	if cfg.DataTimeout <= 0 {
		cfg.DataTimeout = time.Minute
	}
	if cfg.DataMinRate <= 0 {
		cfg.DataMinRate = 10 << 10
	}
	if cfg.MaxLineLength == 0 {
		cfg.MaxLineLength = 2000
	}
	if cfg.MaxBadCommands == 0 {
		cfg.MaxBadCommands = 10
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics()
	}
	door := "smtp"
	if cfg.Submission {
		door = "submission"
	}
	if cfg.Conns == nil {
		cfg.Conns = connlimit.New(door, connlimit.Limits{}, nil, cfg.Logger)
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With("door", door), m: cfg.Metrics}
	srv := smtp.NewServer(s)
	srv.Domain = cfg.Hostname
	srv.TLSConfig = cfg.TLS
	srv.MaxMessageBytes = cfg.Pipeline.MaxMessageBytes()
	srv.MaxRecipients = cfg.Pipeline.MaxRecipients()
	srv.MaxLineLength = cfg.MaxLineLength
	srv.ReadTimeout = cfg.ReadTimeout
	srv.WriteTimeout = cfg.WriteTimeout
	srv.EnableSMTPUTF8 = true
	// REQUIRETLS (RFC 8689) is taken from people who send; go-smtp
	// advertises it only inside TLS. Mail arriving from other servers is
	// delivered here, never relayed, so the inbound door has no use for it.
	srv.EnableREQUIRETLS = cfg.Submission
	// DSN (RFC 3461) likewise: the queue keeps and honours the parameters
	// of mail it relays. The inbound door relays nothing, and telling
	// remote senders of local deliveries would be backscatter; their own
	// MTA says "relayed" to a sender who asked (RFC 3461 4.1).
	srv.EnableDSN = cfg.Submission
	srv.AllowInsecureAuth = false
	srv.ErrorLog = slogAdapter{s.log}
	s.smtp = srv
	return s
}

// Serve accepts connections on l (plain, with STARTTLS).
func (s *Server) Serve(l net.Listener) error {
	return s.smtp.Serve(s.cfg.Conns.Listen(l, s.refuse(false)))
}

// ServeTLS accepts implicit-TLS connections on l (RFC 8314 port 465 style).
func (s *Server) ServeTLS(l net.Listener) error {
	return s.smtp.Serve(tls.NewListener(s.cfg.Conns.Listen(l, s.refuse(true)), s.cfg.TLS))
}

// refuse answers a connection past the door's caps with 421 instead of the
// greeting (RFC 5321 3.1), inside TLS on an implicit-TLS listener.
func (s *Server) refuse(implicitTLS bool) connlimit.Refuse {
	return func(nc net.Conn, reason string) {
		if implicitTLS {
			tc := tls.Server(nc, s.cfg.TLS)
			if tc.Handshake() != nil {
				return
			}
			nc = tc
		}
		text := "Too many connections from your network; please try again later"
		if reason == connlimit.ReasonTotal {
			text = s.cfg.Hostname + " has too many connections; please try again later"
		}
		_, _ = io.WriteString(nc, "421 4.7.0 "+text+"\r\n")
	}
}

// Close stops the listeners and closes open sessions.
func (s *Server) Close() error { return s.smtp.Close() }

// Metrics returns the door's Prometheus collector.
func (s *Server) Metrics() prometheus.Collector { return s.m }

// NewSession implements smtp.Backend.
func (s *Server) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	door := "smtp"
	if s.cfg.Submission {
		door = "submission"
	}
	cid := s.nextID.Add(1)
	remote := c.Conn().RemoteAddr().String()
	s.m.sessions.WithLabelValues(door).Inc()
	return &session{
		srv:    s,
		conn:   c,
		log:    s.log.With("cid", cid, "remote", remote),
		sender: submit.Sender{Door: door, RemoteAddr: remote, Helo: c.Hostname(), TLS: isTLS},
	}, nil
}

type slogAdapter struct{ log *slog.Logger }

// Printf implements smtp.Logger.
func (a slogAdapter) Printf(format string, v ...any) {
	a.log.Warn("smtp", "msg", fmt.Sprintf(format, v...))
}

// Println implements smtp.Logger.
func (a slogAdapter) Println(v ...any) { a.log.Warn("smtp", "msg", fmt.Sprint(v...)) }
