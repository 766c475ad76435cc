package scan_test

import (
	"strings"
	"testing"

	"wardmail/scan"
)

func TestFindBlocked(t *testing.T) {
	test := func(name string, msg []byte, wantName, wantReason string) {
		t.Helper()
		b := scan.FindBlocked(msg, scan.DefaultBlocked)
		switch {
		case wantName == "" && b != nil:
			t.Errorf("%s: blocked %q (%s), want it accepted", name, b.Name, b.Reason)
		case wantName != "" && b == nil:
			t.Errorf("%s: accepted, want %q blocked", name, wantName)
		case wantName != "" && (b.Name != wantName || !strings.Contains(b.Reason, wantReason)):
			t.Errorf("%s: blocked %q (%s), want %q (%s)", name, b.Name, b.Reason, wantName, wantReason)
		}
	}
	test("exe by name", withAttachment("invoice.exe", "application/octet-stream", []byte("anything")), "invoice.exe", "program")
	test("double extension", withAttachment("scan.pdf.exe", "application/pdf", []byte("%PDF-1.4")), "scan.pdf.exe", "program")
	test("upper case", withAttachment("RUN.BAT", "text/plain", []byte("echo hi")), "RUN.BAT", "script")
	test("docm", withAttachment("rota.docm", "application/vnd.ms-word.document.macroEnabled.12", zipOf(map[string]string{"word/document.xml": "<w/>"})),
		"rota.docm", "macros")
	test("xlsm", withAttachment("budget.xlsm", "application/octet-stream", []byte("x")), "budget.xlsm", "macros")
	test("program under another name", withAttachment("photo.jpg", "image/jpeg", peFile()), "photo.jpg", "Windows program")
	test("zip with a program", withAttachment("docs.zip", "application/zip", zipOf(map[string]string{"readme.txt": "hi", "setup.exe": "MZ"})),
		"docs.zip/setup.exe", "program")
	test("docx carrying macros", withAttachment("letter.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		zipOf(map[string]string{"word/document.xml": "<w/>", "word/vbaProject.bin": "macro"})), "letter.docx", "macros")
	test("zip in a zip", withAttachment("outer.zip", "application/zip", zipOf(map[string]string{"inner.zip": string(zipOf(map[string]string{"run.js": "x"}))})),
		"outer.zip/inner.zip/run.js", "script")

	test("plain docx", withAttachment("letter.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		zipOf(map[string]string{"word/document.xml": "<w/>"})), "", "")
	test("pdf", withAttachment("scan.pdf", "application/pdf", []byte("%PDF-1.4 ...")), "", "")
	test("text starting MZ", withAttachment("notes.txt", "text/plain", []byte("MZ is a postcode prefix")), "", "")
	test("plain message", plain("hello", "no attachments"), "", "")

	// A list of one's own replaces the default.
	if b := scan.FindBlocked(withAttachment("invoice.exe", "application/octet-stream", []byte("x")), []string{"zip"}); b != nil {
		t.Errorf("a configured list without exe still blocked %q", b.Name)
	}
	if b := scan.FindBlocked(withAttachment("a.zip", "application/zip", zipOf(map[string]string{"a.txt": "x"})), []string{".ZIP"}); b == nil {
		t.Errorf("a configured list with .ZIP did not block a.zip")
	}
}

func FuzzFindBlocked(f *testing.F) {
	f.Add(withAttachment("invoice.exe", "application/octet-stream", []byte("x")))
	f.Add(withAttachment("docs.zip", "application/zip", zipOf(map[string]string{"setup.exe": "MZ"})))
	f.Add(withAttachment("photo.jpg", "image/jpeg", peFile()))
	f.Add(plain("hi", "there"))
	f.Add([]byte("Content-Type: message/rfc822\r\n\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\n--x--\r\n"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		if b := scan.FindBlocked(msg, scan.DefaultBlocked); b != nil && b.Name == "" {
			t.Fatalf("blocked without a name: %+v", b)
		}
	})
}
