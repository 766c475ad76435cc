package web_test

import (
	"io"
	"mime"
	"net/url"
	"strings"
	"testing"
)

// An attachment named "discharge-summary" U+202E "fdp.exe" displays as
// "discharge-summaryexe.pdf". The webmail shows, and offers to save, the
// name it really has, with the override gone, whether the name came as raw
// UTF-8, RFC 2231 or RFC 2047; a file uploaded for compose under such a
// name keeps the real name too.
func TestAttachmentNamesLoseDirectionOverrides(t *testing.T) {
	ts := startWeb(t, "amira@nhs.test", "ben@nhs.test")
	const evil = "discharge-summary\u202Efdp.exe"
	ts.deliver("amira@nhs.test", []string{"ben@nhs.test"}, `From: amira@nhs.test
To: ben@nhs.test
Subject: Discharge summary
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=b1

--b1
Content-Type: text/plain; charset=utf-8

Attached.
--b1
Content-Type: application/octet-stream
Content-Disposition: attachment; filename="`+evil+`"

MZ
--b1
Content-Type: application/octet-stream
Content-Disposition: attachment; filename*=UTF-8''`+url.PathEscape(evil)+`

MZ
--b1
Content-Type: application/octet-stream; name="`+mime.BEncoding.Encode("UTF-8", evil)+`"
Content-Disposition: attachment

MZ
--b1
Content-Type: application/octet-stream
Content-Disposition: attachment; filename="bell`+"\a"+`and`+"\x1b"+`[31mescape`+"\u2066"+`.txt"

MZ
--b1--
`)
	b := ts.signIn("ben@nhs.test")
	inbox := b.folders()["INBOX"]
	items, _ := b.list(inbox.ID, "?limit=10")
	if len(items) != 1 {
		t.Fatalf("list: %+v", items)
	}
	path := "/api/v1/folders/" + itoa(inbox.ID) + "/messages/" + itoa(int64(items[0].UID))
	var v struct {
		Attachments []struct{ Part, Filename string }
	}
	if code := b.do("GET", path, nil, &v); code != 200 || len(v.Attachments) != 4 {
		t.Fatalf("read: %d %+v", code, v)
	}
	want := []string{"discharge-summaryfdp.exe", "discharge-summaryfdp.exe", "discharge-summaryfdp.exe", "belland[31mescape.txt"}
	for i, a := range v.Attachments {
		if a.Filename != want[i] {
			t.Errorf("attachment %s (%s) is shown as %q, want %q", a.Part, []string{"raw UTF-8", "RFC 2231", "RFC 2047", "controls"}[i], a.Filename, want[i])
		}
		resp := b.raw("GET", path+"/parts/"+a.Part, nil)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		cd := resp.Header.Get("Content-Disposition")
		_, params, err := mime.ParseMediaType(cd)
		if err != nil || params["filename"] != want[i] || strings.Contains(cd, "%E2%80%AE") || strings.ContainsAny(cd, "\u202E\a\x1b") {
			t.Errorf("download of part %s: Content-Disposition %q (%v), want the file name %q", a.Part, cd, err, want[i])
		}
	}

	// A file uploaded for compose under such a name.
	var up struct{ Filename string }
	resp := b.raw("POST", "/api/v1/uploads?filename="+url.QueryEscape(evil), []byte("MZ"))
	readJSONBody(t, resp, &up)
	if up.Filename != "discharge-summaryfdp.exe" {
		t.Errorf("upload named %q is kept as %q", evil, up.Filename)
	}
}
