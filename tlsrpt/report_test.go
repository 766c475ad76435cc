package tlsrpt_test

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"wardmail/store/storetest"
	"wardmail/testnet"
	"wardmail/tlsrpt"
)

type queued struct {
	from string
	to   []string
	msg  []byte
}

// outbox stands where the outbound queue takes the reports.
type outbox struct {
	mu  sync.Mutex
	all []queued
}

func (o *outbox) Enqueue(_ context.Context, from string, to []string, msg []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.all = append(o.all, queued{from, to, msg})
	return nil
}

// A day's results become one gzipped JSON report per domain that publishes
// a mailto: rua, sent once; the report, received by its domain, is parsed
// and kept for its administrators.
func TestDailyReportRoundTrip(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	d := n.StartDNS(
		testnet.Zone{Name: "gp.test", Records: []testnet.Record{testnet.TXT("_smtp._tls", "v=TLSRPTv1; rua=mailto:tlsrpt@gp.test,https://r.gp.test/")}},
		testnet.Zone{Name: "quiet.test", Records: []testnet.Record{testnet.TXT("@", "v=spf1 -all")}},
	)
	st := storetest.Open(t, storetest.Options{})
	ctx := context.Background()
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	policy := []string{"version: STSv1", "mode: enforce", "mx: mx.gp.test", "max_age: 86400"}
	for i := 0; i < 5; i++ {
		if err := st.RecordTLSResult(ctx, tlsrpt.Result{Day: day.Add(time.Hour), PolicyDomain: "gp.test", PolicyType: "sts",
			PolicyString: policy, MXHost: "mx.gp.test", Success: true}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 2; i++ {
		if err := st.RecordTLSResult(ctx, tlsrpt.Result{Day: day, PolicyDomain: "gp.test", PolicyType: "sts", PolicyString: policy,
			MXHost: "mx.gp.test", FailureType: "certificate-host-mismatch"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.RecordTLSResult(ctx, tlsrpt.Result{Day: day, PolicyDomain: "quiet.test", PolicyType: "no-policy-found",
		MXHost: "mx.quiet.test", Success: true}); err != nil {
		t.Fatal(err)
	}
	box := &outbox{}
	rp := &tlsrpt.Reporter{Store: st, Queue: box, Resolver: d.Resolver(), Organization: "Wardmail NHS test",
		Submitter: "nhs.test", From: "tlsrpt-noreply@nhs.test"}
	sent, err := rp.SendDay(ctx, day)
	if err != nil || sent != 1 || len(box.all) != 1 {
		t.Fatalf("sent %d reports (%d queued), err %v; want 1 (quiet.test publishes no rua)", sent, len(box.all), err)
	}
	q := box.all[0]
	if q.from != "tlsrpt-noreply@nhs.test" || strings.Join(q.to, ",") != "tlsrpt@gp.test" {
		t.Fatalf("envelope %s -> %v", q.from, q.to)
	}
	msg := string(q.msg)
	for _, want := range []string{"TLS-Report-Domain: gp.test", "TLS-Report-Submitter: nhs.test", "report-type=\"tlsrpt\"",
		"Content-Type: application/tlsrpt+gzip", "Subject: Report Domain: gp.test Submitter: nhs.test Report-ID: <"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the report mail lacks %q", want)
		}
	}
	// RFC 8460 5.1: submitter!policy-domain!begin!end!unique.json.gz
	if !regexp.MustCompile(`filename="nhs\.test!gp\.test!1796083200!1796169599![0-9a-f-]+\.json\.gz"`).MatchString(msg) {
		t.Errorf("report file name is not RFC 8460 5.1's:\n%s", msg)
	}
	rep, rec, err := tlsrpt.Parse(q.msg)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Successes != 5 || rec.Failures != 2 || rep.Policies[0].Policy.Type != "sts" ||
		rep.Policies[0].FailureDetails[0].ResultType != "certificate-host-mismatch" || rep.Policies[0].FailureDetails[0].Count != 2 {
		t.Fatalf("report %+v", rep)
	}
	if again, err := rp.SendDay(ctx, day); err != nil || again != 0 {
		t.Fatalf("the day was reported again: %d, %v", again, err)
	}

	// The receiving side: gp.test's Wardmail keeps the report.
	ours := func(d string) bool { return d == "gp.test" }
	for range 2 {
		if _, err := tlsrpt.Receive(ctx, st, ours, q.msg); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tlsrpt.Receive(ctx, st, func(string) bool { return false }, q.msg); err == nil {
		t.Fatal("a report about someone else's domain was kept")
	}
	kept, err := st.TLSReports(ctx, "gp.test", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != 1 || kept[0].Organization != "Wardmail NHS test" || kept[0].Failures != 2 || kept[0].Successes != 5 {
		t.Fatalf("kept %+v", kept)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("Content-Type: application/tlsrpt+json\r\n\r\n{\"organization-name\":\"x\",\"report-id\":\"1\",\"policies\":[{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":\"a.test\"},\"summary\":{\"total-successful-session-count\":1}}]}"))
	f.Add([]byte("Content-Type: multipart/report; boundary=b\r\n\r\n--b\r\nContent-Type: application/tlsrpt+gzip\r\nContent-Transfer-Encoding: base64\r\n\r\nH4sI\r\n--b--\r\n"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		_, _, _ = tlsrpt.Parse(msg)
	})
}
