package server_test

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Someone who types http:// with the HTTPS door's address is sent to
// https://, and the door still speaks HTTPS to everyone else; a client that
// connects and says nothing holds up no one.
func TestPlainHTTPOnTheHTTPSPortRedirects(t *testing.T) {
	srv := startTestServer(t, "amira@nhs.test")
	addr := srv.Addrs["http"]

	silent, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()

	plain := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := plain.Get("http://" + addr + "/inbox?x=1")
	if err != nil {
		t.Fatalf("plain HTTP to the HTTPS port: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "https://"+addr+"/inbox?x=1" {
		t.Errorf("plain HTTP answered %d, Location %q, %q", resp.StatusCode, resp.Header.Get("Location"), body)
	}

	secure := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err = secure.Get("https://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("HTTPS after a plain request: %v", err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "ok") {
		t.Errorf("HTTPS /healthz: %d %q", resp.StatusCode, body)
	}
}
