package testnet_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"wardmail/testnet"
)

const note = "From: a@wardmail.test\r\nTo: b@peer.test\r\nSubject: note\r\n\r\nhello\r\n"

// send is one delivery attempt as an MTA makes it: STARTTLS when offered
// with tlsConf when it is given, then one message.
func send(t *testing.T, addr string, tlsConf *tls.Config, from, to string) error {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var c *smtp.Client
	if tlsConf != nil {
		if c, err = smtp.NewClientStartTLS(conn, tlsConf); err != nil {
			_ = conn.Close()
			return err
		}
	} else {
		c = smtp.NewClient(conn)
	}
	defer func() { _ = c.Close() }()
	if err := c.Hello("mx.wardmail.test"); err != nil && tlsConf == nil {
		return err
	}
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	if err := c.Rcpt(to, nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, note); err != nil {
		return err
	}
	return w.Close()
}

func code(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

func TestScriptedHosts(t *testing.T) {
	n := testnet.New(t, testnet.Options{})

	t.Run("4xx then accept", func(t *testing.T) {
		h := n.StartSMTP(testnet.SMTPConfig{TempFail: 2})
		for i, want := range []int{451, 451, 0} {
			if err := send(t, h.SMTPAddr(), nil, "a@wardmail.test", "b@peer.test"); code(err) != want || (want == 0 && err != nil) {
				t.Fatalf("attempt %d: %v, want code %d", i+1, err, want)
			}
		}
		got := h.Received()
		if len(got) != 1 || got[0].From != "a@wardmail.test" || got[0].To[0] != "b@peer.test" || string(got[0].Data) != note {
			t.Fatalf("received %+v", got)
		}
		if tr := h.Transactions(); len(tr) != 3 || tr[0].Reply != 451 || tr[0].Data == nil {
			t.Fatalf("transactions %+v", tr)
		}
	})

	t.Run("5xx", func(t *testing.T) {
		h := n.StartSMTP(testnet.SMTPConfig{Reject: true})
		err := send(t, h.SMTPAddr(), nil, "a@wardmail.test", "nobody@peer.test")
		var se *smtp.SMTPError
		if !errors.As(err, &se) || se.Code != 550 || se.EnhancedCode != (smtp.EnhancedCode{5, 1, 1}) {
			t.Fatalf("got %v, want 550 5.1.1", err)
		}
		if len(h.Received()) != 0 {
			t.Fatal("a rejected message was kept")
		}
	})

	t.Run("drop after DATA", func(t *testing.T) {
		h := n.StartSMTP(testnet.SMTPConfig{DropAfterData: true})
		err := send(t, h.SMTPAddr(), nil, "a@wardmail.test", "b@peer.test")
		if err == nil || code(err) != 0 {
			t.Fatalf("got %v, want a dropped connection with no reply", err)
		}
		tr := h.Transactions()
		if len(tr) != 1 || string(tr[0].Data) != note || tr[0].Reply != 0 {
			t.Fatalf("transactions %+v", tr)
		}
	})

	t.Run("greylist", func(t *testing.T) {
		h := n.StartSMTP(testnet.SMTPConfig{Greylist: true})
		if err := send(t, h.SMTPAddr(), nil, "a@wardmail.test", "b@peer.test"); code(err) != 450 {
			t.Fatalf("first attempt: %v, want 450", err)
		}
		// Another triple is greylisted on its own.
		if err := send(t, h.SMTPAddr(), nil, "c@wardmail.test", "b@peer.test"); code(err) != 450 {
			t.Fatalf("other sender: %v, want 450", err)
		}
		if err := send(t, h.SMTPAddr(), nil, "a@wardmail.test", "b@peer.test"); err != nil {
			t.Fatalf("retry: %v", err)
		}
		if len(h.Received()) != 1 {
			t.Fatalf("received %+v", h.Received())
		}
	})

	t.Run("TLS from the test CA", func(t *testing.T) {
		h := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.peer.test", TLS: testnet.TLSValid})
		conf := &tls.Config{ServerName: "mx.peer.test", RootCAs: n.CA.Pool()}
		if err := send(t, h.SMTPAddr(), conf, "a@wardmail.test", "b@peer.test"); err != nil {
			t.Fatal(err)
		}
		got := h.Received()
		if len(got) != 1 || got[0].TLS == nil || got[0].TLS.Version < tls.VersionTLS12 {
			t.Fatalf("received %+v", got)
		}
		// Nothing outside the test trusts the test CA.
		err := send(t, h.SMTPAddr(), &tls.Config{ServerName: "mx.peer.test"}, "a@wardmail.test", "b@peer.test")
		var unknown x509.UnknownAuthorityError
		if !errors.As(err, &unknown) {
			t.Fatalf("with the system roots: %v, want an unknown authority", err)
		}
	})

	t.Run("TLS for the wrong name", func(t *testing.T) {
		h := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.peer.test", TLS: testnet.TLSMismatch})
		err := send(t, h.SMTPAddr(), &tls.Config{ServerName: "mx.peer.test", RootCAs: n.CA.Pool()}, "a@wardmail.test", "b@peer.test")
		var wrong x509.HostnameError
		if !errors.As(err, &wrong) {
			t.Fatalf("got %v, want a name mismatch", err)
		}
	})
}

// An MTA-STS policy host found by name through the test DNS, serving its
// policy over HTTPS with a certificate from the test CA (RFC 8461 section 3.3).
func TestMTASTSHost(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	mx := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.sts.test", TLS: testnet.TLSValid})
	policy := "version: STSv1\nmode: enforce\nmx: mx.sts.test\nmax_age: 86400\n"
	sts := n.StartMTASTS("sts.test", policy)
	records := append([]testnet.Record{testnet.MX("@", 10, "mx.sts.test")}, mx.Records()...)
	d := n.StartDNS(testnet.Zone{Name: "sts.test", Records: append(records, sts.Records()...)})

	r, err := d.Query("_mta-sts.sts.test", "TXT")
	if err != nil || len(r.Values("TXT")) != 1 || r.Values("TXT")[0] != "v=STSv1; id=1" {
		t.Fatalf("_mta-sts TXT: %+v, %v", r, err)
	}
	res := d.NetResolver()
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: n.CA.Pool()},
		DialContext:     (&net.Dialer{Resolver: res}).DialContext,
	}}
	resp, err := client.Get(sts.URL() + "/.well-known/mta-sts.txt")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != policy || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("policy: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}
