package testnet

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// TLSMode is what a scripted host offers after STARTTLS.
type TLSMode int

const (
	// TLSNone: no STARTTLS at all.
	TLSNone TLSMode = iota
	// TLSValid: a certificate from the test CA for the host's name.
	TLSValid
	// TLSMismatch: a certificate from the test CA for another name
	// (wrong.invalid), which a client checking names must refuse.
	TLSMismatch
)

// SMTPConfig says how a scripted host behaves. The zero value accepts
// everything without TLS.
type SMTPConfig struct {
	// Hostname is its name in the greeting and its certificate.
	Hostname string
	TLS      TLSMode
	// TempFail answers the first TempFail transactions with 451 4.3.0 after
	// the message was sent (DATA), then accepts.
	TempFail int
	// Reject answers every RCPT with 550 5.1.1.
	Reject bool
	// DropAfterData closes the connection once the message was sent, with no
	// reply to DATA: the client cannot know whether it was taken.
	DropAfterData bool
	// Greylist answers 450 4.7.1 at RCPT the first time it sees a (client
	// address, sender, recipient) triple, and accepts it after that.
	Greylist bool
	// RequireTLS advertises REQUIRETLS (RFC 8689) inside TLS.
	RequireTLS bool
	// DSN advertises DSN (RFC 3461) and records its parameters.
	DSN bool
}

// Transaction is one mail transaction a scripted host saw, whatever became of it.
type Transaction struct {
	Remote string // client address
	Helo   string
	From   string
	To     []string // recipients accepted at RCPT
	Data   []byte   // the message, when DATA was reached
	TLS    *tls.ConnectionState
	// RequireTLS: MAIL FROM carried the REQUIRETLS parameter.
	RequireTLS bool
	// EnvID and Ret are MAIL FROM's ENVID (decoded) and RET; Notify and
	// ORcpt RCPT's NOTIFY (joined by commas) and ORCPT ("type;address",
	// decoded), one per accepted recipient (RFC 3461).
	EnvID  string
	Ret    string
	Notify []string
	ORcpt  []string
	// Reply is the final reply code: 250 when accepted, the 4xx or 5xx it
	// answered, 0 when it dropped the connection or the client gave up.
	Reply int
}

// SMTPHost is a running scripted host.
type SMTPHost struct {
	Addr     netip.Addr
	Hostname string
	// Cert is the certificate it presents, when it offers STARTTLS.
	Cert *tls.Certificate

	cfg       SMTPConfig
	port      int
	mu        sync.Mutex
	log       []Transaction
	tempFails int
	greylist  map[string]bool
}

// StartSMTP starts a scripted host on a new loopback host.
func (n *Net) StartSMTP(cfg SMTPConfig) *SMTPHost {
	n.t.Helper()
	h, err := n.startSMTP(cfg)
	if err != nil {
		n.t.Fatal(err)
	}
	return h
}

func (n *Net) startSMTP(cfg SMTPConfig) (*SMTPHost, error) {
	addr, err := n.host()
	if err != nil {
		return nil, err
	}
	if cfg.Hostname == "" {
		cfg.Hostname = "mx-" + addr.String() + ".test"
	}
	h := &SMTPHost{Addr: addr, Hostname: cfg.Hostname, cfg: cfg, port: n.Port, greylist: map[string]bool{}}
	s := smtp.NewServer(smtp.BackendFunc(h.newSession))
	s.Domain = cfg.Hostname
	s.MaxMessageBytes = 50 << 20
	s.MaxRecipients = 1000
	s.ReadTimeout = time.Minute
	s.WriteTimeout = time.Minute
	s.ErrorLog = discardLogger{}
	s.EnableREQUIRETLS = cfg.RequireTLS
	s.EnableDSN = cfg.DSN
	switch cfg.TLS {
	case TLSValid, TLSMismatch:
		name := cfg.Hostname
		if cfg.TLS == TLSMismatch {
			name = "wrong.invalid"
		}
		cert, err := n.CA.Issue(name)
		if err != nil {
			return nil, err
		}
		h.Cert = &cert
		s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	l, err := n.listen(addr, n.Port)
	if err != nil {
		return nil, err
	}
	go func() { _ = s.Serve(l) }()
	n.t.Cleanup(func() { _ = s.Close() })
	return h, nil
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}

// SMTPAddr is where it listens (host:port).
func (h *SMTPHost) SMTPAddr() string { return netip.AddrPortFrom(h.Addr, uint16(h.port)).String() }

// Records are its address record; a domain's zone adds MX("@", 10, Hostname).
func (h *SMTPHost) Records() []Record {
	return []Record{A(h.Hostname, h.Addr)}
}

// Transactions are all the transactions it saw, in order.
func (h *SMTPHost) Transactions() []Transaction {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.log)
}

// Received are the transactions it accepted.
func (h *SMTPHost) Received() []Transaction {
	var out []Transaction
	for _, tr := range h.Transactions() {
		if tr.Reply == 250 {
			out = append(out, tr)
		}
	}
	return out
}

type session struct {
	h    *SMTPHost
	conn *smtp.Conn
	idx  int
}

func (h *SMTPHost) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{h: h, conn: c, idx: -1}, nil
}

// update changes the open transaction under the host's lock.
func (s *session) update(f func(tr *Transaction)) {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	if s.idx >= 0 {
		f(&s.h.log[s.idx])
	}
}

func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	tr := Transaction{Remote: s.conn.Conn().RemoteAddr().String(), Helo: s.conn.Hostname(), From: from,
		RequireTLS: opts != nil && opts.RequireTLS}
	if opts != nil {
		tr.EnvID, tr.Ret = opts.EnvelopeID, string(opts.Return)
	}
	if state, ok := s.conn.TLSConnectionState(); ok {
		tr.TLS = &state
	}
	s.h.mu.Lock()
	s.h.log = append(s.h.log, tr)
	s.idx = len(s.h.log) - 1
	s.h.mu.Unlock()
	return nil
}

func (s *session) Rcpt(to string, opts *smtp.RcptOptions) error {
	cfg := s.h.cfg
	if cfg.Reject {
		err := &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
		s.update(func(tr *Transaction) { tr.Reply = 550 })
		return err
	}
	if cfg.Greylist {
		var from string
		s.update(func(tr *Transaction) { from = tr.From })
		host, _, _ := net.SplitHostPort(s.conn.Conn().RemoteAddr().String())
		triple := host + "\x00" + from + "\x00" + to
		s.h.mu.Lock()
		seen := s.h.greylist[triple]
		s.h.greylist[triple] = true
		s.h.mu.Unlock()
		if !seen {
			s.update(func(tr *Transaction) { tr.Reply = 450 })
			return &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "Greylisted, try again later"}
		}
	}
	var notify, orcpt string
	if opts != nil {
		for i, n := range opts.Notify {
			if i > 0 {
				notify += ","
			}
			notify += string(n)
		}
		if opts.OriginalRecipient != "" {
			orcpt = string(opts.OriginalRecipientType) + ";" + opts.OriginalRecipient
		}
	}
	s.update(func(tr *Transaction) {
		tr.To = append(tr.To, to)
		tr.Notify = append(tr.Notify, notify)
		tr.ORcpt = append(tr.ORcpt, orcpt)
		tr.Reply = 0
	})
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.update(func(tr *Transaction) { tr.Data = b })
	cfg := s.h.cfg
	if cfg.DropAfterData {
		_ = s.conn.Conn().Close()
		return errors.New("testnet: dropped after DATA")
	}
	s.h.mu.Lock()
	fail := s.h.tempFails < cfg.TempFail
	if fail {
		s.h.tempFails++
	}
	s.h.mu.Unlock()
	if fail {
		s.update(func(tr *Transaction) { tr.Reply = 451 })
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure, try again later"}
	}
	s.update(func(tr *Transaction) { tr.Reply = 250 })
	return nil
}

func (s *session) Reset()        { s.idx = -1 }
func (s *session) Logout() error { return nil }

// WebHost is an HTTPS server on its own loopback host with a certificate
// from the test CA, such as an MTA-STS policy host.
type WebHost struct {
	Addr     netip.Addr
	Hostname string
	port     int
}

// URL is the base URL of the host, by name (resolve it through the test DNS,
// or dial Addr).
func (w *WebHost) URL() string { return fmt.Sprintf("https://%s:%d", w.Hostname, w.port) }

// HTTPSAddr is where it listens (host:port).
func (w *WebHost) HTTPSAddr() string { return netip.AddrPortFrom(w.Addr, uint16(w.port)).String() }

// StartHTTPS serves handler over HTTPS on a new host, with a certificate
// from the test CA for hostname.
func (n *Net) StartHTTPS(hostname string, handler http.Handler) *WebHost {
	n.t.Helper()
	addr, err := n.host()
	if err != nil {
		n.t.Fatal(err)
	}
	cert, err := n.CA.Issue(hostname)
	if err != nil {
		n.t.Fatal(err)
	}
	l, err := n.listen(addr, n.HTTPSPort)
	if err != nil {
		n.t.Fatal(err)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
	go func() { _ = srv.ServeTLS(l, "", "") }()
	n.t.Cleanup(func() { _ = srv.Close() })
	return &WebHost{Addr: addr, Hostname: hostname, port: n.HTTPSPort}
}

// MTASTS is an MTA-STS policy host for one domain (RFC 8461).
type MTASTS struct {
	*WebHost
	Domain string
	ID     string
	mu     sync.Mutex
	policy string
}

// StartMTASTS serves policy (the text of RFC 8461 section 3.2, e.g.
// "version: STSv1\nmode: enforce\nmx: mx.example.test\nmax_age: 86400\n")
// at https://mta-sts.DOMAIN/.well-known/mta-sts.txt on a new host.
func (n *Net) StartMTASTS(domain, policy string) *MTASTS {
	n.t.Helper()
	m := &MTASTS{Domain: normZone(domain), ID: "1", policy: policy}
	m.WebHost = n.StartHTTPS("mta-sts."+m.Domain, http.HandlerFunc(m.serve))
	return m
}

func (m *MTASTS) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/.well-known/mta-sts.txt" {
		http.NotFound(w, r)
		return
	}
	m.mu.Lock()
	policy := m.policy
	m.mu.Unlock()
	// RFC 8461 section 3.3: text/plain.
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, policy)
}

// SetPolicy changes the policy served; publish the new ID (Records) too.
func (m *MTASTS) SetPolicy(id, policy string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ID, m.policy = id, policy
}

// Records are the policy host's address and the _mta-sts TXT record (RFC
// 8461 section 3.1), for the domain's zone.
func (m *MTASTS) Records() []Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return []Record{A(m.Hostname, m.Addr), TXT("_mta-sts", "v=STSv1; id="+m.ID)}
}
