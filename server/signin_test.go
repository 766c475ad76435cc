package server_test

import (
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
	"wardmail/lockout"
	"wardmail/server"
	"wardmail/store"
	"wardmail/store/storetest"
)

// Smart lockout through real IMAP and SMTP clients. Clients dial from
// different loopback addresses (127.0.N.x), so each test has several
// client networks (/24s) on one machine.

func startLockoutServer(t *testing.T, set map[string]string, emails ...string) *server.Server {
	t.Helper()
	cfg := server.Defaults()
	cfg.DataDir = t.TempDir()
	cfg.Database = storetest.Database(t) // empty: SQLite in DataDir
	cfg.Hostname = "mx.nhs.test"
	cfg.SMTPAddr, cfg.SubmissionAddr, cfg.IMAPAddr, cfg.HTTPAddr = "", "127.0.0.1:0", "127.0.0.1:0", ""
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

var clientTLS = &tls.Config{InsecureSkipVerify: true}

// dialFrom opens a TCP connection to addr from the local address from.
func dialFrom(t *testing.T, from, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// imapLogin signs in over IMAP with STARTTLS from a local address and
// returns the response code of a refusal ("" for success).
func imapLogin(t *testing.T, srv *server.Server, from, user, pass string) imap.ResponseCode {
	t.Helper()
	c, err := imapclient.NewStartTLS(dialFrom(t, from, srv.Addrs["imap"]), &imapclient.Options{TLSConfig: clientTLS})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Login(user, pass).Wait()
	if err == nil {
		return ""
	}
	var ie *imap.Error
	if !errors.As(err, &ie) {
		t.Fatalf("IMAP LOGIN: %v", err)
	}
	return ie.Code
}

// smtpLogin signs in over submission with STARTTLS from a local address and
// returns the reply code of a refusal (0 for success).
func smtpLogin(t *testing.T, srv *server.Server, from, user, pass string) int {
	t.Helper()
	c, err := smtp.NewClientStartTLS(dialFrom(t, from, srv.Addrs["submission"]), clientTLS)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Auth(sasl.NewPlainClient("", user, pass))
	if err == nil {
		return 0
	}
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		t.Fatalf("SMTP AUTH: %v", err)
	}
	return se.Code
}

func locks(srv *server.Server, account string) []lockout.Lock {
	var out []lockout.Lock
	for _, l := range srv.Login.Lockout().Locks() {
		if l.Account == account {
			out = append(out, l)
		}
	}
	return out
}

// Ten different wrong passwords from one unfamiliar network lock that
// network out, for 60 s, for the right password too; another network is
// not locked.
func TestLockoutAfterTenFailures(t *testing.T) {
	const amira, ben = "amira@nhs.test", "ben@nhs.test"
	srv := startLockoutServer(t, nil, amira, ben)
	for i := range 9 {
		if code := imapLogin(t, srv, "127.0.1.1", amira, fmt.Sprint("guess-", i)); code != imap.ResponseCodeAuthenticationFailed {
			t.Fatalf("IMAP wrong password %d: %q", i, code)
		}
	}
	if code := smtpLogin(t, srv, "127.0.1.2", amira, "guess-9"); code != 535 {
		t.Fatalf("SMTP tenth wrong password: %d, want 535", code)
	}
	if code := imapLogin(t, srv, "127.0.1.3", amira, "pw-"+amira); code != imap.ResponseCodeUnavailable {
		t.Errorf("IMAP right password from the locked network: %q, want UNAVAILABLE", code)
	}
	if code := smtpLogin(t, srv, "127.0.1.4", amira, "pw-"+amira); code != 454 {
		t.Errorf("SMTP right password from the locked network: %d, want 454", code)
	}
	ls := locks(srv, amira)
	if len(ls) != 1 || ls[0].Source != "127.0.1.0/24" || ls[0].LockedUntil.Sub(ls[0].LockedAt) != time.Minute {
		t.Errorf("locks = %+v, want one of 60 s on 127.0.1.0/24", ls)
	}
	if code := imapLogin(t, srv, "127.0.2.1", amira, "pw-"+amira); code != "" {
		t.Errorf("IMAP from another network: %q, want success", code)
	}
	if code := smtpLogin(t, srv, "127.0.1.5", ben, "pw-"+ben); code != 0 {
		t.Errorf("another person from the locked network: %d, want success", code)
	}

	// In the audit trail and the metrics.
	if err := srv.Login.Close(); err != nil { // writes the batched audit now
		t.Fatal(err)
	}
	entries, err := srv.Store.AuditLog(context.Background(), store.AuditQuery{ActionPrefix: "signin.", Target: amira, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, e := range entries {
		count[e.Action]++
		if strings.Contains(e.Detail, "guess-") || strings.Contains(e.Detail, "pw-") {
			t.Errorf("audit entry holds a password: %+v", e)
		}
	}
	if count["signin.fail"] != 10 || count["signin.lock"] != 1 || count["signin.ok"] != 1 || count["signin.refused"] != 1 {
		t.Errorf("audit actions = %v", count)
	}
	want := `
# HELP wardmail_lockout_locks_total Locks started, of one (account, source) or of an account's unfamiliar sources.
# TYPE wardmail_lockout_locks_total counter
wardmail_lockout_locks_total 1
`
	if err := testutil.GatherAndCompare(srv.Registry, strings.NewReader(want), "wardmail_lockout_locks_total"); err != nil {
		t.Error(err)
	}
	if n, err := testutil.GatherAndCount(srv.Registry, "wardmail_signin_total"); err != nil || n < 4 {
		t.Errorf("wardmail_signin_total: %d series, %v", n, err)
	}
}

// A device retrying a stale saved password counts once, however often it
// retries and over either door.
func TestStalePasswordCountsOnce(t *testing.T) {
	const amira = "amira@nhs.test"
	srv := startLockoutServer(t, nil, amira)
	for range 15 {
		if code := imapLogin(t, srv, "127.0.1.1", amira, "last-years-password"); code != imap.ResponseCodeAuthenticationFailed {
			t.Fatalf("IMAP stale password: %q", code)
		}
		if code := smtpLogin(t, srv, "127.0.1.1", amira, "last-years-password"); code != 535 {
			t.Fatalf("SMTP stale password: %d", code)
		}
	}
	if ls := locks(srv, amira); len(ls) != 0 {
		t.Errorf("locks after 30 retries of one stale password: %+v", ls)
	}
	if code := imapLogin(t, srv, "127.0.1.1", amira, "pw-"+amira); code != "" {
		t.Errorf("right password after the stale retries: %q", code)
	}
}

// A network the person signed in from recently has its own, higher budget
// (20); unfamiliar networks together share one budget per account (30),
// which locks every unfamiliar network but never the familiar one.
func TestFamiliarAndUnfamiliarCountedApart(t *testing.T) {
	const amira = "amira@nhs.test"
	srv := startLockoutServer(t, nil, amira)
	if code := imapLogin(t, srv, "127.0.1.1", amira, "pw-"+amira); code != "" {
		t.Fatal(code)
	}
	for i := range 15 {
		if code := smtpLogin(t, srv, "127.0.1.2", amira, fmt.Sprint("typo-", i)); code != 535 {
			t.Fatalf("SMTP typo %d from the familiar network: %d", i, code)
		}
	}
	if code := imapLogin(t, srv, "127.0.1.3", amira, "pw-"+amira); code != "" {
		t.Fatalf("familiar network after 15 failures: %q, want success", code)
	}
	// Spray from four unfamiliar networks, 8 guesses each: the 30th locks
	// the account's unfamiliar networks.
	for n := range 4 {
		for i := range 8 {
			code := imapLogin(t, srv, fmt.Sprintf("127.0.%d.9", 10+n), amira, fmt.Sprint("spray-", n, "-", i))
			if want := imap.ResponseCodeAuthenticationFailed; n*8+i >= 30 {
				want = imap.ResponseCodeUnavailable
				if code != want {
					t.Fatalf("guess %d: %q, want %q", n*8+i, code, want)
				}
			}
		}
	}
	if code := imapLogin(t, srv, "127.0.99.1", amira, "pw-"+amira); code != imap.ResponseCodeUnavailable {
		t.Errorf("a new unfamiliar network during the spray: %q, want UNAVAILABLE", code)
	}
	if code := smtpLogin(t, srv, "127.0.1.4", amira, "pw-"+amira); code != 0 {
		t.Errorf("the familiar network during the spray: %d, want success", code)
	}
	var wide bool
	for _, l := range locks(srv, amira) {
		wide = wide || l.Source == lockout.AccountWide
	}
	if !wide {
		t.Errorf("no account-wide lock: %+v", locks(srv, amira))
	}
}

// Locks expire by themselves and grow: the next failure after a lock locks
// again for twice as long.
func TestLockExpiresAndGrows(t *testing.T) {
	const amira = "amira@nhs.test"
	srv := startLockoutServer(t, map[string]string{"lockout_threshold": "3", "lockout_duration": "1s"}, amira)
	for i := range 3 {
		smtpLogin(t, srv, "127.0.1.1", amira, fmt.Sprint("guess-", i))
	}
	ls := locks(srv, amira)
	if len(ls) != 1 || ls[0].LockedUntil.Sub(ls[0].LockedAt) != time.Second {
		t.Fatalf("first lock: %+v", ls)
	}
	time.Sleep(1100 * time.Millisecond)
	if len(locks(srv, amira)) != 0 {
		t.Fatal("the lock did not expire")
	}
	smtpLogin(t, srv, "127.0.1.1", amira, "guess-after")
	ls = locks(srv, amira)
	if len(ls) != 1 || ls[0].LockedUntil.Sub(ls[0].LockedAt) != 2*time.Second || ls[0].Locks != 2 {
		t.Fatalf("second lock: %+v, want 2 s", ls)
	}
	time.Sleep(2100 * time.Millisecond)
	if code := imapLogin(t, srv, "127.0.1.1", amira, "pw-"+amira); code != "" {
		t.Errorf("right password after the second lock expired: %q", code)
	}
}

// While the credential store fails (injected), every sign-in gets a
// temporary failure and nothing is counted; a slow store is not held against
// people either.
func TestStoreFaultNotCounted(t *testing.T) {
	const amira = "amira@nhs.test"
	srv := startLockoutServer(t, map[string]string{"signin_slow_lookup": "50ms"}, amira)
	srv.Login.InjectFault(auth.FaultStoreDown)
	for i := range 12 {
		if code := imapLogin(t, srv, "127.0.1.1", amira, fmt.Sprint("pw-", i)); code != imap.ResponseCodeUnavailable {
			t.Fatalf("IMAP during the outage: %q, want UNAVAILABLE", code)
		}
		if code := smtpLogin(t, srv, "127.0.1.1", amira, "pw-"+amira); code != 454 {
			t.Fatalf("SMTP during the outage: %d, want 454", code)
		}
	}
	srv.Login.InjectFault(auth.FaultStoreSlow)
	for i := range 12 {
		if code := smtpLogin(t, srv, "127.0.1.1", amira, fmt.Sprint("slow-", i)); code != 535 {
			t.Fatalf("SMTP wrong password on a slow store: %d, want 535", code)
		}
	}
	srv.Login.InjectFault(auth.FaultNone)
	if ls := locks(srv, amira); len(ls) != 0 {
		t.Errorf("locks after the outage: %+v", ls)
	}
	if code := imapLogin(t, srv, "127.0.1.1", amira, "pw-"+amira); code != "" {
		t.Errorf("right password after the outage: %q", code)
	}
}

// Incident mode, set in the store as `wardmail admin incident on` does from
// another process, stops all counting once the server has read it.
func TestIncidentModeStopsCounting(t *testing.T) {
	const amira = "amira@nhs.test"
	srv := startLockoutServer(t, nil, amira)
	ctx := context.Background()
	if err := srv.Store.SetSignInControl(ctx, "cli:test", "incident", "on"); err != nil {
		t.Fatal(err)
	}
	if err := srv.Login.Lockout().Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		if code := smtpLogin(t, srv, "127.0.1.1", amira, fmt.Sprint("guess-", i)); code != 535 {
			t.Fatalf("wrong password in incident mode: %d, want 535", code)
		}
	}
	if ls := locks(srv, amira); len(ls) != 0 {
		t.Errorf("locks in incident mode: %+v", ls)
	}
	if err := srv.Store.SetSignInControl(ctx, "cli:test", "incident", "off"); err != nil {
		t.Fatal(err)
	}
	if err := srv.Login.Lockout().Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		smtpLogin(t, srv, "127.0.1.1", amira, fmt.Sprint("again-", i))
	}
	if ls := locks(srv, amira); len(ls) != 1 {
		t.Errorf("locks after incident mode ended: %+v, want 1", ls)
	}
}

// An unlock written to the store by another process (the CLI) reaches the
// running server.
func TestUnlockFromStore(t *testing.T) {
	const amira = "amira@nhs.test"
	srv := startLockoutServer(t, nil, amira)
	ctx := context.Background()
	for i := range 10 {
		imapLogin(t, srv, "127.0.1.1", amira, fmt.Sprint("guess-", i))
	}
	if code := imapLogin(t, srv, "127.0.1.1", amira, "pw-"+amira); code != imap.ResponseCodeUnavailable {
		t.Fatalf("not locked: %q", code)
	}
	time.Sleep(1500 * time.Millisecond) // the server saves its locks every second
	rows, err := srv.Store.Lockouts(ctx)
	if err != nil || len(rows) != 1 {
		t.Fatalf("stored locks: %+v, %v", rows, err)
	}
	if _, err := srv.Store.Unlock(ctx, "cli:test", nil, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := srv.Login.Lockout().Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if code := imapLogin(t, srv, "127.0.1.1", amira, "pw-"+amira); code != "" {
		t.Errorf("after unlock: %q, want success", code)
	}
}

// App passwords: scoped, bound to their owner, revocable, last use
// recorded; a wrong one counts like a wrong password.
func TestAppPasswords(t *testing.T) {
	const amira, ben = "amira@nhs.test", "ben@nhs.test"
	srv := startLockoutServer(t, nil, amira, ben)
	ctx := context.Background()
	p, err := srv.Store.PersonByEmail(ctx, amira)
	if err != nil {
		t.Fatal(err)
	}
	both, err := srv.Login.CreateAppPassword(ctx, "cli:test", p, "work phone", []string{auth.ScopeIMAP, auth.ScopeSMTP})
	if err != nil {
		t.Fatal(err)
	}
	imapOnly, err := srv.Login.CreateAppPassword(ctx, "cli:test", p, "tablet", []string{auth.ScopeIMAP})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Login.CreateAppPassword(ctx, "cli:test", p, "tablet", []string{auth.ScopeIMAP}); !errors.Is(err, store.ErrExists) {
		t.Errorf("a second app password with the same name: %v", err)
	}
	if code := imapLogin(t, srv, "127.0.1.1", amira, both); code != "" {
		t.Errorf("IMAP with an app password: %q", code)
	}
	if code := smtpLogin(t, srv, "127.0.1.1", amira, strings.ToUpper(both)); code != 0 {
		t.Errorf("SMTP with an app password typed in capitals: %d", code)
	}
	if code := imapLogin(t, srv, "127.0.1.1", amira, imapOnly); code != "" {
		t.Errorf("IMAP with an IMAP-only app password: %q", code)
	}
	if code := smtpLogin(t, srv, "127.0.1.1", amira, imapOnly); code != 535 {
		t.Errorf("SMTP with an IMAP-only app password: %d, want 535", code)
	}
	if code := imapLogin(t, srv, "127.0.1.1", ben, both); code != imap.ResponseCodeAuthenticationFailed {
		t.Errorf("someone else's app password: %q", code)
	}
	if n, err := srv.Store.RevokeAppPasswords(ctx, "cli:test", p.ID, "work phone"); n != 1 || err != nil {
		t.Fatalf("revoke: %d, %v", n, err)
	}
	if code := imapLogin(t, srv, "127.0.1.1", amira, both); code != imap.ResponseCodeAuthenticationFailed {
		t.Errorf("a revoked app password: %q", code)
	}
	// Wrong app passwords count like wrong passwords.
	for range 10 {
		wrong, _ := auth.NewAppPassword()
		imapLogin(t, srv, "127.0.2.1", amira, wrong)
	}
	if code := imapLogin(t, srv, "127.0.2.1", amira, "pw-"+amira); code != imap.ResponseCodeUnavailable {
		t.Errorf("after ten wrong app passwords: %q, want UNAVAILABLE (locked)", code)
	}
	if code := imapLogin(t, srv, "127.0.2.1", amira, imapOnly); code != "" {
		t.Errorf("a right app password from the locked network: %q, want success", code)
	}
	if err := srv.Login.Close(); err != nil {
		t.Fatal(err)
	}
	aps, err := srv.Store.AppPasswords(ctx, p.ID)
	if err != nil || len(aps) != 1 || aps[0].Name != "tablet" || aps[0].LastUsedAt.IsZero() || aps[0].LastUsedFrom != "127.0.2.1" {
		t.Errorf("app passwords listed: %+v, %v", aps, err)
	}
}

// A right app password signs in even from a locked network: lockout stops
// guessing, and nobody guesses 160 random bits.
func TestAppPasswordPassesLock(t *testing.T) {
	const amira = "amira@nhs.test"
	srv := startLockoutServer(t, nil, amira)
	ctx := context.Background()
	p, err := srv.Store.PersonByEmail(ctx, amira)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := srv.Login.CreateAppPassword(ctx, "cli:test", p, "phone", []string{auth.ScopeIMAP, auth.ScopeSMTP})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		smtpLogin(t, srv, "127.0.1.1", amira, fmt.Sprint("guess-", i))
	}
	if code := smtpLogin(t, srv, "127.0.1.1", amira, "pw-"+amira); code != 454 {
		t.Fatalf("password from the locked network: %d, want 454", code)
	}
	if code := smtpLogin(t, srv, "127.0.1.2", amira, secret); code != 0 {
		t.Errorf("app password from the locked network: %d, want success", code)
	}
	wrong, _ := auth.NewAppPassword()
	if code := imapLogin(t, srv, "127.0.1.2", amira, wrong); code != imap.ResponseCodeUnavailable {
		t.Errorf("a wrong app password from the locked network: %q, want UNAVAILABLE", code)
	}
}
