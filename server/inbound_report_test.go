package server_test

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/xml"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"wardmail/server"
	"wardmail/store"
	"wardmail/testnet"
)

// The day's results for a domain that asks for aggregate reports (rua=) are
// counted per source; the next day one report is built, once, for the
// addresses that may receive it, and is queued for them in the outbound
// queue (paused here, so it stays to be read). A destination outside the domain receives it only if it says so in
// the DNS (RFC 7489 7.1).
func TestDMARCAggregateReport(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	good, bad := n.Host(), n.Host()
	var now atomic.Int64
	now.Store(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC).Unix())
	clock := func() time.Time { return time.Unix(now.Load(), 0) }
	e := startInbound(t, n, func(c *server.Config) { c.Now = clock; c.Outbound.Paused = true },
		testnet.Zone{Name: "clinic.test", Records: []testnet.Record{
			testnet.TXT("@", "v=spf1 ip4:"+good.String()+" -all"),
			testnet.TXT("_dmarc", "v=DMARC1; p=none; rua=mailto:dmarc@clinic.test,mailto:reports@collector.test!10m,mailto:x@noconsent.test"),
		}},
		testnet.Zone{Name: "collector.test", Records: []testnet.Record{testnet.TXT("clinic.test._report._dmarc", "v=DMARC1")}},
		testnet.Zone{Name: "noconsent.test", Records: []testnet.Record{testnet.TXT("@", "v=spf1 -all")}})
	msg := "From: <gp@clinic.test>\r\nTo: ward7@nhs.test\r\nSubject: s\r\n\r\nHello.\r\n"
	for _, from := range []netip.Addr{good, good, bad} {
		if err := e.sendFrom(from, "mx.clinic.test", "gp@clinic.test", []string{"ward7@nhs.test"}, msg); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := e.srv.DMARCReports.SendDue(e.ctx); err != nil || n != 0 {
		t.Fatalf("before the day is over: %d reports, %v", n, err)
	}
	now.Add(86400)
	if n, err := e.srv.DMARCReports.SendDue(e.ctx); err != nil || n != 1 {
		t.Fatalf("the next day: %d reports, %v", n, err)
	}
	if n, err := e.srv.DMARCReports.SendDue(e.ctx); err != nil || n != 0 {
		t.Fatalf("again: %d reports, %v", n, err)
	}
	queued, err := e.st.QueueList(e.ctx, store.QueueFilter{})
	if err != nil || len(queued) != 1 {
		t.Fatalf("queued reports: %d, %v", len(queued), err)
	}
	var rcpts []string
	for _, r := range queued[0].Rcpts {
		rcpts = append(rcpts, r.Rcpt)
	}
	if got := strings.Join(rcpts, " "); got != "dmarc@clinic.test reports@collector.test" {
		t.Errorf("recipients = %q", got)
	}
	body, err := e.st.Body(e.ctx, queued[0].ContentID)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mail.ReadMessage(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if s := m.Header.Get("Subject"); !strings.HasPrefix(s, "Report Domain: clinic.test Submitter: mx.nhs.test Report-ID: <") {
		t.Errorf("Subject = %q", s)
	}
	_, params, _ := mime.ParseMediaType(m.Header.Get("Content-Type"))
	mr := multipart.NewReader(m.Body, params["boundary"])
	var report []byte
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		if strings.HasSuffix(p.FileName(), ".xml.gz") {
			if !strings.HasPrefix(p.FileName(), "mx.nhs.test!clinic.test!") {
				t.Errorf("file name %q", p.FileName())
			}
			zr, err := gzip.NewReader(base64.NewDecoder(base64.StdEncoding, p))
			if err != nil {
				t.Fatal(err)
			}
			report, _ = io.ReadAll(zr)
		}
	}
	var fb struct {
		Policy struct {
			Domain string `xml:"domain"`
			P      string `xml:"p"`
		} `xml:"policy_published"`
		Records []struct {
			SourceIP    string `xml:"row>source_ip"`
			Count       int    `xml:"row>count"`
			Disposition string `xml:"row>policy_evaluated>disposition"`
			SPF         string `xml:"row>policy_evaluated>spf"`
			HeaderFrom  string `xml:"identifiers>header_from"`
		} `xml:"record"`
	}
	if err := xml.Unmarshal(report, &fb); err != nil {
		t.Fatalf("report: %v\n%s", err, report)
	}
	if fb.Policy.Domain != "clinic.test" || fb.Policy.P != "none" || len(fb.Records) != 2 {
		t.Fatalf("report:\n%s", report)
	}
	byIP := map[string]int{}
	for _, r := range fb.Records {
		byIP[r.SourceIP+" "+r.SPF+" "+r.Disposition+" "+r.HeaderFrom] = r.Count
	}
	if byIP[good.String()+" pass none clinic.test"] != 2 || byIP[bad.String()+" fail none clinic.test"] != 1 {
		t.Errorf("records: %v\n%s", byIP, report)
	}
}
