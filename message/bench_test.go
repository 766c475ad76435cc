package message

import (
	"encoding/base64"
	"strings"
	"testing"
)

// benchMessage builds a multipart/mixed message of about size bytes: a
// text/plain and text/html alternative and a base64 attachment filling the
// rest.
func benchMessage(size int) []byte {
	var b strings.Builder
	b.WriteString(crlf(`Return-Path: <alice@example.org>
Received: from client.example.org ([192.0.2.1])
	by mx.example.com with ESMTPS id 1a2b3c
	for <bob@example.com>; Mon, 2 Jan 2006 15:04:05 -0700
From: =?utf-8?q?Alice_Exampl=C3=A9?= <alice@example.org>
To: Bob <bob@example.com>, carol@example.net
Cc: Team: dave@example.net, erin@example.net;
Subject: =?utf-8?q?Quarterly_report_=E2=80=94_draft?=
Date: Mon, 2 Jan 2006 15:04:05 -0700
Message-ID: <1234@example.org>
In-Reply-To: <1233@example.org>
References: <1230@example.org> <1231@example.org> <1233@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer-boundary"

--outer-boundary
Content-Type: multipart/alternative; boundary="inner-boundary"

--inner-boundary
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Hi Bob,

Here is the draft of the quarterly report. Caf=C3=A9 at ten?

Alice
--inner-boundary
Content-Type: text/html; charset=utf-8

<p>Hi Bob,</p><p>Here is the draft of the quarterly report.</p>
--inner-boundary--
`))
	if rest := size - b.Len() - 200; rest > 0 {
		b.WriteString(crlf(`--outer-boundary
Content-Type: application/pdf; name="report.pdf"
Content-Disposition: attachment; filename="report.pdf"
Content-Transfer-Encoding: base64

`))
		raw := make([]byte, rest*3/4)
		for i := range raw {
			raw[i] = byte(i * 7)
		}
		enc := base64.StdEncoding.EncodeToString(raw)
		for len(enc) > 76 {
			b.WriteString(enc[:76] + "\r\n")
			enc = enc[76:]
		}
		b.WriteString(enc + "\r\n")
	}
	b.WriteString("--outer-boundary--\r\n")
	return []byte(b.String())
}

func BenchmarkSummarize(b *testing.B) {
	for _, c := range []struct {
		name string
		size int
	}{{"2KB", 2 << 10}, {"1MB", 1 << 20}, {"35MB", 35 << 20}} {
		msg := benchMessage(c.size)
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Summarize(msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSummarizeHostile measures 35 MB inputs built to be slow: a
// header of a million short fields, one huge folded field, deep nesting
// over a large body and a flood of empty parts.
func BenchmarkSummarizeHostile(b *testing.B) {
	const size = 35 << 20
	cases := map[string][]byte{}

	var sb strings.Builder
	for sb.Len() < size {
		sb.WriteString("X-A: b\r\n")
	}
	cases["many fields"] = []byte(sb.String() + "\r\nbody")

	sb.Reset()
	sb.WriteString("To: ")
	for sb.Len() < size {
		sb.WriteString("a@b.c,\r\n ")
	}
	cases["huge address list"] = []byte(sb.String() + "\r\n\r\nbody")

	sb.Reset()
	for i := 0; i < MaxDepth+10; i++ {
		sb.WriteString("Content-Type: multipart/mixed; boundary=b" + itoa(i) + "\r\n\r\n--b" + itoa(i) + "\r\n")
	}
	sb.WriteString("\r\n")
	for sb.Len() < size {
		sb.WriteString("--b0 not a delimiter\r\n")
	}
	cases["deep nesting"] = []byte(sb.String())

	sb.Reset()
	for i := 0; i < MaxDepth+10; i++ {
		sb.WriteString("Subject: level " + itoa(i) + "\r\nContent-Type: message/rfc822\r\n\r\n")
	}
	sb.WriteString("\r\n")
	for sb.Len() < size {
		sb.WriteString("a line of the innermost message\r\n")
	}
	cases["nested messages"] = []byte(sb.String())

	sb.Reset()
	sb.WriteString("Content-Type: multipart/mixed; boundary=b\r\n\r\n")
	for sb.Len() < size {
		sb.WriteString("--b\r\n")
	}
	cases["empty parts"] = []byte(sb.String())

	sb.Reset()
	sb.WriteString("Content-Type: multipart/mixed; boundary=b\r\n\r\n")
	for sb.Len() < size {
		sb.WriteString("--b\r\nContent-Type: text/plain; name=\"")
		for range 200 {
			sb.WriteString("=?koi8-r?q?=F0?= ")
		}
		sb.WriteString("\"\r\nContent-Description:")
		for range 200 {
			sb.WriteString(" =?koi8-r?q?=F0?=")
		}
		sb.WriteString("\r\n\r\nx\r\n")
	}
	cases["encoded words in part headers"] = []byte(sb.String())

	for name, msg := range cases {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				if _, err := Summarize(msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSection(b *testing.B) {
	msg := benchMessage(1 << 20)
	s, _ := Summarize(msg)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Section(msg, s, []int{1, 1}, "", nil, false); err != nil {
			b.Fatal(err)
		}
		if _, err := Section(msg, s, nil, "HEADER.FIELDS", []string{"from", "subject", "date"}, false); err != nil {
			b.Fatal(err)
		}
	}
}

func TestBenchMessage(t *testing.T) {
	s := mustSummarize(t, string(benchMessage(1<<20)))
	if got := shape(s.Structure); got != "multipart/mixed(multipart/alternative(text/plain,text/html),application/pdf)" {
		t.Errorf("shape %s", got)
	}
	if len(s.Envelope.Cc) != 4 || s.Envelope.Subject != "Quarterly report — draft" {
		t.Errorf("envelope %+v", s.Envelope)
	}
}
