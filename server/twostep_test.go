package server_test

import (
	"context"
	"crypto/tls"
	"encoding/base32"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"wardmail/auth"
	"wardmail/server"
	"wardmail/store"
)

// Where two-step sign-in is on, a password alone opens no mail app: IMAP
// and SMTP take app passwords only, and a password reset leaves the
// person's authenticator in force.

// startTwoStepServer runs a server on a clock that stands still, so that
// TOTP codes of neighbouring steps are what the test says they are.
func startTwoStepServer(t *testing.T, set map[string]string, emails ...string) (*server.Server, time.Time) {
	t.Helper()
	now := time.Now().Truncate(30 * time.Second).Add(15 * time.Second)
	cfg := server.Defaults()
	cfg.DataDir = t.TempDir()
	cfg.Hostname = "mx.nhs.test"
	cfg.SMTPAddr, cfg.SubmissionAddr, cfg.IMAPAddr, cfg.HTTPAddr = "", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.Now = func() time.Time { return now }
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
	return srv, now
}

// enrolTOTP turns two-step sign-in on for a person, confirming with the
// code of the step before now, and returns the secret.
func enrolTOTP(t *testing.T, srv *server.Server, email string, now time.Time) []byte {
	t.Helper()
	ctx := context.Background()
	p, err := srv.Store.PersonByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := srv.Login.EnrolTOTP(ctx, p, "Wardmail")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Login.ConfirmTOTP(ctx, p, auth.TOTPCode(secret, now.Add(-30*time.Second))); err != nil {
		t.Fatal(err)
	}
	return secret
}

// imapRefusal signs in over IMAP and returns the refusal (nil: signed in).
func imapRefusal(t *testing.T, srv *server.Server, user, pass string) *imap.Error {
	t.Helper()
	c, err := imapclient.DialStartTLS(srv.Addrs["imap"], &imapclient.Options{TLSConfig: clientTLS})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Login(user, pass).Wait()
	if err == nil {
		return nil
	}
	var ie *imap.Error
	if !errors.As(err, &ie) {
		t.Fatalf("IMAP LOGIN: %v", err)
	}
	return ie
}

// smtpRefusal signs in over submission and returns the refusal (nil:
// signed in).
func smtpRefusal(t *testing.T, srv *server.Server, user, pass string) *smtp.SMTPError {
	t.Helper()
	c, err := smtp.DialStartTLS(srv.Addrs["submission"], clientTLS)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Auth(sasl.NewPlainClient("", user, pass))
	if err == nil {
		return nil
	}
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		t.Fatalf("SMTP AUTH: %v", err)
	}
	return se
}

func wantAppPasswordRefusal(t *testing.T, srv *server.Server, who, user, pass string) {
	t.Helper()
	if ie := imapRefusal(t, srv, user, pass); ie == nil || ie.Code != imap.ResponseCodeAuthenticationFailed ||
		!strings.Contains(ie.Text, "app password") || !strings.Contains(ie.Text, "Settings") {
		t.Errorf("%s: IMAP with the password: %v, want NO [AUTHENTICATIONFAILED] asking for an app password", who, ie)
	}
	if se := smtpRefusal(t, srv, user, pass); se == nil || se.Code != 535 || se.EnhancedCode != (smtp.EnhancedCode{5, 7, 8}) ||
		!strings.Contains(se.Message, "app password") {
		t.Errorf("%s: SMTP with the password: %v, want 535 5.7.8 asking for an app password", who, se)
	}
}

// A person with two-step sign-in, and an administrator, reach IMAP and
// SMTP with app passwords only; someone without it still uses their
// password.
func TestTwoStepMeansAppPasswordsForMailApps(t *testing.T) {
	const amira, nat, ben = "amira@nhs.test", "nat@nhs.test", "ben@nhs.test"
	srv, now := startTwoStepServer(t, nil, amira, nat, ben)
	ctx := context.Background()
	enrolTOTP(t, srv, amira, now)
	natP, err := srv.Store.PersonByEmail(ctx, nat)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Store.GrantAdmin(ctx, "test", natP.ID, store.RoleNational, 0); err != nil {
		t.Fatal(err)
	}

	wantAppPasswordRefusal(t, srv, "a person with two-step sign-in", amira, "pw-"+amira)
	wantAppPasswordRefusal(t, srv, "an administrator", nat, "pw-"+nat)
	if ie := imapRefusal(t, srv, ben, "pw-"+ben); ie != nil {
		t.Errorf("someone without two-step sign-in, with their password: %v", ie)
	}
	// A wrong password is still just wrong.
	if ie := imapRefusal(t, srv, amira, "not her password"); ie == nil || strings.Contains(ie.Text, "app password") {
		t.Errorf("a wrong password: %v, want the usual refusal", ie)
	}

	p, err := srv.Store.PersonByEmail(ctx, amira)
	if err != nil {
		t.Fatal(err)
	}
	app, err := srv.Login.CreateAppPassword(ctx, amira, p, "phone", []string{auth.ScopeIMAP, auth.ScopeSMTP})
	if err != nil {
		t.Fatal(err)
	}
	if ie := imapRefusal(t, srv, amira, app); ie != nil {
		t.Errorf("IMAP with an app password: %v", ie)
	}
	if se := smtpRefusal(t, srv, amira, app); se != nil {
		t.Errorf("SMTP with an app password: %v", se)
	}
}

// A right password refused for want of an app password is not a wrong
// password: however often a phone retries it, nothing locks. Wrong
// passwords still count as before.
func TestAppPasswordRefusalNotCounted(t *testing.T) {
	const amira = "amira@nhs.test"
	srv, now := startTwoStepServer(t, map[string]string{"lockout_threshold": "3", "lockout_familiar_threshold": "3"}, amira)
	enrolTOTP(t, srv, amira, now)
	for range 6 {
		wantAppPasswordRefusal(t, srv, "a retry of the right password", amira, "pw-"+amira)
	}
	if ls := locks(srv, amira); len(ls) != 0 {
		t.Fatalf("locks after right passwords refused for want of an app password: %+v", ls)
	}
	for _, guess := range []string{"guess-1", "guess-2", "guess-3"} {
		imapRefusal(t, srv, amira, guess)
	}
	if ls := locks(srv, amira); len(ls) != 1 {
		t.Errorf("locks after three wrong passwords: %+v, want 1", ls)
	}
}

// An administrator's password reset leaves the person's authenticator in
// force: whoever holds the new password can neither sign in to webmail
// without a code, nor read mail over IMAP, nor put their own authenticator
// on the account. The person moves it to a new phone with a code from the
// current one, which stays in force until the new one is confirmed.
func TestPasswordResetKeepsTwoStepSignIn(t *testing.T) {
	const amira, nat = "amira@nhs.test", "nat@nhs.test"
	srv, now := startTwoStepServer(t, nil, amira, nat)
	ctx := context.Background()
	natP, err := srv.Store.PersonByEmail(ctx, nat)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Store.GrantAdmin(ctx, "test", natP.ID, store.RoleNational, 0); err != nil {
		t.Fatal(err)
	}
	secret := enrolTOTP(t, srv, amira, now)
	admin := newAPIClientAt(t, srv, nat, func() time.Time { return now })

	const newPassword = "handed over the phone 12"
	if code := admin.call("POST", "/api/v1/admin/people/"+amira+"/password", map[string]string{"password": newPassword}, nil); code != 200 {
		t.Fatalf("reset: %d", code)
	}
	web := &apiClient{t: t, base: "https://" + srv.Addrs["http"],
		http: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}}
	var pr struct{ Type, Field string }
	if code := web.do("POST", "/api/v1/session", map[string]string{"email": amira, "password": newPassword}, &pr); code != 401 || pr.Field != "totp" {
		t.Errorf("web sign-in with the new password alone: %d %+v, want 401 asking for the code", code, pr)
	}
	wantAppPasswordRefusal(t, srv, "the new password", amira, newPassword)

	// The person signs in with the new password and her current code.
	var info struct {
		CSRF string `json:"csrf"`
	}
	if code := web.do("POST", "/api/v1/session", map[string]string{"email": amira, "password": newPassword,
		"totp": auth.TOTPCode(secret, now)}, &info); code != 200 {
		t.Fatalf("web sign-in with the new password and a code: %d", code)
	}
	web.csrf = info.CSRF
	// Without a code from the current app, no new authenticator.
	if code := web.do("POST", "/api/v1/settings/totp", map[string]string{}, &pr); code != 409 || pr.Field != "code" {
		t.Errorf("re-enrolment without a code: %d %+v, want 409", code, pr)
	}
	if code := web.do("POST", "/api/v1/settings/totp", map[string]string{"code": "000000"}, nil); code != 422 {
		t.Errorf("re-enrolment with a wrong code: %d, want 422", code)
	}
	var en struct{ Secret string }
	if code := web.do("POST", "/api/v1/settings/totp", map[string]string{"code": auth.TOTPCode(secret, now.Add(30*time.Second))}, &en); code != 200 {
		t.Fatalf("re-enrolment with the current code: %d", code)
	}
	newSecret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(en.Secret)
	if err != nil {
		t.Fatal(err)
	}
	// Until the new app is confirmed, the old one is in force.
	st, err := srv.Store.TOTP(ctx, mustID(t, srv, amira))
	if err != nil || !st.Enabled || string(st.Secret) != string(secret) {
		t.Fatalf("after starting re-enrolment: enabled=%v, old secret in force=%v, %v", st.Enabled, string(st.Secret) == string(secret), err)
	}
	var conf struct {
		Enabled bool `json:"enabled"`
	}
	if code := web.do("POST", "/api/v1/settings/totp/confirm", map[string]string{"code": auth.TOTPCode(newSecret, now.Add(-30*time.Second))}, &conf); code != 200 || !conf.Enabled {
		t.Fatalf("confirming the new app: %d %+v", code, conf)
	}
	if st, err := srv.Store.TOTP(ctx, mustID(t, srv, amira)); err != nil || !st.Enabled || string(st.Secret) != string(newSecret) {
		t.Errorf("after confirming: the new secret is not in force (%v)", err)
	}
}

func mustID(t *testing.T, srv *server.Server, email string) int64 {
	t.Helper()
	p, err := srv.Store.PersonByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return p.ID
}
