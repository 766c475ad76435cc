package server_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"wardmail/server"
)

// startDoorServer runs a server with every door open on loopback, the
// given settings, and the given people (password "pw-"+email).
func startDoorServer(t *testing.T, set map[string]string, emails ...string) *server.Server {
	t.Helper()
	cfg := server.Defaults()
	cfg.DataDir = t.TempDir()
	cfg.Hostname = "mx.nhs.test"
	cfg.SMTPAddr, cfg.SubmissionAddr, cfg.IMAPAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.SubmissionsAddr, cfg.IMAPSAddr = "127.0.0.1:0", "127.0.0.1:0"
	for k, v := range set {
		if err := cfg.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := server.Start(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	})
	seedPeople(t, srv, emails...)
	return srv
}

// firstLine dials addr from the local address from (through TLS when tlsc
// is set) and returns the connection and the server's first line.
func firstLine(t *testing.T, from, addr string, tlsc *tls.Config) (net.Conn, string) {
	t.Helper()
	var c net.Conn = dialFrom(t, from, addr)
	if tlsc != nil {
		tc := tls.Client(c, tlsc)
		if err := tc.Handshake(); err != nil {
			t.Fatalf("TLS to %s from %s: %v", addr, from, err)
		}
		c = tc
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("first line from %s (from %s): %v", addr, from, err)
	}
	return c, strings.TrimRight(line, "\r\n")
}

// httpFrom returns an HTTPS client whose connections come from the local
// address from.
func httpFrom(from string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: clientTLS, DialContext: d.DialContext}, Timeout: 10 * time.Second}
}

// Every door caps its connections per client network and in total. The
// client past a cap is told so in the door's protocol (SMTP 421 4.7.0, IMAP
// BYE, HTTP 503 with a problem), people already connected and signed in go
// on being served, the process goes on, and closed connections free their
// places.
func TestConnectionCapsOnEveryDoor(t *testing.T) {
	const amira = "amira@nhs.test"
	set := map[string]string{}
	for _, door := range []string{"smtp", "submission", "imap", "http"} {
		set[door+"_max_connections"] = "4"
		set[door+"_max_connections_per_network"] = "2"
	}
	srv := startDoorServer(t, set, amira, "ben@nhs.test")

	// Signed in before the flood, from the person's own network.
	inbound := smtp.NewClient(dialFrom(t, "127.0.10.1", srv.Addrs["smtp"]))
	defer inbound.Close()
	if err := inbound.Hello("relay.example.org"); err != nil {
		t.Fatal(err)
	}
	sub, err := smtp.NewClientStartTLS(dialFrom(t, "127.0.10.1", srv.Addrs["submission"]), clientTLS)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if err := sub.Auth(sasl.NewPlainClient("", amira, "pw-"+amira)); err != nil {
		t.Fatal(err)
	}
	ic, err := imapclient.NewStartTLS(dialFrom(t, "127.0.10.1", srv.Addrs["imap"]), &imapclient.Options{TLSConfig: clientTLS})
	if err != nil {
		t.Fatal(err)
	}
	defer ic.Close()
	if err := ic.Login(amira, "pw-"+amira).Wait(); err != nil {
		t.Fatal(err)
	}
	web := httpFrom("127.0.10.1")
	web.Jar, _ = cookiejar.New(nil)
	if status, _ := postJSON(t, web, "https://"+srv.Addrs["http"]+"/api/v1/session", map[string]string{"email": amira, "password": "pw-" + amira}); status != http.StatusOK {
		t.Fatalf("web sign-in: %d", status)
	}

	type door struct {
		name, addr, refusal string
		tlsc                *tls.Config // implicit TLS
	}
	doors := []door{
		{"smtp", srv.Addrs["smtp"], "421 4.7.0 ", nil},
		{"submission", srv.Addrs["submission"], "421 4.7.0 ", nil},
		{"submissions", srv.Addrs["submissions"], "421 4.7.0 ", clientTLS},
		{"imap", srv.Addrs["imap"], "* BYE [UNAVAILABLE] ", nil},
		{"imaps", srv.Addrs["imaps"], "* BYE [UNAVAILABLE] ", clientTLS},
	}
	var flood []net.Conn
	defer func() {
		for _, c := range flood {
			c.Close()
		}
	}()
	for _, d := range doors {
		// 587 and 465 share the submission door's counts, as 143 and 993
		// share IMAP's: the implicit-TLS ports are flooded from networks
		// of their own.
		netA, netB, netC := "127.0.20.", "127.0.30.", "127.0.40."
		if d.tlsc != nil {
			netA, netB, netC = "127.0.21.", "127.0.31.", "127.0.41."
		}
		open := func(from string) string {
			c, line := firstLine(t, from, d.addr, d.tlsc)
			flood = append(flood, c)
			return line
		}
		if d.tlsc == nil {
			// Two from one network fill its share; the third is refused.
			for i := 1; i <= 2; i++ {
				if line := open(netA + fmt.Sprint(i)); strings.HasPrefix(line, d.refusal) {
					t.Fatalf("%s: connection %d from one network refused: %q", d.name, i, line)
				}
			}
			if line := open(netA + "3"); !strings.HasPrefix(line, d.refusal) || !strings.Contains(line, "your network") {
				t.Errorf("%s: third connection from one network: %q, want %q... your network", d.name, line, d.refusal)
			}
			// Another network still gets in, up to the door's total (4,
			// with the signed-in person's); past it, everyone is refused.
			if line := open(netB + "1"); strings.HasPrefix(line, d.refusal) {
				t.Errorf("%s: another network refused below the total: %q", d.name, line)
			}
		} else {
			// The plain port's clients fill the door: the implicit-TLS
			// port refuses in TLS.
			_ = netB
		}
		if line := open(netC + "1"); !strings.HasPrefix(line, d.refusal) || !strings.Contains(line, "too many connections") {
			t.Errorf("%s: connection past the total: %q, want %q... too many connections", d.name, line, d.refusal)
		}
	}

	// HTTPS: two idle connections from one network fill its share; a
	// request on a third gets 503 with a problem.
	for i := 1; i <= 2; i++ {
		flood = append(flood, dialFrom(t, "127.0.20."+fmt.Sprint(i+10), srv.Addrs["http"]))
	}
	for _, tc := range []struct{ from, want string }{{"127.0.20.13", "your network"}, {"127.0.30.11", ""}, {"127.0.40.11", "too many connections"}} {
		resp, err := httpFrom(tc.from).Get("https://" + srv.Addrs["http"] + "/healthz")
		if err != nil {
			t.Fatalf("HTTPS from %s: %v", tc.from, err)
		}
		var prob map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&prob)
		resp.Body.Close()
		if tc.want == "" {
			// Another network's connection fits, and stays open (kept
			// alive): the door is at its total.
			if resp.StatusCode != http.StatusOK {
				t.Errorf("HTTPS from another network below the total: %d", resp.StatusCode)
			}
			continue
		}
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Content-Type") != "application/problem+json" ||
			!strings.Contains(fmt.Sprint(prob["detail"]), tc.want) {
			t.Errorf("HTTPS past the caps from %s: %d %s %v, want 503 problem saying %q", tc.from, resp.StatusCode, resp.Header.Get("Content-Type"), prob, tc.want)
		}
	}

	// Everyone signed in before the flood is still served on their
	// connection.
	if err := inbound.SendMail("someone@example.org", []string{amira}, strings.NewReader("From: someone@example.org\r\nSubject: still open\r\n\r\nx\r\n")); err != nil {
		t.Errorf("inbound SMTP during the flood: %v", err)
	}
	if err := sub.SendMail(amira, []string{"ben@nhs.test"}, strings.NewReader("From: "+amira+"\r\nSubject: still served\r\n\r\nx\r\n")); err != nil {
		t.Errorf("submission during the flood: %v", err)
	}
	if sel, err := ic.Select("INBOX", nil).Wait(); err != nil || sel.NumMessages != 1 {
		t.Errorf("IMAP during the flood: %v %+v", err, sel)
	}
	resp, err := web.Get("https://" + srv.Addrs["http"] + "/api/v1/folders")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body) // read to the end: the connection is kept for the next request
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("webmail during the flood: %d", resp.StatusCode)
	}
	metrics := getText(t, web, "https://"+srv.Addrs["http"]+"/metrics")
	for _, want := range []string{
		`wardmail_door_refused_total{door="smtp",reason="network"} 1`,
		`wardmail_door_refused_total{door="submission",reason="total"} 2`,
		`wardmail_door_refused_total{door="imap",reason="total"} 2`,
		`wardmail_door_refused_total{door="http",reason="network"} 1`,
		`wardmail_door_connections{door="imap"} 4`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// The flood leaves: its places are free again, and the process lived.
	for _, c := range flood {
		c.Close()
	}
	flood = nil
	for _, d := range doors {
		var line string
		for range 100 { // the server counts a closed connection out when it notices
			var c net.Conn
			c, line = firstLine(t, "127.0.40.2", d.addr, d.tlsc)
			c.Close()
			if !strings.HasPrefix(line, d.refusal) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if strings.HasPrefix(line, d.refusal) {
			t.Errorf("%s: still refusing after the flood left: %q", d.name, line)
		}
	}
	select {
	case err := <-srv.Err():
		t.Fatalf("a door stopped: %v", err)
	default:
	}
}

// postJSON posts v as JSON and returns the status and decoded answer.
func postJSON(t *testing.T, c *http.Client, url string, v any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(v)
	resp, err := c.Post(url, "application/json", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, out
}

func getText(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// faultyListener fails its first accepts as a process out of file
// descriptors, buffers or patience does.
type faultyListener struct {
	net.Listener
	faults atomic.Int32
}

var acceptFaults = []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED, syscall.EMFILE}

func (l *faultyListener) Accept() (net.Conn, error) {
	if n := int(l.faults.Add(1)); n <= len(acceptFaults) {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.Addr(), Err: os.NewSyscallError("accept", acceptFaults[n-1])}
	}
	return l.Listener.Accept()
}

// Accept errors (EMFILE and the like) stop no door: each is logged,
// counted and retried after a pause, and every door then serves as before.
func TestAcceptErrorsStopNoDoor(t *testing.T) {
	const amira = "amira@nhs.test"
	cfg := server.Defaults()
	cfg.DataDir = t.TempDir()
	cfg.Hostname = "mx.nhs.test"
	cfg.SMTPAddr, cfg.SubmissionAddr, cfg.IMAPAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.SubmissionsAddr, cfg.IMAPSAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Listen = func(network, addr string) (net.Listener, error) {
		l, err := net.Listen(network, addr)
		if err != nil {
			return nil, err
		}
		return &faultyListener{Listener: l}, nil
	}
	srv, err := server.Start(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	seedPeople(t, srv, amira)

	for _, d := range []struct {
		key, greeting string
		tlsc          *tls.Config
	}{
		{"smtp", "220 ", nil}, {"submission", "220 ", nil}, {"submissions", "220 ", clientTLS},
		{"imap", "* OK ", nil}, {"imaps", "* OK ", clientTLS},
	} {
		c, line := firstLine(t, "127.0.0.1", srv.Addrs[d.key], d.tlsc)
		c.Close()
		if !strings.HasPrefix(line, d.greeting) {
			t.Errorf("%s after accept errors: %q", d.key, line)
		}
	}
	web := httpFrom("127.0.0.1")
	if status, _ := postJSON(t, web, "https://"+srv.Addrs["http"]+"/api/v1/session", map[string]string{"email": amira, "password": "pw-" + amira}); status != http.StatusOK {
		t.Errorf("HTTPS sign-in after accept errors: %d", status)
	}
	select {
	case err := <-srv.Err():
		t.Fatalf("a door stopped: %v", err)
	default:
	}
	metrics := getText(t, web, "https://"+srv.Addrs["http"]+"/metrics")
	for _, door := range []string{"smtp", "submission", "imap", "http"} {
		// The submission and IMAP doors have two sockets each.
		want := map[string]int{"smtp": 6, "submission": 12, "imap": 12, "http": 6}[door]
		if s := fmt.Sprintf(`wardmail_door_accept_errors_total{door=%q} %d`, door, want); !strings.Contains(metrics, s) {
			t.Errorf("/metrics lacks %s", s)
		}
	}
}
