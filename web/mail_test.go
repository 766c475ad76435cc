package web_test

import (
	"io"
	"net/url"
	"strings"
	"testing"
	"time"
)

const htmlMail = `From: Amira Tester <amira@nhs.test>
To: ben@nhs.test
Subject: Ward round notes
Message-ID: <round-1@nhs.test>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=b1

--b1
Content-Type: multipart/alternative; boundary=b2

--b2
Content-Type: text/plain; charset=utf-8

Bed 12 needs a review.
--b2
Content-Type: text/html; charset=utf-8

<p onclick="steal()">Bed 12 needs a <b>review</b>.<script>alert(1)</script>
<img src="https://tracker.example/pixel.gif"><a href="javascript:alert(1)">x</a><a href="https://nhs.uk/">nhs</a></p>
--b2--
--b1
Content-Type: application/pdf; name="../../etc/obs \"chart\".pdf"
Content-Disposition: attachment; filename="../../etc/obs \"chart\".pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--b1--
`

func TestReadListFlagsMoveUndo(t *testing.T) {
	ts := startWeb(t, "amira@nhs.test", "ben@nhs.test")
	ts.deliver("amira@nhs.test", []string{"ben@nhs.test"}, htmlMail)
	ts.deliver("amira@nhs.test", []string{"ben@nhs.test"}, "From: amira@nhs.test\nTo: ben@nhs.test\nSubject: Re: Ward round notes\nIn-Reply-To: <round-1@nhs.test>\nReferences: <round-1@nhs.test>\n\nDone.\n")
	b := ts.signIn("ben@nhs.test")

	f := b.folders()
	inbox := f["INBOX"]
	if inbox.Total != 2 || inbox.Unread != 2 || inbox.Role != "inbox" || f["Trash"].Role != "trash" {
		t.Fatalf("folders: %+v", f)
	}
	items, total := b.list(inbox.ID, "?limit=10")
	if total != 2 || len(items) != 2 || items[0].Subject != "Re: Ward round notes" || !items[1].HasAttachment {
		t.Fatalf("list: %d %+v", total, items)
	}
	if items[0].Thread == "" || items[0].Thread != items[1].Thread {
		t.Errorf("a reply is not in its thread: %q %q", items[0].Thread, items[1].Thread)
	}

	// Read: text, sanitised HTML in a frame with its own CSP, attachments.
	uid := itoa(int64(items[1].UID))
	var v struct {
		Text         string
		HasHTML      bool
		BodyURL      string
		RemoteImages int
		Seen         bool
		Attachments  []struct{ Part, Filename, Type string }
		ReplyAll     struct{ Allowed bool }
	}
	if code := b.do("GET", "/api/v1/folders/"+itoa(inbox.ID)+"/messages/"+uid, nil, &v); code != 200 {
		t.Fatalf("read: %d", code)
	}
	if !strings.Contains(v.Text, "Bed 12 needs a review") || !v.HasHTML || v.RemoteImages != 1 || !v.Seen || !v.ReplyAll.Allowed {
		t.Errorf("read view: %+v", v)
	}
	if len(v.Attachments) != 1 || v.Attachments[0].Filename != "obs chart.pdf" || v.Attachments[0].Type != "application/pdf" {
		t.Errorf("attachments: %+v", v.Attachments)
	}
	resp := b.raw("GET", v.BodyURL, nil)
	frame, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "sandbox") || !strings.Contains(csp, "img-src data:;") || strings.Contains(csp, "script-src") || resp.Header.Get("X-Frame-Options") != "SAMEORIGIN" {
		t.Errorf("frame headers: CSP %q XFO %q", csp, resp.Header.Get("X-Frame-Options"))
	}
	for _, bad := range []string{"<script", "onclick", "javascript:", "tracker.example"} {
		if strings.Contains(string(frame), bad) {
			t.Errorf("frame holds %q:\n%s", bad, frame)
		}
	}
	if !strings.Contains(string(frame), "<b>review</b>") || !strings.Contains(string(frame), `href="https://nhs.uk/"`) {
		t.Errorf("frame lost the safe markup:\n%s", frame)
	}
	resp = b.raw("GET", v.BodyURL+"?images=1", nil)
	frame, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(frame), "tracker.example") || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "https:") {
		t.Errorf("images allowed: frame lacks the remote image or the CSP does not allow it")
	}

	// Attachment download: declared type, attachment disposition, safe name.
	resp = b.raw("GET", "/api/v1/folders/"+itoa(inbox.ID)+"/messages/"+uid+"/parts/"+v.Attachments[0].Part, nil)
	pdf, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(pdf) != "%PDF-1.4\n" || resp.Header.Get("Content-Type") != "application/pdf" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("attachment: %q %q", pdf, resp.Header)
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="obs chart.pdf"; filename*=UTF-8''obs%20chart.pdf` {
		t.Errorf("Content-Disposition %q", cd)
	}

	// Flags.
	if code := b.do("POST", "/api/v1/messages/flags", map[string]any{"folder": inbox.ID, "uids": []uint32{items[0].UID}, "add": []string{"flagged", "seen"}}, nil); code != 204 {
		t.Fatalf("flags: %d", code)
	}
	var p problemOf
	if code := b.do("POST", "/api/v1/messages/flags", map[string]any{"folder": inbox.ID, "uids": []uint32{1}, "add": []string{`\Deleted`}}, &p); code != 400 || p.Field != "add" {
		t.Errorf("bad flag: %d %+v", code, p)
	}
	if f := b.folders(); f["INBOX"].Unread != 0 {
		t.Errorf("unread after reading and flagging: %+v", f["INBOX"])
	}

	// Delete moves to Trash; undo moves back.
	var del struct {
		Folder int64
		UIDs   []uint32
		Undo   struct {
			Folder int64
			UIDs   []uint32
			To     int64
		}
	}
	if code := b.do("POST", "/api/v1/messages/delete", map[string]any{"folder": inbox.ID, "uids": []uint32{items[0].UID}}, &del); code != 200 {
		t.Fatalf("delete: %d", code)
	}
	if f := b.folders(); f["INBOX"].Total != 1 || f["Trash"].Total != 1 || del.Undo.To != inbox.ID {
		t.Fatalf("after delete: %+v %+v", f, del)
	}
	if code := b.do("POST", "/api/v1/messages/move", map[string]any{"folder": del.Undo.Folder, "uids": del.Undo.UIDs, "to": del.Undo.To}, nil); code != 200 {
		t.Fatalf("undo: %d", code)
	}
	if f := b.folders(); f["INBOX"].Total != 2 || f["Trash"].Total != 0 {
		t.Fatalf("after undo: %+v", f)
	}
	// Archive.
	if code := b.do("POST", "/api/v1/messages/archive", map[string]any{"folder": inbox.ID, "uids": []uint32{items[1].UID}}, nil); code != 200 {
		t.Fatalf("archive: %d", code)
	}
	if f := b.folders(); f["Archive"].Total != 1 {
		t.Errorf("after archive: %+v", f)
	}
	// Delete in Trash is for good.
	items, _ = b.list(inbox.ID, "")
	b.do("POST", "/api/v1/messages/delete", map[string]any{"folder": inbox.ID, "uids": []uint32{items[0].UID}}, &del)
	var gone struct{ Deleted int }
	if code := b.do("POST", "/api/v1/messages/delete", map[string]any{"folder": del.Folder, "uids": del.UIDs}, &gone); code != 200 || gone.Deleted != 1 {
		t.Errorf("delete in Trash: %d %+v", code, gone)
	}

	// Another person's folders and messages do not exist for ben.
	a := ts.signIn("amira@nhs.test")
	if code := a.do("GET", "/api/v1/folders/"+itoa(inbox.ID)+"/messages", nil, &p); code != 404 {
		t.Errorf("amira listing ben's INBOX: %d", code)
	}
	if code := a.do("POST", "/api/v1/messages/move", map[string]any{"folder": f["Archive"].ID, "uids": []uint32{1}, "to": a.folders()["INBOX"].ID}, &p); code != 404 {
		t.Errorf("amira moving ben's mail: %d", code)
	}
}

func TestComposeDraftsUploadsSearch(t *testing.T) {
	ts := startWeb(t, "amira@nhs.test", "ben@nhs.test", "chloe@nhs.test")
	a := ts.signIn("amira@nhs.test")

	// Draft, then replace it.
	var d struct {
		Folder int64
		UID    uint32
	}
	if code := a.do("PUT", "/api/v1/drafts", map[string]any{"to": []string{"ben@nhs.test"}, "subject": "Rota", "text": "draft one"}, &d); code != 200 {
		t.Fatalf("draft: %d", code)
	}
	first := d.UID
	a.do("PUT", "/api/v1/drafts", map[string]any{"to": []string{"ben@nhs.test"}, "subject": "Rota", "text": "draft two", "draft": first}, &d)
	if f := a.folders(); f["Drafts"].Total != 1 || d.UID == first {
		t.Fatalf("drafts after replacing: %+v %+v", f["Drafts"], d)
	}

	// Upload an attachment and send with it; the draft goes away.
	var up struct{ ID string }
	resp := a.raw("POST", "/api/v1/uploads?filename="+url.QueryEscape("rota.csv"), []byte("name,shift\nben,night\n"))
	if resp.StatusCode != 201 {
		t.Fatalf("upload: %d", resp.StatusCode)
	}
	readJSONBody(t, resp, &up)
	var sent struct {
		ID         string
		MessageID  string `json:"messageId"`
		SentUID    uint32 `json:"sentUid"`
		Recipients int
	}
	code := a.do("POST", "/api/v1/send", map[string]any{"to": []string{"Ben <ben@nhs.test>"}, "cc": []string{"chloe@nhs.test"}, "bcc": []string{"amira@nhs.test"},
		"subject": "Rota for the week ✓", "text": "See the rota.\nThanks", "attachments": []string{up.ID}, "draft": d.UID}, &sent)
	if code != 200 || sent.Recipients != 3 {
		t.Fatalf("send: %d %+v", code, sent)
	}
	if f := a.folders(); f["Drafts"].Total != 0 || f["Sent"].Total != 1 || f["INBOX"].Total != 1 {
		t.Errorf("after sending: drafts %+v sent %+v inbox %+v", f["Drafts"], f["Sent"], f["INBOX"])
	}
	b := ts.signIn("ben@nhs.test")
	items, _ := b.list(b.folders()["INBOX"].ID, "")
	if len(items) != 1 || items[0].Subject != "Rota for the week ✓" || !items[0].HasAttachment {
		t.Fatalf("ben's inbox: %+v", items)
	}
	// The sender's copy in Sent carries the Message-ID that was sent.
	var mine struct {
		MessageID string `json:"messageId"`
	}
	if code := a.do("GET", "/api/v1/folders/"+itoa(a.folders()["Sent"].ID)+"/messages/"+itoa(int64(sent.SentUID)), nil, &mine); code != 200 || mine.MessageID == "" || mine.MessageID != sent.MessageID {
		t.Errorf("the Sent copy's Message-ID is %q; sent as %q", mine.MessageID, sent.MessageID)
	}

	// Refusals come back with the pipeline's sentence and SMTP code.
	var p problemOf
	if code := a.do("POST", "/api/v1/send", map[string]any{"to": []string{"nobody@nhs.test"}, "subject": "x", "text": "x"}, &p); code != 422 || p.SMTP != "550 5.1.1" || p.Field != "to" || !strings.Contains(p.Detail, "nobody@nhs.test") {
		t.Errorf("unknown recipient: %d %+v", code, p)
	}
	if code := a.do("POST", "/api/v1/send", map[string]any{"subject": "x"}, &p); code != 400 || p.Field != "to" {
		t.Errorf("no recipients: %d %+v", code, p)
	}

	// Search from ben's side.
	ts.deliver("chloe@nhs.test", []string{"ben@nhs.test"}, "From: Chloe <chloe@nhs.test>\nTo: ben@nhs.test\nSubject: Handover\nDate: Mon, 2 Nov 2026 08:00:00 +0000\n\nPatient in bed 7 is stable.\n")
	search := func(q string, want ...string) {
		t.Helper()
		var out struct {
			Total    int
			Messages []item
		}
		if code := b.do("GET", "/api/v1/search?q="+url.QueryEscape(q), nil, &out); code != 200 {
			t.Fatalf("search %q: %d", q, code)
		}
		var got []string
		for _, m := range out.Messages {
			got = append(got, m.Subject)
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("search %q: %q, want %q", q, got, want)
		}
	}
	search("from:chloe", "Handover")
	search("bed 7", "Handover")
	search(`"in bed 7"`, "Handover")
	search("has:attachment", "Rota for the week ✓")
	search("subject:rota from:amira", "Rota for the week ✓")
	// Dates are arrival dates (as IMAP SINCE/BEFORE).
	day := time.Now().UTC()
	search("after:"+day.AddDate(0, 0, -1).Format("2006-01-02")+" before:"+day.AddDate(0, 0, 2).Format("2006-01-02")+" stable", "Handover")
	search("before:" + day.AddDate(0, 0, -1).Format("2006-01-02"))
	search("is:unread in:inbox", "Rota for the week ✓", "Handover")
	search("ventilator")
	if code := b.do("GET", "/api/v1/search?q="+url.QueryEscape("after:soon"), nil, &p); code != 400 || !strings.Contains(p.Detail, "not a date") {
		t.Errorf("bad search: %d %+v", code, p)
	}

	// Directory autocomplete by address, first name and last name.
	suggest := func(q string, want ...string) {
		t.Helper()
		var out struct{ People []struct{ Email string } }
		b.do("GET", "/api/v1/directory/suggest?q="+url.QueryEscape(q), nil, &out)
		var got []string
		for _, p := range out.People {
			got = append(got, p.Email)
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("suggest %q: %v, want %v", q, got, want)
		}
	}
	suggest("am", "amira@nhs.test")
	suggest("Chl", "chloe@nhs.test")
	suggest("tester", "amira@nhs.test", "ben@nhs.test", "chloe@nhs.test")
	suggest("zz")
}

func TestReplyAllBlockedByStormBreaker(t *testing.T) {
	ts := startWeb(t, "amira@nhs.test", "ben@nhs.test")
	ts.deliver("amira@nhs.test", []string{"ben@nhs.test"}, "From: amira@nhs.test\nTo: ben@nhs.test\nSubject: All staff\nMessage-ID: <storm-1@nhs.test>\n\nHello everyone\n")
	b := ts.signIn("ben@nhs.test")
	inbox := b.folders()["INBOX"]
	items, _ := b.list(inbox.ID, "")
	var v struct {
		ReplyAll struct {
			Allowed bool
			Reason  string
			Until   string
		}
	}
	b.do("GET", "/api/v1/folders/"+itoa(inbox.ID)+"/messages/"+itoa(int64(items[0].UID)), nil, &v)
	if v.ReplyAll.Allowed || v.ReplyAll.Reason == "" || v.ReplyAll.Until != "2026-11-22T15:00:00Z" {
		t.Errorf("reply-all on a storm thread: %+v", v.ReplyAll)
	}
}
