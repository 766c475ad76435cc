package server_test

import (
	"strings"
	"testing"
	"time"

	"wardmail/testnet"
	"wardmail/tlsrpt"
)

// Another operator's daily TLS report (RFC 8460) about nhs.test, sent to
// the report address of our _smtp._tls record, is kept for the
// administrators and put in nobody's INBOX, even where a person has that
// address; ordinary mail to that person still arrives. Without such a
// person, a report about a domain that is not ours is refused.
func TestTLSReportToReportAddressIsKept(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	sender := n.Host()
	e := startInbound(t, n, nil, testnet.Zone{Name: "gp.test", Records: []testnet.Record{
		testnet.TXT("@", "v=spf1 ip4:"+sender.String()+" -all")}})
	day := time.Now().UTC().Truncate(24 * time.Hour).Add(-24 * time.Hour)
	report := func(domain string) string {
		rep := tlsrpt.Build("GP Practice Mail", "postmaster@gp.test", day, []tlsrpt.Result{
			{Day: day, PolicyDomain: domain, PolicyType: "sts", PolicyString: []string{"version: STSv1", "mode: enforce"},
				MXHost: "mx." + domain, Success: true, Count: 40},
			{Day: day, PolicyDomain: domain, PolicyType: "sts", MXHost: "mx." + domain, FailureType: "certificate-expired", Count: 3},
		})
		msg, err := tlsrpt.Message(rep, "tlsrpt@gp.test", "reports@nhs.test", "gp.test", domain, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return string(msg)
	}
	err := e.sendFrom(sender, "mx.gp.test", "tlsrpt@gp.test", []string{"reports@nhs.test"}, report("elsewhere.test"))
	if err == nil || !strings.Contains(err.Error(), "not one of our domains") {
		t.Errorf("a report about another domain: %v, want refused", err)
	}
	e.upsert(who{"reports@nhs.test", leeds, "IT", "LGI"})
	if err := e.sendFrom(sender, "mx.gp.test", "tlsrpt@gp.test", []string{"reports@nhs.test"}, report("nhs.test")); err != nil {
		t.Fatalf("the report was refused: %v", err)
	}
	kept, err := e.st.TLSReports(e.ctx, "nhs.test", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != 1 || kept[0].Organization != "GP Practice Mail" || kept[0].Successes != 40 || kept[0].Failures != 3 {
		t.Fatalf("kept reports: %+v", kept)
	}
	if err := e.sendFrom(sender, "mx.gp.test", "admin@gp.test", []string{"reports@nhs.test"},
		"From: <admin@gp.test>\r\nTo: reports@nhs.test\r\nSubject: Our new MX\r\n\r\nHello.\r\n"); err != nil {
		t.Fatal(err)
	}
	if s := e.subjects("reports@nhs.test"); len(s) != 1 || s[0] != "Our new MX" {
		t.Fatalf("the INBOX of reports@nhs.test: %q, want only the ordinary mail", s)
	}
}
