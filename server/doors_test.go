package server_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"wardmail/server"
	"wardmail/store/storetest"
)

func TestHealthAndMetrics(t *testing.T) {
	srv := startTestServer(t, "amira@nhs.test")
	base := "https://" + srv.Addrs["http"]
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}

	resp, err := client.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var health map[string]string
	err = json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || health["status"] != "ok" {
		t.Fatalf("/healthz: %d %v %v", resp.StatusCode, health, err)
	}

	resp, err = client.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"wardmail_store_commits_total", "wardmail_auth_password_verifications_total", "go_goroutines"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	resp, err = client.Post(base+"/healthz", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz: %d, want 405", resp.StatusCode)
	}

	// The HTTP door is HTTPS: a plain-HTTP request gets no page.
	resp, err = http.Get("http://" + srv.Addrs["http"] + "/healthz")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("plain HTTP on the HTTP door answered 200")
		}
	}
}

// The implicit-TLS doors (RFC 8314) work with real clients.
func TestImplicitTLSDoors(t *testing.T) {
	cfg := server.Defaults()
	cfg.DataDir = t.TempDir()
	cfg.Database = storetest.Database(t) // empty: SQLite in DataDir
	cfg.Hostname = "mx.nhs.test"
	cfg.SMTPAddr, cfg.SubmissionAddr, cfg.IMAPAddr, cfg.HTTPAddr = "", "", "", ""
	cfg.SubmissionsAddr, cfg.IMAPSAddr = "127.0.0.1:0", "127.0.0.1:0"
	srv, err := server.Start(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	seedPeople(t, srv, "amira@nhs.test")
	tlsc := &tls.Config{InsecureSkipVerify: true}

	c, err := smtp.DialTLS(srv.Addrs["submissions"], tlsc)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(sasl.NewPlainClient("", "amira@nhs.test", "pw-amira@nhs.test")); err != nil {
		t.Fatalf("AUTH on the implicit-TLS submission door: %v", err)
	}
	if err := c.SendMail("amira@nhs.test", []string{"amira@nhs.test"}, strings.NewReader("From: amira@nhs.test\r\nSubject: note to self\r\n\r\nx\r\n")); err != nil {
		t.Fatal(err)
	}

	ic, err := imapclient.DialTLS(srv.Addrs["imaps"], &imapclient.Options{TLSConfig: tlsc})
	if err != nil {
		t.Fatal(err)
	}
	defer ic.Close()
	if err := ic.Login("amira@nhs.test", "pw-amira@nhs.test").Wait(); err != nil {
		t.Fatal(err)
	}
	sel, err := ic.Select("INBOX", nil).Wait()
	if err != nil || sel.NumMessages != 1 {
		t.Fatalf("SELECT over IMAPS: %v, %v messages", err, sel)
	}
}
