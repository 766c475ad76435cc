package web_test

import (
	"context"
	"encoding/base32"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"wardmail/auth"
	"wardmail/lockout"
	"wardmail/store"
	"wardmail/store/sqlite"
	"wardmail/submit"
	"wardmail/web"
)

// Sign-in through net/http: smart lockout's rules as a browser meets them,
// the known-device cookie, the outage that counts against nobody,
// administrators' TOTP enrolment, app passwords and recovery codes.

const (
	leeds = "Leeds Teaching Hospitals NHS Trust"
	york  = "York and Scarborough Teaching Hospitals NHS Foundation Trust"
)

// signinServer is the web door with the production lockout policy (unless
// pol says otherwise) and its auth.Login, for fault injection.
type signinServer struct {
	*testServer
	Login *auth.Login
}

func startSignin(t testing.TB, pol lockout.Policy, people map[string]string) *signinServer {
	t.Helper()
	st := openTestStore(t, t.TempDir(), sqlite.Options{InlineMax: 8192})
	ts := &testServer{t: t, Store: st, now: time.Now()}
	ts.Pipe = submit.New(submit.Config{Store: st, Hostname: "mx.nhs.test"})
	lock, err := lockout.New(context.Background(), lockout.Config{Store: st, Policy: pol})
	if err != nil {
		t.Fatal(err)
	}
	login := auth.New(auth.Config{Store: st, Hasher: auth.NewHasher(auth.TestParams(), 2, 2*time.Second), Lockout: lock})
	h := web.New(services(st, ts.Pipe, login, lock, ts.Now))
	ts.srv = httptest.NewTLSServer(h)
	ts.URL = ts.srv.URL
	t.Cleanup(func() {
		ts.srv.Close()
		if err := errors.Join(login.Close(), lock.Close(), st.Close()); err != nil {
			t.Error(err)
		}
	})
	var recs []store.PersonRecord
	for email, org := range people {
		h, err := auth.HashPassword(auth.TestParams(), "pw-"+email)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, store.PersonRecord{Email: email, Name: strings.Split(email, "@")[0] + " Tester", Org: org, PasswordHash: h})
	}
	if _, _, err := st.UpsertPeople(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	return &signinServer{testServer: ts, Login: login}
}

func (c *client) signInWith(email, password, totp string) (int, problemOf, string) {
	c.ts.t.Helper()
	var out struct {
		problemOf
		CSRF            string
		TOTPSetupNeeded bool
	}
	body := map[string]string{"email": email, "password": password}
	if totp != "" {
		body["totp"] = totp
	}
	code := c.do("POST", "/api/v1/session", body, &out)
	if code == 200 {
		c.csrf = out.CSRF
	}
	return code, out.problemOf, out.CSRF
}

// Ten different wrong passwords from an unfamiliar network lock the account
// there for 60 s: the next attempt, right password or not, is 423 with the
// time it lifts and Retry-After. The same wrong password again (a stale
// saved password) counts once.
func TestLockoutRulesOverHTTP(t *testing.T) {
	ts := startSignin(t, lockout.Policy{}, map[string]string{"amira@nhs.test": leeds, "ben@nhs.test": leeds})
	c := ts.client()
	for range 25 {
		if code, p, _ := c.signInWith("ben@nhs.test", "stale saved password", ""); code != 401 || !strings.HasSuffix(p.Type, "/bad-credentials") {
			t.Fatalf("stale password: %d %+v", code, p)
		}
	}
	if code, _, _ := c.signInWith("ben@nhs.test", "pw-ben@nhs.test", ""); code != 200 {
		t.Fatalf("25 repeats of one wrong password locked the account: %d", code)
	}

	c = ts.client()
	for i := range 10 {
		if code, _, _ := c.signInWith("amira@nhs.test", fmt.Sprintf("guess-%d", i), ""); code != 401 {
			t.Fatalf("guess %d: %d", i, code)
		}
	}
	resp := c.raw("POST", "/api/v1/session", map[string]string{"email": "amira@nhs.test", "password": "pw-amira@nhs.test"})
	var p problemOf
	readJSONBody(t, resp, &p)
	until, err := time.Parse(time.RFC3339, p.Until)
	if resp.StatusCode != 423 || err != nil || resp.Header.Get("Retry-After") == "" || !strings.Contains(p.Detail, "paused until") {
		t.Fatalf("after 10 wrong passwords: %d %+v Retry-After %q", resp.StatusCode, p, resp.Header.Get("Retry-After"))
	}
	if d := time.Until(until); d < 50*time.Second || d > 70*time.Second {
		t.Errorf("first lock lasts %s, want 60 s", d)
	}
}

// While the credential store is down, sign-in is 503 and nothing counts:
// forty wrong passwords in the outage lock nobody out afterwards.
func TestOutageIs503AndNotCounted(t *testing.T) {
	ts := startSignin(t, lockout.Policy{Grace: time.Millisecond}, map[string]string{"amira@nhs.test": leeds})
	c := ts.client()
	ts.Login.InjectFault(auth.FaultStoreDown)
	for i := range 40 {
		resp := c.raw("POST", "/api/v1/session", map[string]string{"email": "amira@nhs.test", "password": fmt.Sprintf("retry-%d", i)})
		var p problemOf
		readJSONBody(t, resp, &p)
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !strings.Contains(p.Detail, "does not count against your account") {
			t.Fatalf("during the outage: %d %+v", resp.StatusCode, p)
		}
	}
	ts.Login.InjectFault(auth.FaultNone)
	time.Sleep(5 * time.Millisecond) // past the grace period
	if code, p, _ := c.signInWith("amira@nhs.test", "pw-amira@nhs.test", ""); code != 200 {
		t.Fatalf("after the outage: %d %+v", code, p)
	}
}

// A browser that signed in before keeps its own budget: someone on the same
// network who locks that network out does not lock out the ward PC.
func TestKnownDeviceIsItsOwnSource(t *testing.T) {
	ts := startSignin(t, lockout.Policy{}, map[string]string{"amira@nhs.test": leeds})
	wardPC := ts.client()
	if code, _, _ := wardPC.signInWith("amira@nhs.test", "pw-amira@nhs.test", ""); code != 200 {
		t.Fatal("first sign-in")
	}
	u := mustURL(t, ts.URL)
	var device string
	for _, ck := range wardPC.hc.Jar.Cookies(u) {
		if ck.Name == "__Host-wardmail-device" {
			device = ck.Value
		}
	}
	if len(device) != 43 {
		t.Fatalf("no known-device cookie after sign-in: %q", device)
	}
	wardPC.do("DELETE", "/api/v1/session", nil, nil)

	// The network is familiar now (20 failures lock it).
	attacker := ts.client()
	for i := range 21 {
		attacker.signInWith("amira@nhs.test", fmt.Sprintf("guess-%d", i), "")
	}
	if code, _, _ := attacker.signInWith("amira@nhs.test", "pw-amira@nhs.test", ""); code != 423 {
		t.Fatalf("attacker's browser after 21 guesses: %d, want 423", code)
	}
	if code, p, _ := wardPC.signInWith("amira@nhs.test", "pw-amira@nhs.test", ""); code != 200 {
		t.Fatalf("the ward PC was locked out by someone else's guesses: %d %+v", code, p)
	}
}

// enrol takes a signed-in client of a person who must set up TOTP through
// enrolment and returns the secret and recovery codes.
func enrol(t testing.TB, c *client) ([]byte, []string) {
	t.Helper()
	var en struct{ Secret, URI string }
	if code := c.do("POST", "/api/v1/settings/totp", struct{}{}, &en); code != 200 || !strings.HasPrefix(en.URI, "otpauth://totp/Wardmail:") {
		t.Fatalf("enrol: %d %+v", code, en)
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(en.Secret)
	if err != nil {
		t.Fatal(err)
	}
	var conf struct {
		Enabled       bool
		RecoveryCodes []string `json:"recovery_codes"`
	}
	if code := c.do("POST", "/api/v1/settings/totp/confirm", map[string]string{"code": "000000"}, nil); code != 422 {
		t.Errorf("a wrong code confirmed enrolment: %d", code)
	}
	if code := c.do("POST", "/api/v1/settings/totp/confirm", map[string]string{"code": auth.TOTPCode(secret, time.Now())}, &conf); code != 200 || !conf.Enabled || len(conf.RecoveryCodes) != 10 {
		t.Fatalf("confirm: %d %+v", code, conf)
	}
	return secret, conf.RecoveryCodes
}

// An administrator without TOTP signs in to a session that reaches only
// enrolment; once enrolled, sign-in needs a code (or a recovery code, once).
func TestAdminMustEnrolTOTP(t *testing.T) {
	ts := startSignin(t, lockout.Policy{}, map[string]string{"nat@nhs.test": leeds})
	ctx := context.Background()
	p, _ := ts.Store.PersonByEmail(ctx, "nat@nhs.test")
	if err := ts.Store.GrantAdmin(ctx, "test", p.ID, store.RoleNational, 0); err != nil {
		t.Fatal(err)
	}
	c := ts.client()
	var info struct {
		CSRF            string
		TOTPSetupNeeded bool
	}
	if code := c.do("POST", "/api/v1/session", map[string]string{"email": "nat@nhs.test", "password": "pw-nat@nhs.test"}, &info); code != 200 || !info.TOTPSetupNeeded {
		t.Fatalf("admin without TOTP: %d %+v", code, info)
	}
	c.csrf = info.CSRF
	for _, path := range []string{"/api/v1/folders", "/api/v1/admin/scope", "/api/v1/admin/people", "/api/v1/settings/app-passwords"} {
		var pr problemOf
		if code := c.do("GET", path, nil, &pr); code != 403 || !strings.HasSuffix(pr.Type, "/totp-setup-required") {
			t.Errorf("GET %s before enrolment: %d %+v", path, code, pr)
		}
	}
	if code := c.do("GET", "/api/v1/session", nil, &info); code != 200 || !info.TOTPSetupNeeded {
		t.Errorf("who am I before enrolment: %d %+v", code, info)
	}
	secret, recovery := enrol(t, c)
	if code := c.do("GET", "/api/v1/admin/scope", nil, nil); code != 200 {
		t.Errorf("after enrolment the session is still restricted: %d", code)
	}
	if code := c.do("POST", "/api/v1/settings/totp", struct{}{}, nil); code != 409 {
		t.Errorf("re-enrolling while on: %d, want 409", code)
	}
	if code := c.do("POST", "/api/v1/settings/totp/disable", map[string]string{"code": auth.TOTPCode(secret, time.Now().Add(30*time.Second))}, nil); code != 403 {
		t.Errorf("an administrator turned TOTP off: %d", code)
	}

	c2 := ts.client()
	if code, pr, _ := c2.signInWith("nat@nhs.test", "pw-nat@nhs.test", ""); code != 401 || pr.Field != "totp" {
		t.Fatalf("sign-in without a code: %d %+v", code, pr)
	}
	if code, pr, _ := c2.signInWith("nat@nhs.test", "pw-nat@nhs.test", "123456"); code != 401 || !strings.HasSuffix(pr.Type, "/bad-totp") {
		t.Fatalf("wrong code: %d %+v", code, pr)
	}
	if code, _, _ := c2.signInWith("nat@nhs.test", "pw-nat@nhs.test", auth.TOTPCode(secret, time.Now().Add(30*time.Second))); code != 200 {
		t.Fatalf("right code: %d", code)
	}
	for i, want := range []int{200, 401} {
		if code, _, _ := ts.client().signInWith("nat@nhs.test", "pw-nat@nhs.test", strings.ToUpper(recovery[0])); code != want {
			t.Errorf("recovery code, use %d: %d, want %d", i+1, code, want)
		}
	}
	var st struct {
		Enabled, Required bool
		Left              int `json:"recovery_codes_left"`
	}
	if code := c2.do("GET", "/api/v1/settings/totp", nil, &st); code != 200 || !st.Enabled || !st.Required || st.Left != 9 {
		t.Errorf("TOTP status: %d %+v", code, st)
	}
}

// App passwords: created with the secret shown once, listed without it,
// usable by IMAP, revoked.
func TestAppPasswordsOverHTTP(t *testing.T) {
	ts := startSignin(t, lockout.Policy{}, map[string]string{"amira@nhs.test": leeds})
	c := ts.client()
	c.signInWith("amira@nhs.test", "pw-amira@nhs.test", "")
	var created struct {
		Password    string
		AppPassword struct {
			ID     int64
			Name   string
			Scopes []string
		} `json:"app_password"`
	}
	if code := c.do("POST", "/api/v1/settings/app-passwords", map[string]any{"name": "work phone", "scopes": []string{"imap"}}, &created); code != 201 ||
		!strings.HasPrefix(created.Password, "wm-") || created.AppPassword.Name != "work phone" {
		t.Fatalf("create: %d %+v", code, created)
	}
	if code := c.do("POST", "/api/v1/settings/app-passwords", map[string]any{"name": "work phone"}, nil); code != 409 {
		t.Errorf("same name twice: %d", code)
	}
	if code := c.do("POST", "/api/v1/settings/app-passwords", map[string]any{"name": "x", "scopes": []string{"http"}}, nil); code != 400 {
		t.Errorf("scope http: %d", code)
	}
	ctx := auth.WithClient(context.Background(), nil, auth.ProtoIMAP)
	if _, err := ts.Login.Authenticate(ctx, "amira@nhs.test", created.Password); err != nil {
		t.Fatalf("IMAP with the new app password: %v", err)
	}
	resp := c.raw("GET", "/api/v1/settings/app-passwords", nil)
	var list struct {
		AppPasswords []map[string]any `json:"app_passwords"`
	}
	readJSONBody(t, resp, &list)
	if len(list.AppPasswords) != 1 || list.AppPasswords[0]["name"] != "work phone" || strings.Contains(fmt.Sprint(list), created.Password[3:]) {
		t.Fatalf("list: %+v", list)
	}
	if code := c.do("DELETE", fmt.Sprintf("/api/v1/settings/app-passwords/%d", created.AppPassword.ID), nil, nil); code != 204 {
		t.Fatalf("revoke: %d", code)
	}
	if _, err := ts.Login.Authenticate(ctx, "amira@nhs.test", created.Password); !errors.Is(err, auth.ErrBadCredentials) {
		t.Errorf("a revoked app password still works: %v", err)
	}
	if code := c.do("DELETE", fmt.Sprintf("/api/v1/settings/app-passwords/%d", created.AppPassword.ID), nil, nil); code != 404 {
		t.Errorf("revoke twice: %d", code)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
