package server_test

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-smtp"

	"wardmail/message"
	"wardmail/scan"
	"wardmail/scan/scantest"
	"wardmail/server"
	"wardmail/store"
)

// Scanning on the inbound door, with the real engines: clamd with the test
// signatures and Rspamd with its stock rules, started by the test.

type scanEnv struct {
	*listEnv
	api func(as, method, path string, body, out any) int
}

// startScanServer starts a server whose scanner talks to the given
// engines; tweak sets the rest of the scanning configuration. People:
// amira and ben at Leeds, dev at Barts; loc administers Leeds, nat1 is
// national.
func startScanServer(t *testing.T, clamd, rspamd *scantest.Daemon, tweak func(*server.ScanConfig)) *scanEnv {
	t.Helper()
	people := []who{{"amira@nhs.test", leeds, "Nurse", "LGI"}, {"ben@nhs.test", leeds, "Doctor", "LGI"},
		{"dev@nhs.test", barts, "Nurse", "RLH"}, {"loc@nhs.test", leeds, "IT", "LGI"},
		{"bartsadmin@nhs.test", barts, "IT", "RLH"}, {"nat1@nhs.test", barts, "IT", "RLH"}}
	e := startListServer(t, people, func(c *server.Config) {
		if clamd != nil {
			c.Scan.ClamdAddr, c.Scan.ClamdTimeout = clamd.Addr, 10*time.Second
		}
		if rspamd != nil {
			c.Scan.RspamdURL, c.Scan.RspamdTimeout = rspamd.Addr, 10*time.Second
		}
		if tweak != nil {
			tweak(&c.Scan)
		}
	})
	if err := e.st.GrantAdmin(e.ctx, "test", e.id("nat1@nhs.test"), store.RoleNational, 0); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"loc@nhs.test", "bartsadmin@nhs.test"} {
		p, _ := e.st.PersonByEmail(e.ctx, a)
		if err := e.st.GrantAdmin(e.ctx, "test", p.ID, store.RoleLocal, p.OrgID); err != nil {
			t.Fatal(err)
		}
	}
	clients := map[string]*apiClient{}
	return &scanEnv{listEnv: e, api: func(as, method, path string, body, out any) int {
		t.Helper()
		if clients[as] == nil {
			clients[as] = newAPIClient(t, e.srv, as)
		}
		return clients[as].call(method, path, body, out)
	}}
}

// inbound sends a message from outside on the SMTP door and returns the
// server's reply to the end of DATA (nil for 250).
func (e *scanEnv) inbound(rcpts []string, msg string) *smtp.SMTPError {
	e.t.Helper()
	c, err := smtp.Dial(e.srv.Addrs["smtp"])
	if err != nil {
		e.t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("mail.outside.example"); err != nil {
		e.t.Fatal(err)
	}
	if err := c.Mail("sender@outside.example", nil); err != nil {
		e.t.Fatal(err)
	}
	for _, r := range rcpts {
		if err := c.Rcpt(r, nil); err != nil {
			e.t.Fatalf("RCPT %s: %v", r, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := io.WriteString(w, msg); err != nil {
		e.t.Fatal(err)
	}
	err = w.Close()
	if err == nil {
		return nil
	}
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		e.t.Fatalf("DATA: %v", err)
	}
	return se
}

func outsideMessage(subject, body string) string {
	return "From: Sender <sender@outside.example>\r\nTo: amira@nhs.test\r\nSubject: " + subject + "\r\nDate: " +
		time.Now().Format(time.RFC1123Z) + "\r\nMessage-ID: <" + fmt.Sprint(time.Now().UnixNano()) + "@outside.example>\r\n\r\n" + body + "\r\n"
}

func attachmentMessage(subject, name string, data []byte) string {
	enc := base64.StdEncoding.EncodeToString(data)
	var lines []string
	for len(enc) > 76 {
		lines, enc = append(lines, enc[:76]), enc[76:]
	}
	lines = append(lines, enc)
	return "From: Sender <sender@outside.example>\r\nTo: amira@nhs.test\r\nSubject: " + subject + "\r\nDate: " +
		time.Now().Format(time.RFC1123Z) + "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n--b1\r\nContent-Type: application/octet-stream; name=\"" + name +
		"\"\r\nContent-Disposition: attachment; filename=\"" + name + "\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		strings.Join(lines, "\r\n") + "\r\n--b1--\r\n"
}

func wantRefusal(t *testing.T, what string, got *smtp.SMTPError, code int, enhanced smtp.EnhancedCode, inText ...string) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: accepted, want %d %v", what, code, enhanced)
		return
	}
	if got.Code != code || got.EnhancedCode != enhanced {
		t.Errorf("%s: %d %v %q, want %d %v", what, got.Code, got.EnhancedCode, got.Message, code, enhanced)
	}
	for _, s := range inText {
		if !strings.Contains(got.Message, s) {
			t.Errorf("%s: %q does not say %q", what, got.Message, s)
		}
	}
}

// TestScanRefusesMalwareAndBlockedTypes: EICAR, a program and a
// macro-enabled Word file from outside are refused at DATA with a sentence
// naming what was found; a clean message arrives with the scanner's header,
// and a forged one of ours is gone.
func TestScanRefusesMalwareAndBlockedTypes(t *testing.T) {
	clam := scantest.Clamd(t, "")
	e := startScanServer(t, clam, nil, nil)
	wantRefusal(t, "EICAR", e.inbound([]string{"amira@nhs.test"}, attachmentMessage("Results", "results.txt", []byte(scantest.EICAR))),
		550, smtp.EnhancedCode{5, 7, 1}, "malware", "Wardmail.Test.EICAR")
	wantRefusal(t, ".exe", e.inbound([]string{"amira@nhs.test"}, attachmentMessage("Invoice", "invoice.exe", []byte("anything"))),
		550, smtp.EnhancedCode{5, 7, 1}, `"invoice.exe"`, "program")
	var docm bytes.Buffer
	zw := zip.NewWriter(&docm)
	f, _ := zw.Create("word/vbaProject.bin")
	_, _ = f.Write([]byte("macro"))
	_ = zw.Close()
	wantRefusal(t, ".docm", e.inbound([]string{"amira@nhs.test"}, attachmentMessage("Rota", "rota.docm", docm.Bytes())),
		550, smtp.EnhancedCode{5, 7, 1}, `"rota.docm"`, "macros")
	wantRefusal(t, "macros in a .docx", e.inbound([]string{"amira@nhs.test"}, attachmentMessage("Rota", "rota.docx", docm.Bytes())),
		550, smtp.EnhancedCode{5, 7, 1}, `"rota.docx"`, "macros")

	if err := e.inbound([]string{"amira@nhs.test"}, "X-Wardmail-Scan: no malware found (forged)\r\n"+outsideMessage("Clean", "The rota is on the board.")); err != nil {
		t.Fatalf("clean message: %v", err)
	}
	if got := e.folderSubjects("amira@nhs.test", "INBOX"); len(got) != 1 || got[0] != "Clean" {
		t.Fatalf("INBOX: %q, want only the clean message", got)
	}
	raw := e.fetchRaw("amira@nhs.test", "INBOX")
	if n := strings.Count(raw, "X-Wardmail-Scan:"); n != 1 || strings.Contains(raw, "(forged)") || !strings.Contains(raw, "X-Wardmail-Scan: no malware found") {
		t.Errorf("the delivered message has %d X-Wardmail-Scan fields:\n%s", n, raw)
	}
}

// TestScanSpamToJunk: a message Rspamd scores above the Junk threshold
// arrives in the recipient's Junk folder, seen over IMAP and in the
// webmail; the INBOX stays clean.
func TestScanSpamToJunk(t *testing.T) {
	rsp := scantest.Rspamd(t)
	e := startScanServer(t, nil, rsp, func(c *server.ScanConfig) { c.QuarantineScore = 100 })
	if err := e.inbound([]string{"amira@nhs.test"}, outsideMessage("You have won", scantest.GTUBE)); err != nil {
		t.Fatalf("spam: %v", err)
	}
	if err := e.inbound([]string{"amira@nhs.test"}, outsideMessage("Rota for December", "Hello, the rota for December is on the ward noticeboard.")); err != nil {
		t.Fatalf("ham: %v", err)
	}
	if got := e.folderSubjects("amira@nhs.test", "Junk"); len(got) != 1 || got[0] != "You have won" {
		t.Errorf("Junk over IMAP: %q", got)
	}
	if got := e.folderSubjects("amira@nhs.test", "INBOX"); len(got) != 1 || got[0] != "Rota for December" {
		t.Errorf("INBOX over IMAP: %q", got)
	}
	var folders struct {
		Folders []struct {
			ID     int64  `json:"id"`
			Name   string `json:"name"`
			Role   string `json:"role"`
			Unread int64  `json:"unread"`
		} `json:"folders"`
	}
	if code := e.api("amira@nhs.test", "GET", "/api/v1/folders", nil, &folders); code != 200 {
		t.Fatalf("folders: %d", code)
	}
	var junk int64
	for _, f := range folders.Folders {
		if f.Role == "junk" && f.Unread == 1 {
			junk = f.ID
		}
	}
	if junk == 0 {
		t.Fatalf("the webmail shows no Junk folder with one unread message: %+v", folders)
	}
	var list struct {
		Messages []struct {
			Subject string `json:"subject"`
		} `json:"messages"`
	}
	if code := e.api("amira@nhs.test", "GET", fmt.Sprintf("/api/v1/folders/%d/messages", junk), nil, &list); code != 200 || len(list.Messages) != 1 || list.Messages[0].Subject != "You have won" {
		t.Errorf("Junk in the webmail: %d %+v", code, list)
	}
}

type quarantineOut struct {
	ID         int64  `json:"id"`
	Sender     string `json:"sender"`
	Subject    string `json:"subject"`
	Verdict    string `json:"verdict"`
	Reason     string `json:"reason"`
	Recipients []struct {
		Address string `json:"address"`
		State   string `json:"state"`
	} `json:"recipients"`
}

// TestQuarantineRelease: malware and spam kept in the quarantine are seen
// by the administrators of the recipients' organisations (only their
// recipients), released to the INBOX or deleted, each decision audited;
// malware is released by a national administrator only.
func TestQuarantineRelease(t *testing.T) {
	clam := scantest.Clamd(t, "")
	rsp := scantest.Rspamd(t)
	e := startScanServer(t, clam, rsp, func(c *server.ScanConfig) { c.Malware = scan.Quarantine })
	if err := e.inbound([]string{"amira@nhs.test", "dev@nhs.test"}, outsideMessage("Prize draw", scantest.GTUBE)); err != nil {
		t.Fatalf("spam: %v", err)
	}
	if err := e.inbound([]string{"ben@nhs.test"}, attachmentMessage("Lab results", "results.txt", []byte(scantest.EICAR))); err != nil {
		t.Fatalf("malware: %v", err)
	}
	for _, p := range []string{"amira@nhs.test", "dev@nhs.test", "ben@nhs.test"} {
		if got := e.folderSubjects(p, "INBOX"); len(got) != 0 {
			t.Errorf("%s got quarantined mail: %q", p, got)
		}
	}

	list := func(as string) []quarantineOut {
		t.Helper()
		var out struct{ Messages []quarantineOut }
		if code := e.api(as, "GET", "/api/v1/admin/quarantine", nil, &out); code != 200 {
			t.Fatalf("%s: quarantine list: %d", as, code)
		}
		return out.Messages
	}
	local := list("loc@nhs.test")
	if len(local) != 2 {
		t.Fatalf("Leeds administrator sees %d quarantined messages, want 2: %+v", len(local), local)
	}
	var spam, malware quarantineOut
	for _, q := range local {
		switch q.Verdict {
		case "spam":
			spam = q
		case "malware":
			malware = q
		}
	}
	if spam.Subject != "Prize draw" || spam.Sender != "sender@outside.example" || len(spam.Recipients) != 1 || spam.Recipients[0].Address != "amira@nhs.test" {
		t.Errorf("Leeds view of the spam: %+v (want amira only, not Barts' dev)", spam)
	}
	if !strings.Contains(malware.Reason, "Wardmail.Test.EICAR") {
		t.Errorf("malware reason %q", malware.Reason)
	}
	if barts := list("bartsadmin@nhs.test"); len(barts) != 1 || barts[0].Recipients[0].Address != "dev@nhs.test" {
		t.Errorf("Barts administrator sees %+v, want the spam for dev only", barts)
	}
	if code := e.api("amira@nhs.test", "GET", "/api/v1/admin/quarantine", nil, nil); code != http.StatusForbidden {
		t.Errorf("a member of staff reading the quarantine: %d, want 403", code)
	}

	// Leeds releases the spam to amira; dev's copy waits for Barts.
	var dec struct{ Recipients []string }
	if code := e.api("loc@nhs.test", "POST", fmt.Sprintf("/api/v1/admin/quarantine/%d/release", spam.ID), nil, &dec); code != 200 || len(dec.Recipients) != 1 {
		t.Fatalf("release by Leeds: %d %+v", code, dec)
	}
	if got := e.folderSubjects("amira@nhs.test", "INBOX"); len(got) != 1 || got[0] != "Prize draw" {
		t.Errorf("amira's INBOX after release: %q", got)
	}
	if got := e.folderSubjects("dev@nhs.test", "INBOX"); len(got) != 0 {
		t.Errorf("dev's INBOX after Leeds released: %q", got)
	}
	if code := e.api("loc@nhs.test", "POST", fmt.Sprintf("/api/v1/admin/quarantine/%d/release", spam.ID), nil, nil); code != http.StatusConflict {
		t.Errorf("releasing twice: %d, want 409", code)
	}
	if code := e.api("bartsadmin@nhs.test", "DELETE", fmt.Sprintf("/api/v1/admin/quarantine/%d", spam.ID), nil, nil); code != 200 {
		t.Errorf("delete by Barts: %d", code)
	}

	// Malware: not by a local administrator, yes by a national one.
	var prob problemOut
	if code := e.api("loc@nhs.test", "POST", fmt.Sprintf("/api/v1/admin/quarantine/%d/release", malware.ID), nil, &prob); code != http.StatusForbidden || !strings.Contains(prob.Detail, "national") {
		t.Errorf("local release of malware: %d %+v", code, prob)
	}
	if code := e.api("bartsadmin@nhs.test", "POST", fmt.Sprintf("/api/v1/admin/quarantine/%d/release", malware.ID), nil, nil); code != http.StatusNotFound {
		t.Errorf("Barts releasing Leeds' message: %d, want 404", code)
	}
	if code := e.api("nat1@nhs.test", "POST", fmt.Sprintf("/api/v1/admin/quarantine/%d/release", malware.ID), nil, nil); code != 200 {
		t.Errorf("national release of malware: %d", code)
	}
	if got := e.folderSubjects("ben@nhs.test", "INBOX"); len(got) != 1 || got[0] != "Lab results" {
		t.Errorf("ben's INBOX after release: %q", got)
	}
	if held := list("nat1@nhs.test"); len(held) != 0 {
		t.Errorf("still held after every decision: %+v", held)
	}

	entries, err := e.st.AuditLog(e.ctx, store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, a := range entries {
		if strings.HasPrefix(a.Action, "quarantine.") {
			seen[a.Actor+" "+a.Action]++
		}
	}
	for _, want := range []string{"loc@nhs.test quarantine.release", "bartsadmin@nhs.test quarantine.delete", "nat1@nhs.test quarantine.release"} {
		if seen[want] != 1 {
			t.Errorf("audit: %q %d times (%v)", want, seen[want], seen)
		}
	}
}

// TestScannerStoppedMidTest: with clamd stopped, mail waits (451 4.7.0) by
// default, or is accepted with a header saying it was not scanned when so
// configured; either way the metric counts it and /healthz says which
// engine is down.
func TestScannerStoppedMidTest(t *testing.T) {
	for _, fallback := range []scan.Fallback{scan.FallbackDefault, scan.FallbackAccept} {
		t.Run(fallback.String(), func(t *testing.T) {
			clam := scantest.Clamd(t, "")
			e := startScanServer(t, clam, nil, func(c *server.ScanConfig) { c.ClamdDown = fallback })
			if err := e.inbound([]string{"amira@nhs.test"}, outsideMessage("Before", "clamd is up")); err != nil {
				t.Fatalf("with clamd up: %v", err)
			}
			health := e.health()
			if health.Status != "ok" || len(health.Scanners) != 1 || !health.Scanners[0].Up {
				t.Errorf("/healthz with clamd up: %+v", health)
			}
			clam.Stop()
			err := e.inbound([]string{"amira@nhs.test"}, outsideMessage("After", "clamd is down"))
			if fallback == scan.FallbackDefault {
				wantRefusal(t, "clamd down", err, 451, smtp.EnhancedCode{4, 7, 0}, "malware")
				if got := e.folderSubjects("amira@nhs.test", "INBOX"); len(got) != 1 {
					t.Errorf("INBOX: %q, want only the first", got)
				}
			} else {
				if err != nil {
					t.Fatalf("clamd down, accept: %v", err)
				}
				raw := e.fetchRaw("amira@nhs.test", "INBOX")
				if !strings.Contains(raw, "X-Wardmail-Scan: not scanned for malware") {
					t.Errorf("accepted without saying it was not scanned:\n%s", raw)
				}
			}
			label := `wardmail_scan_unavailable_total{engine="clamd",fallback="tempfail"} 1`
			if fallback == scan.FallbackAccept {
				label = `wardmail_scan_unavailable_total{engine="clamd",fallback="accept"} 1`
			}
			if m := e.metrics(); !strings.Contains(m, label) {
				t.Errorf("metrics lack %s", label)
			}
			health = e.health()
			if health.Status != "degraded" || len(health.Scanners) != 1 || health.Scanners[0].Up || health.Scanners[0].Engine != "clamd" {
				t.Errorf("/healthz with clamd down: %+v", health)
			}
		})
	}
}

type healthOut struct {
	Status   string `json:"status"`
	Scanners []struct {
		Engine string `json:"engine"`
		Up     bool   `json:"up"`
		Error  string `json:"error"`
	} `json:"scanners"`
}

func (e *scanEnv) health() healthOut {
	e.t.Helper()
	var h healthOut
	resp, err := insecureHTTP.Get("https://" + e.srv.Addrs["http"] + "/healthz")
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := jsonDecode(resp.Body, &h); err != nil || resp.StatusCode != 200 {
		e.t.Fatalf("/healthz: %d %v", resp.StatusCode, err)
	}
	return h
}

func (e *scanEnv) metrics() string {
	e.t.Helper()
	resp, err := insecureHTTP.Get("https://" + e.srv.Addrs["http"] + "/metrics")
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

var insecureHTTP = &http.Client{Transport: &http.Transport{TLSClientConfig: clientTLS}}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(io.LimitReader(r, 1<<20)).Decode(v) }

// fetchRaw is the last message of a folder as IMAP serves it (BODY.PEEK[]).
func (e *scanEnv) fetchRaw(email, folder string) string {
	e.t.Helper()
	c := e.imap(email, nil)
	defer c.Logout()
	sel, err := c.Select(folder, nil).Wait()
	if err != nil {
		e.t.Fatal(err)
	}
	if sel.NumMessages == 0 {
		e.t.Fatalf("%s of %s is empty", folder, email)
	}
	whole := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(imap.SeqSetNum(sel.NumMessages), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{whole}}).Collect()
	if err != nil || len(msgs) != 1 {
		e.t.Fatalf("FETCH: %v", err)
	}
	return string(msgs[0].FindBodySection(whole))
}

// quarantine puts a message from outside to one person straight into the
// quarantine, as the scanner's verdict would, and returns its id.
func (e *listEnv) quarantine(to, subject string) int64 {
	e.t.Helper()
	body := []byte("From: someone@outside.example\r\nTo: " + to + "\r\nSubject: " + subject + "\r\n\r\nWin a prize.\r\n")
	sum, err := message.Summarize(body)
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := e.st.PrepareContent(e.ctx, body, sum.Marshal())
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.st.Submit(e.ctx, &store.Submission{QueueID: subject, MessageID: "<" + subject + ">", ThreadID: subject, Subject: subject,
		Sender: "someone@outside.example", Content: c, People: []int64{e.id(to)}, Date: time.Now(),
		Quarantine: &store.QuarantineHold{Kind: "spam", Reason: "The message looks like spam (score 20.0)"}}); err != nil {
		e.t.Fatal(err)
	}
	q, err := e.st.Quarantine(e.ctx, store.QuarantineScope{All: true}, true, 1)
	if err != nil || len(q) != 1 {
		e.t.Fatalf("quarantine: %v %v", q, err)
	}
	return q[0].ID
}

// TestQuarantineKeepsModeration: spam from outside to a moderated list is
// quarantined before its moderators see it; released, it waits in the
// list's moderation queue rather than going to the members.
func TestQuarantineKeepsModeration(t *testing.T) {
	rsp := scantest.Rspamd(t)
	e := startScanServer(t, nil, rsp, nil)
	l := e.staticList("ward-9@nhs.test", "ben@nhs.test", "amira@nhs.test")
	if err := e.st.SetPostPolicy(e.ctx, "test", l.ID, "moderated", nil, 0); err != nil {
		t.Fatal(err)
	}
	if err := e.inbound([]string{l.Address}, outsideMessage("Cheap pills", scantest.GTUBE)); err != nil {
		t.Fatalf("spam to the list: %v", err)
	}
	if held, err := e.st.HeldPosts(e.ctx, l.ID); err != nil || len(held) != 0 {
		t.Fatalf("the moderators see quarantined spam: %+v %v", held, err)
	}
	var out struct{ Messages []quarantineOut }
	if code := e.api("nat1@nhs.test", "GET", "/api/v1/admin/quarantine", nil, &out); code != 200 || len(out.Messages) != 1 ||
		len(out.Messages[0].Recipients) != 1 || out.Messages[0].Recipients[0].Address != l.Address {
		t.Fatalf("quarantine: %d %+v", code, out)
	}
	if code := e.api("nat1@nhs.test", "POST", fmt.Sprintf("/api/v1/admin/quarantine/%d/release", out.Messages[0].ID), nil, nil); code != 200 {
		t.Fatalf("release: %d", code)
	}
	held, err := e.st.HeldPosts(e.ctx, l.ID)
	if err != nil || len(held) != 1 || held[0].Subject != "Cheap pills" {
		t.Fatalf("after release the moderation queue holds %+v %v, want the post", held, err)
	}
	if got := e.folderSubjects("amira@nhs.test", "INBOX"); len(got) != 0 {
		t.Errorf("a member got the post before the moderators decided: %q", got)
	}
}
