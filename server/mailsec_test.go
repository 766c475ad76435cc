package server_test

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"wardmail/server"
	"wardmail/tlsrpt"
)

// The HTTPS door serves each local domain's MTA-STS policy on its
// mta-sts host, and nothing on other hosts.
func TestMTASTSPolicyServedByHost(t *testing.T) {
	e := startListServer(t, []who{{"n1@nhs.test", leeds, "Nurse", "LGI"}}, func(c *server.Config) {
		c.MTASTSMode, c.MTASTSMaxAge = "enforce", 48*time.Hour
	})
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	get := func(host string) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", "https://"+e.srv.Addrs["http"]+"/.well-known/mta-sts.txt", nil)
		req.Host = host
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	code, ctype, body := get("mta-sts.nhs.test")
	if code != 200 || !strings.HasPrefix(ctype, "text/plain") {
		t.Fatalf("policy: %d %s\n%s", code, ctype, body)
	}
	for _, want := range []string{"version: STSv1", "mode: enforce", "mx: mx.nhs.test", "max_age: 172800"} {
		if !strings.Contains(body, want) {
			t.Errorf("policy lacks %q:\n%s", want, body)
		}
	}
	for _, host := range []string{"mta-sts.elsewhere.test", e.srv.Addrs["http"], "nhs.test"} {
		if code, _, _ := get(host); code != http.StatusNotFound {
			t.Errorf("host %s: %d, want 404", host, code)
		}
	}
}

// DKIM keys are made for the configured local domains at start, and for a
// directory domain on its first message.
func TestDKIMKeysForLocalDomains(t *testing.T) {
	e := startListServer(t, []who{{"n1@nhs.test", leeds, "Nurse", "LGI"}}, func(c *server.Config) {
		c.LocalDomains = []string{"trust.test"}
	})
	dir := e.srv.Mail.Keys.Dir()
	if _, err := os.Stat(filepath.Join(dir, "trust.test", "keys.json")); err != nil {
		t.Fatalf("no keys made at start for a configured local domain: %v", err)
	}
	msg := []byte("From: n1@nhs.test\r\nTo: gp@gp.test\r\nSubject: hi\r\n\r\nhello\r\n")
	sig, err := e.srv.Mail.Signer.Sign(e.ctx, "nhs.test", msg)
	if err != nil || strings.Count(string(sig), "DKIM-Signature:") != 2 {
		t.Fatalf("first message of a directory domain: %q, %v", sig, err)
	}
	if sig, err := e.srv.Mail.Signer.Sign(e.ctx, "gp.test", msg); err != nil || sig != nil {
		t.Fatalf("a domain that is not ours was signed: %q, %v", sig, err)
	}
}

// Administrators read the TLS reports others sent about our domains; staff
// may not.
func TestTLSReportsForAdministrators(t *testing.T) {
	e, call := consoleEnv(t)
	rep := tlsrpt.Build("Other Mail Ltd", "ops@other.test", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), []tlsrpt.Result{
		{PolicyDomain: "nhs.test", PolicyType: "sts", MXHost: "mx.nhs.test", Success: true, Count: 40},
		{PolicyDomain: "nhs.test", PolicyType: "sts", MXHost: "mx.nhs.test", FailureType: "certificate-expired", Count: 3},
	})
	msg, err := tlsrpt.Message(rep, "tlsrpt@other.test", "reports@nhs.test", "other.test", "nhs.test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tlsrpt.Receive(context.Background(), e.st, func(d string) bool { return d == "nhs.test" }, msg); err != nil {
		t.Fatal(err)
	}
	var list struct{ Reports []tlsrpt.Received }
	if code := call("loc@nhs.test", "GET", "/api/v1/admin/tls-reports", nil, &list); code != 200 {
		t.Fatalf("list: %d", code)
	}
	if len(list.Reports) != 1 || list.Reports[0].Organization != "Other Mail Ltd" || list.Reports[0].Failures != 3 || list.Reports[0].Successes != 40 {
		t.Fatalf("reports %+v", list.Reports)
	}
	var one struct {
		JSON tlsrpt.Report `json:"json"`
	}
	if code := call("nat1@nhs.test", "GET", "/api/v1/admin/tls-reports/"+strconv.FormatInt(list.Reports[0].ID, 10), nil, &one); code != 200 ||
		one.JSON.Policies[0].FailureDetails[0].ResultType != "certificate-expired" {
		t.Fatalf("report: %d %+v", code, one.JSON)
	}
	if code := call("n1@nhs.test", "GET", "/api/v1/admin/tls-reports", nil, nil); code != http.StatusForbidden {
		t.Fatalf("a nurse read the TLS reports: %d", code)
	}
	var missing struct{ Detail string }
	if code := call("nat1@nhs.test", "GET", "/api/v1/admin/tls-reports/999999", nil, &missing); code != http.StatusNotFound ||
		missing.Detail != "There is no TLS report 999999." {
		t.Fatalf("a report that does not exist: %d %+v", code, missing)
	}
}
