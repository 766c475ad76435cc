package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"wardmail/auth"
	"wardmail/server"
)

// apiClient calls the JSON API over HTTPS with a web session, as the
// webmail does. Administrators must use two-step sign-in, so newAPIClient
// enrols them in TOTP first and signs in with a code.
type apiClient struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
	// cookies are sent by hand rather than by a cookie jar, which would
	// drop them as expired on servers running on a fake clock.
	cookies []*http.Cookie
	// signIn opens a new session; call uses it again when a session ends
	// (a fake clock moved past its expiry).
	signIn func() int
}

func newAPIClient(t *testing.T, srv *server.Server, email string) *apiClient {
	t.Helper()
	return newAPIClientAt(t, srv, email, time.Now)
}

// newAPIClientAt is newAPIClient for a server on a clock of its own (TOTP
// codes follow the server's time).
func newAPIClientAt(t *testing.T, srv *server.Server, email string, now func() time.Time) *apiClient {
	t.Helper()
	ctx := context.Background()
	c := &apiClient{t: t, base: "https://" + srv.Addrs["http"],
		http: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}}
	p, err := srv.Store.PersonByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	var secret []byte
	if admin, err := srv.Store.IsAdmin(ctx, p.ID); err != nil {
		t.Fatal(err)
	} else if admin {
		if secret, _, err = srv.Login.EnrolTOTP(ctx, p, "Wardmail"); err != nil {
			t.Fatal(err)
		}
		if err := srv.Login.ConfirmTOTP(ctx, p, auth.TOTPCode(secret, now())); err != nil {
			t.Fatal(err)
		}
	}
	first := true
	c.signIn = func() int {
		req := map[string]string{"email": email, "password": "pw-" + email}
		if secret != nil {
			// The confirming code is spent; the next step's is accepted.
			at := now()
			if first {
				at = at.Add(30 * time.Second)
			}
			req["totp"] = auth.TOTPCode(secret, at)
		}
		first = false
		c.cookies, c.csrf = nil, ""
		var info struct {
			CSRF string `json:"csrf"`
		}
		code := c.do("POST", "/api/v1/session", req, &info)
		c.csrf = info.CSRF
		return code
	}
	if code := c.signIn(); code != http.StatusOK {
		t.Fatalf("signing in as %s: %d", email, code)
	}
	return c
}

// call sends a JSON request and decodes the answer into out (when not nil),
// returning the status. A session that ended is opened again once.
func (c *apiClient) call(method, path string, body, out any) int {
	c.t.Helper()
	code := c.do(method, path, body, out)
	if code == http.StatusUnauthorized && c.signIn() == http.StatusOK {
		code = c.do(method, path, body, out)
	}
	return code
}

func (c *apiClient) do(method, path string, body, out any) int {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	for _, ck := range c.cookies {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	for _, ck := range resp.Cookies() {
		c.cookies = slices.DeleteFunc(c.cookies, func(o *http.Cookie) bool { return o.Name == ck.Name })
		c.cookies = append(c.cookies, ck)
	}
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}
