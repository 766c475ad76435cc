package imapd

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"wardmail/auth"
	"wardmail/mail"
	"wardmail/message"
	"wardmail/store"
	"wardmail/store/storetest"
)

const testPassword = "correct horse battery staple"

// testEnv is a real store, a server on loopback (plain with STARTTLS, and
// implicit TLS) and two people.
type testEnv struct {
	store      *store.Store
	srv        *Server
	plainAddr  string
	tlsAddr    string
	clientTLS  *tls.Config
	alice, bob int64
	auth       *switchAuth
}

// switchAuth wraps the real login so a test can make sign-in unavailable.
type switchAuth struct {
	real *auth.Login
	mu   sync.Mutex
	down bool
}

func (a *switchAuth) Authenticate(ctx context.Context, user, pass string) (*store.Person, error) {
	a.mu.Lock()
	down := a.down
	a.mu.Unlock()
	if down {
		return nil, fmt.Errorf("%w: database unreachable", auth.ErrUnavailable)
	}
	return a.real.Authenticate(ctx, user, pass)
}

func (a *switchAuth) setDown(v bool) {
	a.mu.Lock()
	a.down = v
	a.mu.Unlock()
}

type envOptions struct {
	limits       Limits
	expectPanics float64
	now          func() time.Time // the store's clock (nil: the real one)
	log          slog.Handler     // where the server logs (nil: nowhere, or stderr with IMAPD_TEST_LOG)
	indexEvery   time.Duration    // the store's IndexEvery (< 0: no background word indexer)
}

func newEnv(t testing.TB, opts ...func(*envOptions)) *testEnv {
	t.Helper()
	var o envOptions
	for _, f := range opts {
		f(&o)
	}
	ctx := context.Background()
	st, err := storetest.New(t).OpenErr(storetest.Options{Now: o.now, IndexEvery: o.indexEvery})
	if err != nil {
		t.Fatal(err)
	}
	h, err := auth.HashPassword(auth.TestParams(), testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.UpsertPeople(ctx, []store.PersonRecord{
		{Email: "alice@nhs.test", Name: "Alice", Org: "Org A", PasswordHash: h},
		{Email: "bob@nhs.test", Name: "Bob", Org: "Org B", PasswordHash: h},
	}); err != nil {
		t.Fatal(err)
	}
	e := &testEnv{store: st}
	for _, p := range []struct {
		email string
		id    *int64
	}{{"alice@nhs.test", &e.alice}, {"bob@nhs.test", &e.bob}} {
		person, err := st.PersonByEmail(ctx, p.email)
		if err != nil {
			t.Fatal(err)
		}
		*p.id = person.ID
	}
	serverTLS, clientTLS := testCerts(t)
	e.clientTLS = clientTLS
	e.auth = &switchAuth{real: auth.NewLogin(st, auth.NewHasher(auth.TestParams(), 2, time.Second))}
	logger := slog.New(slog.DiscardHandler)
	if os.Getenv("IMAPD_TEST_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if o.log != nil {
		logger = slog.New(o.log)
	}
	e.srv = New(Config{Mail: mail.New(st, logger), Revocations: st.Revocations(), Auth: e.auth, TLS: serverTLS, Logger: logger, Hostname: "imap.nhs.test", Limits: o.limits})
	plain, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	secure, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.plainAddr, e.tlsAddr = plain.Addr().String(), secure.Addr().String()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); serveErr(t, e.srv.Serve(plain)) }()
	go func() { defer wg.Done(); serveErr(t, e.srv.ServeTLS(secure)) }()
	t.Cleanup(func() {
		if err := e.srv.Close(); err != nil {
			t.Errorf("closing server: %v", err)
		}
		wg.Wait()
		if n := testutil.ToFloat64(e.srv.Metrics().panics); n != o.expectPanics {
			t.Errorf("panics metric is %v, want %v", n, o.expectPanics)
		}
		if err := st.Close(); err != nil {
			t.Errorf("closing store: %v", err)
		}
	})
	return e
}

func serveErr(t testing.TB, err error) {
	if err != nil && !errors.Is(err, ErrServerClosed) {
		t.Errorf("serve: %v", err)
	}
}

// testCerts makes a self-signed certificate for 127.0.0.1.
func testCerts(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "imap.nhs.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"imap.nhs.test"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	client = &tls.Config{RootCAs: pool, ServerName: "imap.nhs.test"}
	return server, client
}

// client dials the implicit-TLS port and signs in as user.
func (e *testEnv) client(t testing.TB, user string, opts *imapclient.Options) *imapclient.Client {
	t.Helper()
	if opts == nil {
		opts = &imapclient.Options{}
	}
	opts.TLSConfig = e.clientTLS
	c, err := imapclient.DialTLS(e.tlsAddr, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if user != "" {
		if err := c.Login(user, testPassword).Wait(); err != nil {
			t.Fatalf("login %s: %v", user, err)
		}
	}
	return c
}

// deliver puts a message in a person's INBOX through the store, as the
// submission pipeline does.
func (e *testEnv) deliver(t testing.TB, personID int64, body string) uint32 {
	t.Helper()
	uid, err := e.deliverErr(personID, body)
	if err != nil {
		t.Fatal(err)
	}
	return uid
}

// deliverAsync delivers from another goroutine.
func (e *testEnv) deliverAsync(t testing.TB, personID int64, body string) {
	go func() {
		if _, err := e.deliverErr(personID, body); err != nil {
			t.Errorf("deliver: %v", err)
		}
	}()
}

func (e *testEnv) deliverErr(personID int64, body string) (uint32, error) {
	ctx := context.Background()
	sum, err := message.Summarize([]byte(body))
	if err != nil {
		return 0, err
	}
	c, err := e.store.PrepareContent(ctx, []byte(body), sum.Marshal())
	if err != nil {
		return 0, err
	}
	d, err := e.store.Deliver(ctx, c, []int64{personID}, time.Date(2024, 3, 5, 10, 0, 0, 0, time.UTC))
	if err != nil {
		return 0, err
	}
	return d[0].UID, nil
}

// rawConn is a line-level client for exact exchanges.
type rawConn struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

// raw opens an implicit-TLS connection and reads the greeting.
func (e *testEnv) raw(t testing.TB) *rawConn {
	t.Helper()
	nc, err := tls.Dial("tcp", e.tlsAddr, e.clientTLS)
	if err != nil {
		t.Fatal(err)
	}
	return newRaw(t, nc)
}

// rawPlain opens a plain connection and reads the greeting.
func (e *testEnv) rawPlain(t testing.TB) *rawConn {
	t.Helper()
	nc, err := net.Dial("tcp", e.plainAddr)
	if err != nil {
		t.Fatal(err)
	}
	return newRaw(t, nc)
}

func newRaw(t testing.TB, nc net.Conn) *rawConn {
	t.Helper()
	t.Cleanup(func() { _ = nc.Close() })
	r := &rawConn{t: t, nc: nc, br: bufio.NewReader(nc)}
	if g := r.line(); !strings.HasPrefix(g, "* OK ") {
		t.Fatalf("greeting %q", g)
	}
	return r
}

func (r *rawConn) send(s string) {
	r.t.Helper()
	_ = r.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.nc.Write([]byte(s)); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

// line reads one response line without CRLF; literals are left in the
// stream for the caller.
func (r *rawConn) line() string {
	r.t.Helper()
	_ = r.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	s, err := r.br.ReadString('\n')
	if err != nil {
		r.t.Fatalf("read: %v (got %q)", err, s)
	}
	return strings.TrimSuffix(s, "\r\n")
}

// cmd sends "tag command" and returns every line up to and including the
// tagged one; literals are inlined, so each response is one string.
func (r *rawConn) cmd(tag, command string) []string {
	r.t.Helper()
	r.send(tag + " " + command + "\r\n")
	return r.until(tag)
}

// until reads responses until the one tagged tag.
func (r *rawConn) until(tag string) []string {
	r.t.Helper()
	var out []string
	for {
		l := r.readResponse()
		out = append(out, l)
		if strings.HasPrefix(l, tag+" ") {
			return out
		}
	}
}

// readResponse reads a line and the literals it announces.
func (r *rawConn) readResponse() string {
	r.t.Helper()
	l := r.line()
	for {
		n, ok := literalSuffix(l)
		if !ok {
			return l
		}
		buf := make([]byte, n)
		_ = r.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(r.br, buf); err != nil {
			r.t.Fatalf("reading literal: %v", err)
		}
		l += "\r\n" + string(buf) + r.line()
	}
}

func literalSuffix(l string) (int, bool) {
	if !strings.HasSuffix(l, "}") {
		return 0, false
	}
	i := strings.LastIndexByte(l, '{')
	if i < 0 {
		return 0, false
	}
	var n int
	if _, err := fmt.Sscanf(l[i:], "{%d}", &n); err != nil {
		return 0, false
	}
	return n, true
}

func (r *rawConn) login(user string) {
	r.t.Helper()
	got := r.cmd("L1", fmt.Sprintf("LOGIN %s %q", user, testPassword))
	if !strings.HasPrefix(got[len(got)-1], "L1 OK") {
		r.t.Fatalf("login: %q", got)
	}
}

// last returns the tagged line of a response.
func last(lines []string) string { return lines[len(lines)-1] }

// Test messages.
const simpleMsg = "From: Carol Jones <carol@nhs.test>\r\n" +
	"To: Alice <alice@nhs.test>\r\n" +
	"Subject: Ward round at 9\r\n" +
	"Date: Tue, 05 Mar 2024 09:00:00 +0000\r\n" +
	"Message-ID: <round@nhs.test>\r\n" +
	"\r\n" +
	"See you on ward 7.\r\n"

const multipartMsg = "From: Dr Who <who@nhs.test>\r\n" +
	"To: Alice <alice@nhs.test>, Bob <bob@nhs.test>\r\n" +
	"Cc: ward7@nhs.test\r\n" +
	"Subject: =?utf-8?q?Scan_r=C3=A9sults?=\r\n" +
	"Date: Wed, 06 Mar 2024 14:30:00 +0100\r\n" +
	"Message-ID: <scan@nhs.test>\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"XX\"\r\n" +
	"\r\n" +
	"preamble\r\n" +
	"--XX\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"\r\n" +
	"The scan is clear.\r\n" +
	"Regards\r\n" +
	"--XX\r\n" +
	"Content-Type: application/pdf; name=\"scan.pdf\"\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"Content-Disposition: attachment; filename=\"scan.pdf\"\r\n" +
	"\r\n" +
	"JVBERi0xLjQKAAEC\r\n" +
	"--XX--\r\n"

func newBufReader(r io.Reader) *bufio.Reader { return bufio.NewReader(r) }

// plainSASL is a SASL PLAIN client for imapclient.Authenticate.
type plainSASL struct{ user, pass string }

func plainClient(user, pass string) plainSASL { return plainSASL{user, pass} }

func (p plainSASL) Start() (string, []byte, error) {
	return "PLAIN", []byte("\x00" + p.user + "\x00" + p.pass), nil
}

func (p plainSASL) Next([]byte) ([]byte, error) { return nil, errors.New("unexpected challenge") }

func asIMAPError(err error, target **imap.Error) bool { return errors.As(err, target) }
