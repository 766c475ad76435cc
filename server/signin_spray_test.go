package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"wardmail/server"
	"wardmail/store/storetest"
)

// A password spray from one network (one guess at each of many accounts)
// fills no account's budget; the network budget pauses password sign-ins
// from that network to accounts it is unfamiliar to, over IMAP, SMTP and
// HTTP. People who have signed in from the network before, and other
// networks, are not affected.
func TestPasswordSprayPausesTheNetwork(t *testing.T) {
	people := []string{"amira@nhs.test", "ben@nhs.test", "chloe@nhs.test", "daniel@nhs.test"}
	srv := startLockoutServer(t, map[string]string{"lockout_network_threshold": "6", "http": "127.0.0.1:0"}, people...)
	// Ben works on this network: a success makes it familiar to him.
	if code := imapLogin(t, srv, "127.0.3.1", "ben@nhs.test", "pw-ben@nhs.test"); code != "" {
		t.Fatal(code)
	}
	// The spray: one common password at six accounts (two with no person).
	for i, acct := range []string{"amira@nhs.test", "chloe@nhs.test", "daniel@nhs.test", "nobody@nhs.test", "ghost@nhs.test", "amira.k@nhs.test"} {
		if code := imapLogin(t, srv, "127.0.3.9", acct, "Winter2026!"); code != imap.ResponseCodeAuthenticationFailed {
			t.Fatalf("spray guess %d at %s: %q, want AUTHENTICATIONFAILED", i, acct, code)
		}
	}
	// Now even the right password of someone the network does not know is
	// paused (not verified, not counted against her), over every door.
	if code := imapLogin(t, srv, "127.0.3.20", "chloe@nhs.test", "pw-chloe@nhs.test"); code != imap.ResponseCodeUnavailable {
		t.Errorf("IMAP unfamiliar account from the spraying network: %q, want UNAVAILABLE", code)
	}
	if code := smtpLogin(t, srv, "127.0.3.21", "daniel@nhs.test", "pw-daniel@nhs.test"); code != 454 {
		t.Errorf("SMTP unfamiliar account from the spraying network: %d, want 454", code)
	}
	status, prob := webSignInFrom(t, srv, "127.0.3.23", "chloe@nhs.test", "pw-chloe@nhs.test")
	if status != http.StatusTooManyRequests || prob["type"] == nil || !strings.Contains(fmt.Sprint(prob["detail"]), "from your network") {
		t.Errorf("HTTP unfamiliar account from the spraying network: %d %v, want 429 naming the network", status, prob)
	}
	// Ben's network is familiar to him: he signs in as always.
	if code := imapLogin(t, srv, "127.0.3.22", "ben@nhs.test", "pw-ben@nhs.test"); code != "" {
		t.Errorf("familiar account from the spraying network: %q, want success", code)
	}
	// Another network is not affected, and nobody was locked.
	if code := imapLogin(t, srv, "127.0.4.1", "chloe@nhs.test", "pw-chloe@nhs.test"); code != "" {
		t.Errorf("another network: %q, want success", code)
	}
	for _, p := range people {
		if ls := locks(srv, p); len(ls) != 0 {
			t.Errorf("%s locked by a spray of one guess: %+v", p, ls)
		}
	}
}

// webSignInFrom signs in over the HTTP door from a local address and
// returns the status and problem.
func webSignInFrom(t *testing.T, srv *server.Server, from, email, password string) (int, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: clientTLS, DialContext: d.DialContext}, Timeout: 10 * time.Second}
	resp, err := hc.Post("https://"+srv.Addrs["http"]+"/api/v1/session", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var prob map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&prob)
	return resp.StatusCode, prob
}

// A device's stale saved password is recognised after a restart too: its
// fingerprint is saved with the counter, keyed with DATA/signin.key.
func TestStalePasswordCountsOnceAcrossRestarts(t *testing.T) {
	const amira = "amira@nhs.test"
	dir, db := t.TempDir(), storetest.Database(t)
	start := func() *server.Server {
		cfg := server.Defaults()
		cfg.DataDir, cfg.Database, cfg.Hostname = dir, db, "mx.nhs.test"
		cfg.SMTPAddr, cfg.SubmissionAddr, cfg.IMAPAddr, cfg.HTTPAddr = "", "127.0.0.1:0", "127.0.0.1:0", ""
		srv, err := server.Start(context.Background(), cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		return srv
	}
	failures := func(srv *server.Server) int {
		rows, err := srv.Store.LockoutState(context.Background(), time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.Account == amira && r.Source == "127.0.5.0/24" {
				return r.Failures
			}
		}
		return 0
	}
	srv := start()
	seedPeople(t, srv, amira)
	for range 3 {
		if code := imapLogin(t, srv, "127.0.5.1", amira, "last-years-password"); code != imap.ResponseCodeAuthenticationFailed {
			t.Fatalf("stale password: %q", code)
		}
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	// Each start reads what the last one saved when it stopped.
	for restart := range 4 {
		srv = start()
		if n := failures(srv); n != 1 {
			t.Errorf("after restart %d: %d failures counted for one stale password, want 1", restart, n)
		}
		for range 4 {
			if code := smtpLogin(t, srv, "127.0.5.2", amira, "last-years-password"); code != 535 {
				t.Fatalf("stale password after restart %d: %d", restart, code)
			}
		}
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
