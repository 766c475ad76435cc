package scan_test

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"strings"
	"time"
)

// now is the Date of the test messages: Rspamd scores a date far in the
// past or future.
var now = time.Now().Format("Mon, 02 Jan 2006 15:04:05 -0700")

// withAttachment builds a message with a text part and one attachment.
func withAttachment(name, ctype string, data []byte) []byte {
	var b strings.Builder
	b.WriteString("From: Sender <sender@outside.example>\r\nTo: amira.khan@nhs.test\r\nSubject: papers\r\n" +
		"Date: " + now + "\r\nMessage-ID: <p1@outside.example>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nPlease see attached.\r\n--b1\r\n")
	b.WriteString("Content-Type: " + ctype + "; name=\"" + name + "\"\r\nContent-Disposition: attachment; filename=\"" + name + "\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--b1--\r\n")
	return []byte(b.String())
}

// zipOf makes a zip archive of named files.
func zipOf(files map[string]string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, text := range files {
		w, _ := zw.Create(name)
		_, _ = w.Write([]byte(text))
	}
	_ = zw.Close()
	return buf.Bytes()
}

// peFile is the start of a Windows program: the MZ header pointing at a PE
// signature.
func peFile() []byte {
	b := make([]byte, 0x100)
	copy(b, "MZ")
	b[0x3c] = 0x80
	copy(b[0x80:], "PE\x00\x00")
	return b
}

func plain(subject, text string) []byte {
	return []byte("From: Colleague <colleague@outside.example>\r\nTo: amira.khan@nhs.test\r\nSubject: " + subject +
		"\r\nDate: " + now + "\r\nMessage-ID: <m1@outside.example>\r\n\r\n" + text + "\r\n")
}
