package scan_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"wardmail/scan"
	"wardmail/scan/scantest"
)

var outside = scan.Envelope{From: "sender@outside.example", Rcpts: []string{"amira.khan@nhs.test"}, IP: "192.0.2.10",
	Helo: "mail.outside.example", QueueID: "T1"}

// TestClamdInstream scans through a real clamd: EICAR as an attachment and
// inline is found and named, a clean message is not, and a message longer
// than clamd's StreamMaxLength is not taken for clean.
func TestClamdInstream(t *testing.T) {
	d := scantest.Clamd(t, "64K")
	c := &scan.Clamd{Addr: d.Addr, Timeout: 10 * time.Second, Chunk: 1000}
	ctx := context.Background()
	for name, msg := range map[string][]byte{
		"attachment": withAttachment("eicar.com.txt", "application/octet-stream", []byte(scantest.EICAR)),
		"inline":     plain("test", scantest.EICAR),
	} {
		sig, err := c.Scan(ctx, msg)
		if err != nil || !strings.HasPrefix(sig, "Wardmail.Test.EICAR") {
			t.Errorf("%s: clamd said %q, %v; want the EICAR signature", name, sig, err)
		}
	}
	if sig, err := c.Scan(ctx, plain("hello", "A clean message about the rota.")); err != nil || sig != "" {
		t.Errorf("clean message: %q, %v", sig, err)
	}
	big := plain("big", strings.Repeat("0123456789abcdef", 8<<10)) // 128 KiB > 64K
	if sig, err := c.Scan(ctx, big); err == nil {
		t.Errorf("a message over StreamMaxLength was answered %q without an error", sig)
	}
	if err := c.Ping(ctx); err != nil {
		t.Errorf("PING: %v", err)
	}
}

// TestRspamdCheck scores through a real Rspamd with its stock rules.
func TestRspamdCheck(t *testing.T) {
	d := scantest.Rspamd(t)
	r := &scan.Rspamd{URL: d.Addr, Timeout: 10 * time.Second}
	res, err := r.Check(context.Background(), outside, plain("Your prize", scantest.GTUBE))
	if err != nil {
		t.Fatal(err)
	}
	if res.Score < 15 || res.Action != "reject" {
		t.Errorf("GTUBE scored %.1f (%s), want at least 15 (reject)", res.Score, res.Action)
	}
	res, err = r.Check(context.Background(), outside, plain("Rota for December", "Hello, the rota for December is attached to the ward noticeboard.\r\nThanks"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Score >= scan.DefaultJunkScore {
		t.Errorf("an ordinary message scored %.1f (%v)", res.Score, res.TopSymbols(10))
	}
}

// TestVerdicts runs the Scanner's rules over both real engines, and stops
// each engine to see the fallback it is configured with.
func TestVerdicts(t *testing.T) {
	clam := scantest.Clamd(t, "")
	rsp := scantest.Rspamd(t)
	ctx := context.Background()
	newScanner := func(cfg scan.Config) *scan.Scanner {
		cfg.Clamd = &scan.Clamd{Addr: clam.Addr, Timeout: 5 * time.Second}
		cfg.Rspamd = &scan.Rspamd{URL: rsp.Addr, Timeout: 5 * time.Second}
		return scan.New(cfg)
	}
	s := newScanner(scan.Config{})
	check := func(name string, s *scan.Scanner, msg []byte, want scan.Action, wantKind, inReason string) scan.Verdict {
		t.Helper()
		v := s.Scan(ctx, outside, msg, true)
		if v.Action != want || v.Kind != wantKind || !strings.Contains(v.Reason, inReason) {
			t.Errorf("%s: %v/%s %q, want %v/%s containing %q", name, v.Action, v.Kind, v.Reason, want, wantKind, inReason)
		}
		return v
	}
	v := check("clean", s, plain("Rota", "The rota is on the noticeboard."), scan.Deliver, "", "")
	if !strings.Contains(v.Header, "no malware found") || !strings.Contains(v.Header, "spam score") {
		t.Errorf("clean message header %q", v.Header)
	}
	check("eicar", s, withAttachment("eicar.com.txt", "application/octet-stream", []byte(scantest.EICAR)), scan.Reject, "malware", "Wardmail.Test.EICAR")
	check("exe", s, withAttachment("invoice.exe", "application/octet-stream", []byte("x")), scan.Reject, "blocked", `"invoice.exe"`)
	check("gtube", s, plain("Prize", scantest.GTUBE), scan.Quarantine, "spam", "spam")
	q := newScanner(scan.Config{Malware: scan.Quarantine, QuarantineScore: 100})
	check("eicar to quarantine", q, plain("x", scantest.EICAR), scan.Quarantine, "malware", "Wardmail.Test.EICAR")
	check("gtube to junk", q, plain("Prize", scantest.GTUBE), scan.Junk, "spam", "spam")

	accept := newScanner(scan.Config{ClamdDown: scan.FallbackAccept, RspamdDown: scan.FallbackTempFail})
	clam.Stop()
	check("clamd down", s, plain("Rota", "text"), scan.TempFail, "unscanned", "malware")
	v = check("clamd down, accept", accept, plain("Rota", "text"), scan.Deliver, "", "")
	if !strings.Contains(v.Header, "not scanned for malware") {
		t.Errorf("accepted unscanned without saying so: %q", v.Header)
	}
	for _, h := range s.Health(ctx) {
		if h.Engine == "clamd" && (h.Up || h.Error == "") {
			t.Errorf("health says clamd is up after it stopped: %+v", h)
		}
		if h.Engine == "rspamd" && !h.Up {
			t.Errorf("health says rspamd is down: %+v", h)
		}
	}
	rsp.Stop()
	check("rspamd down, default accept", s, plain("Rota", "text"), scan.TempFail, "unscanned", "malware") // clamd still decides first
	s2 := scan.New(scan.Config{Rspamd: &scan.Rspamd{URL: rsp.Addr, Timeout: time.Second}})
	v = check("rspamd down, accept", s2, plain("Rota", "text"), scan.Deliver, "", "")
	if !strings.Contains(v.Header, "not scanned for spam") {
		t.Errorf("accepted unscanned without saying so: %q", v.Header)
	}
	check("rspamd down, tempfail", accept, plain("Rota", "text"), scan.TempFail, "unscanned", "spam")
}
