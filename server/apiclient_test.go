package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
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
}

func newAPIClient(t *testing.T, srv *server.Server, email string) *apiClient {
	t.Helper()
	ctx := context.Background()
	jar, _ := cookiejar.New(nil)
	c := &apiClient{t: t, base: "https://" + srv.Addrs["http"],
		http: &http.Client{Jar: jar, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}}
	p, err := srv.Store.PersonByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	req := map[string]string{"email": email, "password": "pw-" + email}
	if admin, err := srv.Store.IsAdmin(ctx, p.ID); err != nil {
		t.Fatal(err)
	} else if admin {
		secret, _, err := srv.Login.EnrolTOTP(ctx, p, "Wardmail")
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Login.ConfirmTOTP(ctx, p, auth.TOTPCode(secret, time.Now())); err != nil {
			t.Fatal(err)
		}
		// The confirming code is spent; the next step's is accepted.
		req["totp"] = auth.TOTPCode(secret, time.Now().Add(30*time.Second))
	}
	var info struct {
		CSRF string `json:"csrf"`
	}
	if code := c.call("POST", "/api/v1/session", req, &info); code != http.StatusOK {
		t.Fatalf("signing in as %s: %d", email, code)
	}
	c.csrf = info.CSRF
	return c
}

// call sends a JSON request and decodes the answer into out (when not nil),
// returning the status.
func (c *apiClient) call(method, path string, body, out any) int {
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
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}
