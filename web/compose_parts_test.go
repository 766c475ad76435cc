package web_test

import (
	"io"
	"net/url"
	"strings"
	"testing"
)

type partRef struct {
	Folder   int64  `json:"folder"`
	UID      uint32 `json:"uid"`
	Part     string `json:"part"`
	Filename string `json:"filename,omitempty"`
}

type readAttachments struct {
	Subject     string
	Text        string
	Attachments []struct{ Part, Filename, Type string }
}

func (c *client) readMsg(folder int64, uid uint32) readAttachments {
	c.ts.t.Helper()
	var v readAttachments
	if code := c.do("GET", "/api/v1/folders/"+itoa(folder)+"/messages/"+itoa(int64(uid)), nil, &v); code != 200 {
		c.ts.t.Fatalf("read %d/%d: %d", folder, uid, code)
	}
	return v
}

func (c *client) partBytes(folder int64, uid uint32, part string) string {
	c.ts.t.Helper()
	resp := c.raw("GET", "/api/v1/folders/"+itoa(folder)+"/messages/"+itoa(int64(uid))+"/parts/"+part, nil)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		c.ts.t.Fatalf("part %s: %d %s", part, resp.StatusCode, b)
	}
	return string(b)
}

func TestForwardKeepsAttachments(t *testing.T) {
	ts := startWeb(t, "amira@nhs.test", "ben@nhs.test", "chloe@nhs.test")
	ts.deliver("amira@nhs.test", []string{"ben@nhs.test"}, htmlMail)
	b := ts.signIn("ben@nhs.test")
	inbox := b.folders()["INBOX"]
	items, _ := b.list(inbox.ID, "")
	orig := b.readMsg(inbox.ID, items[0].UID)
	if len(orig.Attachments) != 1 {
		t.Fatalf("original attachments: %+v", orig.Attachments)
	}
	ref := partRef{Folder: inbox.ID, UID: items[0].UID, Part: orig.Attachments[0].Part}

	// Someone else cannot attach ben's parts; nothing is sent.
	a := ts.signIn("amira@nhs.test")
	var p problemOf
	if code := a.do("POST", "/api/v1/send", map[string]any{"to": []string{"chloe@nhs.test"}, "subject": "Fwd", "parts": []partRef{ref}}, &p); code != 400 || p.Field != "parts" {
		t.Errorf("amira forwarding ben's attachment: %d %+v", code, p)
	}
	for _, bad := range []partRef{{Folder: inbox.ID, UID: items[0].UID, Part: "9"}, {Folder: inbox.ID, UID: 999, Part: "2"}} {
		if code := b.do("POST", "/api/v1/send", map[string]any{"to": []string{"chloe@nhs.test"}, "subject": "Fwd", "parts": []partRef{bad}}, &p); code != 400 || p.Field != "parts" {
			t.Errorf("part %+v: %d %+v", bad, code, p)
		}
	}
	if code := b.do("POST", "/api/v1/send", map[string]any{"to": []string{"chloe@nhs.test"}, "parts": []partRef{{Folder: inbox.ID, UID: 1, Part: "x"}}}, &p); code != 400 {
		t.Errorf("bad part number: %d %+v", code, p)
	}
	c := ts.signIn("chloe@nhs.test")
	if f := c.folders(); f["INBOX"].Total != 0 {
		t.Fatalf("a refused forward arrived: %+v", f["INBOX"])
	}

	// Forward with the attachment.
	if code := b.do("POST", "/api/v1/send", map[string]any{"to": []string{"chloe@nhs.test"}, "subject": "Fwd: Ward round notes", "text": "FYI", "parts": []partRef{ref}}, nil); code != 200 {
		t.Fatalf("forward: %d", code)
	}
	cin := c.folders()["INBOX"]
	got, _ := c.list(cin.ID, "")
	v := c.readMsg(cin.ID, got[0].UID)
	if len(v.Attachments) != 1 || v.Attachments[0].Filename != "obs chart.pdf" || v.Attachments[0].Type != "application/pdf" {
		t.Fatalf("forwarded attachments: %+v", v.Attachments)
	}
	if body := c.partBytes(cin.ID, got[0].UID, v.Attachments[0].Part); body != "%PDF-1.4\n" {
		t.Errorf("forwarded attachment bytes %q", body)
	}
}

func TestDraftReopenSaveSend(t *testing.T) {
	ts := startWeb(t, "amira@nhs.test", "ben@nhs.test", "chloe@nhs.test")
	ts.deliver("amira@nhs.test", []string{"ben@nhs.test"}, htmlMail)
	b := ts.signIn("ben@nhs.test")
	inbox := b.folders()["INBOX"]
	items, _ := b.list(inbox.ID, "")
	orig := b.readMsg(inbox.ID, items[0].UID)

	// An upload and a part of the message being replied to.
	resp := b.raw("POST", "/api/v1/uploads?filename="+url.QueryEscape("notes.txt"), []byte("bed 12: reviewed\n"))
	var up struct{ ID string }
	readJSONBody(t, resp, &up)
	type saved struct {
		Folder int64
		UID    uint32
		Parts  []partRef
	}
	var s1 saved
	msg := map[string]any{"to": []string{"amira@nhs.test"}, "cc": []string{"chloe@nhs.test"}, "bcc": []string{"ben@nhs.test"},
		"subject": "Re: Ward round notes", "text": "Reviewed.\n\n> Bed 12", "inReplyTo": "<round-1@nhs.test>", "references": []string{"<round-1@nhs.test>"},
		"attachments": []string{up.ID}, "parts": []partRef{{Folder: inbox.ID, UID: items[0].UID, Part: orig.Attachments[0].Part}}}
	if code := b.do("PUT", "/api/v1/drafts", msg, &s1); code != 200 || len(s1.Parts) != 1 || s1.Parts[0].UID != s1.UID || s1.Parts[0].Part != "3" {
		t.Fatalf("save: %d %+v", code, s1)
	}

	// Reopen: everything comes back, the attachments as the draft's parts.
	type draft struct {
		UID                      uint32
		To, Cc, Bcc              []string
		Subject, Text, InReplyTo string
		References               []string
		Parts                    []partRef
	}
	var d draft
	if code := b.do("GET", "/api/v1/drafts/"+itoa(int64(s1.UID)), nil, &d); code != 200 {
		t.Fatalf("open draft: %d", code)
	}
	if strings.Join(d.To, ",") != "amira@nhs.test" || strings.Join(d.Cc, ",") != "chloe@nhs.test" || strings.Join(d.Bcc, ",") != "ben@nhs.test" ||
		d.Subject != "Re: Ward round notes" || d.Text != "Reviewed.\n\n> Bed 12" || d.InReplyTo != "<round-1@nhs.test>" ||
		strings.Join(d.References, " ") != "<round-1@nhs.test>" {
		t.Errorf("draft: %+v", d)
	}
	if len(d.Parts) != 2 || d.Parts[0].Filename != "notes.txt" || d.Parts[1].Filename != "obs chart.pdf" {
		t.Fatalf("draft parts: %+v", d.Parts)
	}
	var p problemOf
	if code := b.do("GET", "/api/v1/drafts/99999", nil, &p); code != 404 {
		t.Errorf("missing draft: %d", code)
	}
	if code := b.do("GET", "/api/v1/drafts/"+itoa(int64(items[0].UID+100)), nil, &p); code != 404 {
		t.Errorf("missing draft: %d", code)
	}

	// Save the reopened draft (its own parts): it replaces the old one.
	var s2 saved
	msg["attachments"] = []string{}
	refs := make([]partRef, len(d.Parts))
	for i, r := range d.Parts {
		refs[i] = partRef{Folder: r.Folder, UID: r.UID, Part: r.Part}
	}
	msg["parts"] = refs
	msg["draft"] = d.UID
	msg["text"] = "Reviewed twice."
	if code := b.do("PUT", "/api/v1/drafts", msg, &s2); code != 200 || s2.UID == s1.UID {
		t.Fatalf("save again: %d %+v", code, s2)
	}
	f := b.folders()
	if f["Drafts"].Total != 1 {
		t.Fatalf("drafts after saving again: %+v", f["Drafts"])
	}
	var d2 draft
	b.do("GET", "/api/v1/drafts/"+itoa(int64(s2.UID)), nil, &d2)
	if len(d2.Parts) != 2 || d2.Text != "Reviewed twice." {
		t.Fatalf("draft after saving again: %+v", d2)
	}

	// Send it: the draft goes, the recipients get both attachments and the
	// reply headers.
	msg["parts"] = s2.Parts
	msg["draft"] = s2.UID
	if code := b.do("POST", "/api/v1/send", msg, nil); code != 200 {
		t.Fatalf("send: %d", code)
	}
	if f := b.folders(); f["Drafts"].Total != 0 || f["Sent"].Total != 1 {
		t.Errorf("after send: drafts %+v sent %+v", f["Drafts"], f["Sent"])
	}
	a := ts.signIn("amira@nhs.test")
	ain := a.folders()["INBOX"]
	got, _ := a.list(ain.ID, "")
	var v struct {
		InReplyTo   string
		Attachments []struct{ Filename string }
	}
	a.do("GET", "/api/v1/folders/"+itoa(ain.ID)+"/messages/"+itoa(int64(got[0].UID)), nil, &v)
	if v.InReplyTo != "<round-1@nhs.test>" || len(v.Attachments) != 2 || v.Attachments[0].Filename != "notes.txt" {
		t.Errorf("amira's copy: %+v", v)
	}
}
