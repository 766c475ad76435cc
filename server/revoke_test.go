package server_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"wardmail/auth"
	"wardmail/server"
	"wardmail/store"
	"wardmail/store/sqlite"
)

// Revoking access reaches sessions that are already open: disable,
// password reset, app-password revoke and sign out everywhere end IMAP,
// SMTP and web sessions, each in its door's words.

// revokeEnv is a server with an administrator (TOTP enrolled, signed in to
// the admin API) and the people given.
type revokeEnv struct {
	t     *testing.T
	srv   *server.Server
	data  string
	admin *apiClient
}

func startRevokeServer(t *testing.T, emails ...string) *revokeEnv {
	t.Helper()
	cfg := server.Defaults()
	cfg.DataDir = t.TempDir()
	cfg.Hostname = "mx.nhs.test"
	cfg.SMTPAddr, cfg.SubmissionAddr, cfg.IMAPAddr, cfg.HTTPAddr = "", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	srv, err := server.Start(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	})
	seedPeople(t, srv, append([]string{"nat@nhs.test"}, emails...)...)
	ctx := context.Background()
	nat, err := srv.Store.PersonByEmail(ctx, "nat@nhs.test")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Store.GrantAdmin(ctx, "test", nat.ID, store.RoleNational, 0); err != nil {
		t.Fatal(err)
	}
	return &revokeEnv{t: t, srv: srv, data: cfg.DataDir, admin: newAPIClient(t, srv, "nat@nhs.test")}
}

// otherProcess opens the server's data folder as the CLI does: a store of
// its own, whose writes this process hears of only through the database.
func (e *revokeEnv) otherProcess() *store.Store {
	e.t.Helper()
	st, err := sqlite.Open(context.Background(), e.data, sqlite.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = st.Close() })
	return st
}

func (e *revokeEnv) person(email string) *store.Person {
	e.t.Helper()
	p, err := e.srv.Store.PersonByEmail(context.Background(), email)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// imapSelected signs in over IMAP (STARTTLS) and selects INBOX.
func (e *revokeEnv) imapSelected(user, pass string) *imapclient.Client {
	e.t.Helper()
	c, err := imapclient.DialStartTLS(e.srv.Addrs["imap"], &imapclient.Options{TLSConfig: clientTLS})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = c.Close() })
	if err := c.Login(user, pass).Wait(); err != nil {
		e.t.Fatalf("IMAP LOGIN %s: %v", user, err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		e.t.Fatal(err)
	}
	return c
}

// closedSoon waits (boundedly, not timed) for the server to close an IMAP
// client's connection.
func closedSoon(t *testing.T, c *imapclient.Client, what string) {
	t.Helper()
	select {
	case <-c.Closed():
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: the IMAP connection is still open", what)
	}
}

// stillWorks checks that an IMAP session answers.
func stillWorks(t *testing.T, c *imapclient.Client, what string) {
	t.Helper()
	if err := c.Noop().Wait(); err != nil {
		t.Errorf("%s: NOOP: %v", what, err)
	}
}

// rawIMAP is a plain IMAP conversation over TLS, for the exact lines.
type rawIMAP struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
}

func rawIMAPLogin(t *testing.T, srv *server.Server, user, pass string) *rawIMAP {
	t.Helper()
	nc, err := net.Dial("tcp", srv.Addrs["imap"])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	c := &rawIMAP{t: t, nc: nc, r: bufio.NewReader(nc)}
	c.line() // greeting
	c.cmd("s STARTTLS")
	tc := tls.Client(nc, clientTLS)
	c.nc, c.r = tc, bufio.NewReader(tc)
	if last := c.cmd(fmt.Sprintf("l LOGIN %q %q", user, pass)); !strings.HasPrefix(last, "l OK") {
		t.Fatalf("LOGIN: %s", last)
	}
	return c
}

// line reads one line, waiting at most 10 s (a bound, not a measurement).
func (c *rawIMAP) line() string {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	s, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("reading (after %q): %v", s, err)
	}
	return strings.TrimRight(s, "\r\n")
}

// cmd sends a command and returns its tagged answer.
func (c *rawIMAP) cmd(line string) string {
	c.t.Helper()
	if _, err := fmt.Fprintf(c.nc, "%s\r\n", line); err != nil {
		c.t.Fatal(err)
	}
	tag := strings.Fields(line)[0] + " "
	for {
		if l := c.line(); strings.HasPrefix(l, tag) {
			return l
		}
	}
}

// eof reports whether the server closed the connection (reading at most
// the few lines it may still send).
func (c *rawIMAP) eof() bool {
	_ = c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	for range 10 {
		if _, err := c.r.ReadString('\n'); err != nil {
			return true
		}
	}
	return false
}

// An IMAP session that selected INBOX before an administrator disabled the
// person gets BYE with the reason, and its next FETCH fails; the web
// console's disable does it.
func TestDisableEndsOpenIMAPSession(t *testing.T) {
	const amira = "amira@nhs.test"
	e := startRevokeServer(t, amira)
	raw := rawIMAPLogin(t, e.srv, amira, "pw-"+amira)
	if last := raw.cmd("a SELECT INBOX"); !strings.HasPrefix(last, "a OK") {
		t.Fatal(last)
	}
	c := e.imapSelected(amira, "pw-"+amira)

	if code := e.admin.call("POST", "/api/v1/admin/people/"+amira+"/disable", nil, nil); code != 200 {
		t.Fatalf("disable: %d", code)
	}
	if l := raw.line(); l != "* BYE Your account has been disabled; ask your IT service desk." {
		t.Errorf("after the disable, the server said %q", l)
	}
	if !raw.eof() {
		t.Error("the connection stayed open after BYE")
	}
	closedSoon(t, c, "imapclient after the disable")
	if _, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{Flags: true}).Collect(); err == nil {
		t.Error("FETCH after the disable succeeded")
	}
	want := `
# HELP wardmail_sessions_revoked_total Open sessions ended because their credentials were revoked (disable, password reset, app-password revoke, sign out everywhere), by door.
# TYPE wardmail_sessions_revoked_total counter
wardmail_sessions_revoked_total{door="imap"} 2
`
	if err := testutil.GatherAndCompare(e.srv.Registry, strings.NewReader(want), "wardmail_sessions_revoked_total"); err != nil {
		t.Error(err)
	}
}

// A session in IDLE gets BYE at once when an administrator resets the
// person's password.
func TestPasswordResetEndsIdle(t *testing.T) {
	const amira = "amira@nhs.test"
	e := startRevokeServer(t, amira)
	raw := rawIMAPLogin(t, e.srv, amira, "pw-"+amira)
	if last := raw.cmd("a SELECT INBOX"); !strings.HasPrefix(last, "a OK") {
		t.Fatal(last)
	}
	if _, err := fmt.Fprint(raw.nc, "i IDLE\r\n"); err != nil {
		t.Fatal(err)
	}
	if l := raw.line(); !strings.HasPrefix(l, "+ ") {
		t.Fatalf("IDLE: %q", l)
	}
	if code := e.admin.call("POST", "/api/v1/admin/people/"+amira+"/password", map[string]string{"password": "a new long password 7"}, nil); code != 200 {
		t.Fatalf("reset: %d", code)
	}
	if l := raw.line(); l != "* BYE Your password was changed; sign in again with the new one." {
		t.Errorf("in IDLE after the reset, the server said %q", l)
	}
	if !raw.eof() {
		t.Error("the connection stayed open after BYE")
	}
}

// A submission session that signed in before a password reset gets 421
// 4.7.0 at its next MAIL FROM, and the connection closes.
func TestPasswordResetEndsSubmissionSession(t *testing.T) {
	const amira = "amira@nhs.test"
	e := startRevokeServer(t, amira)
	c, err := smtp.DialStartTLS(e.srv.Addrs["submission"], clientTLS)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(sasl.NewPlainClient("", amira, "pw-"+amira)); err != nil {
		t.Fatal(err)
	}
	if code := e.admin.call("POST", "/api/v1/admin/people/"+amira+"/password", map[string]string{"password": "a new long password 7"}, nil); code != 200 {
		t.Fatalf("reset: %d", code)
	}
	err = c.Mail(amira, nil)
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 421 || se.EnhancedCode != (smtp.EnhancedCode{4, 7, 0}) ||
		se.Message != "Your password was changed; sign in again with the new one." {
		t.Fatalf("MAIL FROM after the reset: %v", err)
	}
	if err := c.Noop(); err == nil {
		t.Error("the connection is still open after 421")
	}
	// The new password works; the old one does not.
	if code := smtpLogin(t, e.srv, "127.0.0.1", amira, "a new long password 7"); code != 0 {
		t.Errorf("the new password: %d", code)
	}
	if code := smtpLogin(t, e.srv, "127.0.0.1", amira, "pw-"+amira); code != 535 {
		t.Errorf("the old password: %d", code)
	}
}

// Revoking one app password ends the sessions that signed in with it, and
// only those: the person's other devices go on.
func TestAppPasswordRevokeEndsOnlyThatDevice(t *testing.T) {
	const amira = "amira@nhs.test"
	e := startRevokeServer(t, amira)
	ctx := context.Background()
	p := e.person(amira)
	phone, err := e.srv.Login.CreateAppPassword(ctx, amira, p, "phone", []string{auth.ScopeIMAP, auth.ScopeSMTP})
	if err != nil {
		t.Fatal(err)
	}
	tablet, err := e.srv.Login.CreateAppPassword(ctx, amira, p, "tablet", []string{auth.ScopeIMAP})
	if err != nil {
		t.Fatal(err)
	}
	onPhone := e.imapSelected(amira, phone)
	onTablet := e.imapSelected(amira, tablet)
	withPassword := e.imapSelected(amira, "pw-"+amira)
	phoneSMTP, err := smtp.DialStartTLS(e.srv.Addrs["submission"], clientTLS)
	if err != nil {
		t.Fatal(err)
	}
	defer phoneSMTP.Close()
	if err := phoneSMTP.Auth(sasl.NewPlainClient("", amira, phone)); err != nil {
		t.Fatal(err)
	}

	me := newAPIClient(t, e.srv, amira)
	var list struct {
		AppPasswords []store.AppPassword `json:"app_passwords"`
	}
	if code := me.call("GET", "/api/v1/settings/app-passwords", nil, &list); code != 200 || len(list.AppPasswords) != 2 {
		t.Fatalf("app passwords: %d %+v", code, list)
	}
	id := list.AppPasswords[0].ID // by name: "phone"
	if code := me.call("DELETE", fmt.Sprint("/api/v1/settings/app-passwords/", id), nil, nil); code != 204 {
		t.Fatalf("revoke: %d", code)
	}
	closedSoon(t, onPhone, "the phone's IMAP session")
	var se *smtp.SMTPError
	if err := phoneSMTP.Mail(amira, nil); !errors.As(err, &se) || se.Code != 421 {
		t.Errorf("the phone's SMTP session after the revoke: %v", err)
	}
	stillWorks(t, onTablet, "the tablet")
	stillWorks(t, withPassword, "the password session")
	if code := me.call("GET", "/api/v1/settings/app-passwords", nil, &list); code != 200 || len(list.AppPasswords) != 1 {
		t.Errorf("the web session after revoking an app password: %d", code)
	}
}

// Sign out everywhere ends IMAP and SMTP sessions too, app-password ones
// included, and the web session that asked.
func TestSignOutEverywhereEndsIMAP(t *testing.T) {
	const amira = "amira@nhs.test"
	e := startRevokeServer(t, amira)
	p := e.person(amira)
	phone, err := e.srv.Login.CreateAppPassword(context.Background(), amira, p, "phone", []string{auth.ScopeIMAP})
	if err != nil {
		t.Fatal(err)
	}
	withPassword := e.imapSelected(amira, "pw-"+amira)
	onPhone := e.imapSelected(amira, phone)
	me := newAPIClient(t, e.srv, amira)
	if code := me.call("POST", "/api/v1/sessions/revoke-all", nil, nil); code != 200 {
		t.Fatalf("revoke-all: %d", code)
	}
	closedSoon(t, withPassword, "the password session")
	closedSoon(t, onPhone, "the app-password session")
	if code := me.do("GET", "/api/v1/folders", nil, nil); code != 401 {
		t.Errorf("the web session after signing out everywhere: %d", code)
	}
	// The phone signs in again with its app password.
	e.imapSelected(amira, phone)
}

// A password changed by another process on the same database (the CLI's
// `user passwd` makes this store call) ends the open IMAP session and the
// web session within the server's poll, without this process being told.
func TestPasswordChangedElsewhereEndsSessions(t *testing.T) {
	const amira = "amira@nhs.test"
	e := startRevokeServer(t, amira)
	c := e.imapSelected(amira, "pw-"+amira)
	me := newAPIClient(t, e.srv, amira)
	h, err := auth.HashPassword(auth.TestParams(), "changed by the CLI 9")
	if err != nil {
		t.Fatal(err)
	}
	other := e.otherProcess()
	if err := other.SetPassword(context.Background(), e.person(amira).ID, h); err != nil {
		t.Fatal(err)
	}
	closedSoon(t, c, "the IMAP session after a password change by another process")
	if code := me.do("GET", "/api/v1/folders", nil, nil); code != 401 {
		t.Errorf("the web session after a password change by another process: %d", code)
	}
}
