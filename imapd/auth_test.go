package imapd

import (
	"crypto/tls"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

func TestCapabilityAndStartTLS(t *testing.T) {
	e := newEnv(t)
	r := e.rawPlain(t)
	caps := r.cmd("A1", "CAPABILITY")
	if !strings.Contains(caps[0], " STARTTLS") || !strings.Contains(caps[0], " LOGINDISABLED") || strings.Contains(caps[0], "AUTH=") {
		t.Errorf("before TLS: %q", caps[0])
	}
	if got := last(r.cmd("A2", `LOGIN alice@nhs.test "`+testPassword+`"`)); !strings.HasPrefix(got, "A2 NO [PRIVACYREQUIRED]") {
		t.Errorf("LOGIN before TLS: %q", got)
	}
	if got := last(r.cmd("A3", "STARTTLS")); got != "A3 OK Begin TLS negotiation now." {
		t.Fatalf("STARTTLS: %q", got)
	}
	tc := tls.Client(r.nc, e.clientTLS)
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	r2 := &rawConn{t: t, nc: tc, br: newBufReader(tc)}
	caps = r2.cmd("A4", "CAPABILITY")
	if strings.Contains(caps[0], "STARTTLS") || strings.Contains(caps[0], "LOGINDISABLED") || !strings.Contains(caps[0], " AUTH=PLAIN") {
		t.Errorf("after TLS: %q", caps[0])
	}
	r2.login("alice@nhs.test")
	caps = r2.cmd("A5", "CAPABILITY")
	for _, want := range []string{"IMAP4rev2", "IDLE", "CONDSTORE", "QRESYNC", "MOVE", "UIDPLUS", "ESEARCH", "APPENDLIMIT=", "LIST-STATUS", "SPECIAL-USE", "QUOTA", "STATUS=SIZE", "LITERAL+"} {
		if !strings.Contains(caps[0], want) {
			t.Errorf("authenticated CAPABILITY lacks %s: %q", want, caps[0])
		}
	}
}

func TestStartTLSWithImapclient(t *testing.T) {
	e := newEnv(t)
	c, err := imapclient.DialStartTLS(e.plainAddr, &imapclient.Options{TLSConfig: e.clientTLS})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("alice@nhs.test", testPassword).Wait(); err != nil {
		t.Fatal(err)
	}
	if !c.Caps().Has(imap.CapIdle) {
		t.Errorf("caps after login: %v", c.Caps())
	}
}

func TestLogin(t *testing.T) {
	e := newEnv(t)
	test := func(user, pass, wantPrefix string) {
		t.Helper()
		c := e.client(t, "", nil)
		err := c.Login(user, pass).Wait()
		switch {
		case wantPrefix == "":
			if err != nil {
				t.Errorf("login %s: %v", user, err)
			}
		case err == nil:
			t.Errorf("login %s/%s succeeded", user, pass)
		default:
			var ie *imap.Error
			if !asIMAPError(err, &ie) || string(ie.Code) != wantPrefix {
				t.Errorf("login %s: %v, want code %s", user, err, wantPrefix)
			}
		}
	}
	test("alice@nhs.test", testPassword, "")
	test("ALICE@nhs.test", testPassword, "")
	test("alice@nhs.test", "wrong", "AUTHENTICATIONFAILED")
	test("nobody@nhs.test", testPassword, "AUTHENTICATIONFAILED")
	e.auth.setDown(true)
	test("alice@nhs.test", testPassword, "UNAVAILABLE")
	e.auth.setDown(false)
	test("alice@nhs.test", testPassword, "")
}

func TestAuthenticatePlain(t *testing.T) {
	e := newEnv(t)
	ir := base64.StdEncoding.EncodeToString([]byte("\x00alice@nhs.test\x00" + testPassword))
	r := e.raw(t)
	if got := last(r.cmd("A1", "AUTHENTICATE PLAIN "+ir)); !strings.HasPrefix(got, "A1 OK [CAPABILITY IMAP4rev1") {
		t.Errorf("SASL-IR: %q", got)
	}
	r = e.raw(t)
	r.send("A1 AUTHENTICATE PLAIN\r\n")
	if got := r.line(); got != "+ " {
		t.Fatalf("continuation: %q", got)
	}
	r.send(base64.StdEncoding.EncodeToString([]byte("\x00alice@nhs.test\x00wrong")) + "\r\n")
	if got := r.line(); !strings.HasPrefix(got, "A1 NO [AUTHENTICATIONFAILED]") {
		t.Errorf("bad password: %q", got)
	}
	r.send("A2 AUTHENTICATE PLAIN\r\n")
	r.line()
	r.send("*\r\n")
	if got := r.line(); !strings.HasPrefix(got, "A2 BAD") {
		t.Errorf("cancel: %q", got)
	}
	// imapclient's own PLAIN client.
	c := e.client(t, "", nil)
	if err := c.Authenticate(plainClient("alice@nhs.test", testPassword)); err != nil {
		t.Errorf("imapclient AUTHENTICATE: %v", err)
	}
}

func TestPreAuthStrictness(t *testing.T) {
	e := newEnv(t)
	r := e.raw(t)
	got := r.cmd("A1", "FROB")
	if got[0] != "A1 BAD Unknown command." {
		t.Errorf("unknown: %q", got)
	}
	if l := r.line(); l != "* BYE Unknown command before authentication." {
		t.Errorf("after unknown: %q", l)
	}
	r = e.raw(t)
	for i := 0; i < 20; i++ {
		r.cmd("N", "NOOP")
	}
	r.send("N NOOP\r\n")
	if l := r.line(); l != "* BYE Too many commands before authentication." {
		t.Errorf("after 21 commands: %q", l)
	}
	// A command valid only after sign-in is refused, not fatal.
	r = e.raw(t)
	if got := last(r.cmd("A1", "SELECT INBOX")); got != "A1 BAD Sign in first." {
		t.Errorf("SELECT before login: %q", got)
	}
}
