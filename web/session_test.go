package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestSignInSessionsAndCSRF(t *testing.T) {
	ts := startWeb(t, "amira@nhs.test", "ben@nhs.test")

	// Wrong password: 401 problem+json with a sentence.
	c := ts.client()
	var p problemOf
	if code := c.do("POST", "/api/v1/session", map[string]string{"email": "amira@nhs.test", "password": "nope"}, &p); code != 401 {
		t.Fatalf("wrong password: %d", code)
	}
	if !strings.Contains(p.Detail, "not right") || p.Type == "" || p.Status != 401 {
		t.Errorf("wrong password problem: %+v", p)
	}
	resp := c.raw("POST", "/api/v1/session", map[string]string{"email": "amira@nhs.test", "password": "nope"})
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("problem Content-Type %q", ct)
	}

	// Missing password, unknown fields, wrong types, not JSON.
	test := func(body any, wantCode int, wantField, wantDetail string) {
		t.Helper()
		var p problemOf
		code := ts.client().do("POST", "/api/v1/session", body, &p)
		if code != wantCode || p.Field != wantField || !strings.Contains(p.Detail, wantDetail) {
			t.Errorf("POST %v: %d %+v, want %d field %q detail %q", body, code, p, wantCode, wantField, wantDetail)
		}
	}
	test(map[string]string{"email": "amira@nhs.test"}, 400, "password", "password")
	test(map[string]any{"email": "amira@nhs.test", "password": "x", "admin": true}, 400, "admin", `"admin" is not one`)
	test(map[string]any{"email": 12, "password": "x"}, 400, "email", "must be a string")
	test(`{"email": "a"`, 400, "", "ends in the middle")
	test(`{"email":"a","password":"b"} {}`, 400, "", "more than one JSON value")
	test(`{"email":"`+strings.Repeat("a", 20<<10)+`"}`, 413, "", "larger than")
	resp = ts.client().raw("POST", "/api/v1/session", []byte(`email=a&password=b`))
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("form-encoded sign-in: %d, want 415", resp.StatusCode)
	}

	// Right password: a Secure, HttpOnly, SameSite=Strict __Host- session
	// cookie, and the known-device cookie (device.go) made the same way.
	resp = ts.client().raw("POST", "/api/v1/session", map[string]string{"email": "Amira@NHS.test", "password": "pw-amira@nhs.test"})
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	ck := resp.Cookies()
	names := []string{}
	for _, c := range ck {
		names = append(names, c.Name)
		if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Domain != "" {
			t.Errorf("cookie %+v", c)
		}
	}
	if strings.Join(names, " ") != "__Host-wardmail-device __Host-wardmail" {
		t.Errorf("cookies: %v", names)
	}

	a := ts.signIn("amira@nhs.test")
	var who struct {
		Person struct{ Email string }
		CSRF   string
	}
	if code := a.do("GET", "/api/v1/session", nil, &who); code != 200 || who.Person.Email != "amira@nhs.test" || who.CSRF != a.csrf {
		t.Fatalf("whoami: %d %+v", code, who)
	}

	// Unsafe methods need the CSRF token.
	csrf := a.csrf
	a.csrf = ""
	if code := a.do("POST", "/api/v1/messages/flags", map[string]any{"folder": 1, "uids": []int{1}, "add": []string{"seen"}}, &p); code != 403 || !strings.Contains(p.Detail, "security token") {
		t.Errorf("POST without CSRF: %d %+v", code, p)
	}
	a.csrf = "wrong"
	if code := a.do("DELETE", "/api/v1/session", nil, nil); code != 403 {
		t.Errorf("DELETE with a wrong CSRF token: %d", code)
	}
	a.csrf = csrf

	// Not signed in.
	if code := ts.client().do("GET", "/api/v1/folders", nil, &p); code != 401 || !strings.Contains(p.Detail, "sign in") {
		t.Errorf("anonymous folders: %d %+v", code, p)
	}

	// Sign out ends this session only.
	a2 := ts.signIn("amira@nhs.test")
	if code := a.do("DELETE", "/api/v1/session", nil, nil); code != 204 {
		t.Fatalf("sign out: %d", code)
	}
	if code := a.do("GET", "/api/v1/session", nil, nil); code != 401 {
		t.Errorf("after sign out: %d", code)
	}
	if code := a2.do("GET", "/api/v1/session", nil, nil); code != 200 {
		t.Errorf("other session after sign out: %d", code)
	}

	// Sign out everywhere ends every session of the person, not others'.
	a3 := ts.signIn("amira@nhs.test")
	b := ts.signIn("ben@nhs.test")
	var ended struct{ Ended int }
	if code := a3.do("POST", "/api/v1/sessions/revoke-all", nil, &ended); code != 200 || ended.Ended != 3 { // a2, a3 and the cookie test's session
		t.Errorf("sign out everywhere: %d %+v", code, ended)
	}
	for _, c := range []*client{a2, a3} {
		if code := c.do("GET", "/api/v1/session", nil, nil); code != 401 {
			t.Errorf("a session survived sign out everywhere: %d", code)
		}
	}
	if code := b.do("GET", "/api/v1/session", nil, nil); code != 200 {
		t.Errorf("ben was signed out by amira: %d", code)
	}

	// Unknown API paths are problem+json 404s.
	if code := b.do("GET", "/api/v1/nothing", nil, &p); code != 404 || !strings.Contains(p.Detail, "no API call") {
		t.Errorf("unknown API path: %d %+v", code, p)
	}
}

func TestSessionExpiry(t *testing.T) {
	ts := startWeb(t, "amira@nhs.test")
	a := ts.signIn("amira@nhs.test")
	// Active every 20 minutes: stays signed in until the absolute limit.
	for i := 0; i < 30; i++ {
		ts.Advance(20 * time.Minute)
		code := a.do("GET", "/api/v1/session", nil, nil)
		elapsed := time.Duration(i+1) * 20 * time.Minute
		if elapsed < 12*time.Hour && code != 200 {
			t.Fatalf("active session ended after %s: %d", elapsed, code)
		}
		if elapsed >= 12*time.Hour {
			if code != 401 {
				t.Fatalf("session outlived the absolute limit (%s): %d", elapsed, code)
			}
			break
		}
	}
	// Idle for 31 minutes: signed out.
	b := ts.signIn("amira@nhs.test")
	ts.Advance(31 * time.Minute)
	if code := b.do("GET", "/api/v1/session", nil, nil); code != 401 {
		t.Errorf("idle session: %d", code)
	}
}

func TestBasicAuth(t *testing.T) {
	ts := startWeb(t, "amira@nhs.test")
	c := ts.client()
	c.user, c.pass = "amira@nhs.test", "pw-amira@nhs.test"
	if code := c.do("GET", "/api/v1/folders", nil, nil); code != 200 {
		t.Errorf("Basic: %d", code)
	}
	resp := c.raw("POST", "/api/v1/messages/flags", map[string]any{"folder": 999, "uids": []int{1}})
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("Basic POST (no CSRF needed): %d, want 404 for a folder that is not hers", resp.StatusCode)
	}
	c.pass = "wrong"
	resp = c.raw("GET", "/api/v1/folders", nil)
	resp.Body.Close()
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != "" {
		t.Errorf("wrong Basic: %d, WWW-Authenticate %q (a challenge would let browsers cache credentials)", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}

// Repeated wrong passwords lock sign-in from this source; the person is told
// until when, and that it unlocks by itself (smart lockout).
func TestSignInLockMessage(t *testing.T) {
	ts := startWeb(t, "amira@nhs.test")
	c := ts.client()
	for _, pw := range []string{"wrong-1", "wrong-2", "wrong-3"} {
		c.do("POST", "/api/v1/session", map[string]string{"email": "amira@nhs.test", "password": pw}, nil)
	}
	var p problemOf
	code := c.do("POST", "/api/v1/session", map[string]string{"email": "amira@nhs.test", "password": "pw-amira@nhs.test"}, &p)
	if code != 423 || !strings.Contains(p.Detail, "paused until") || !strings.Contains(p.Detail, "unlocks by itself") || p.Until == "" {
		t.Errorf("locked sign-in: %d %+v", code, p)
	}
}
