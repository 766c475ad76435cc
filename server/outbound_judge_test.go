package server_test

import (
	"errors"
	"net"
	"regexp"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"wardmail/server"
	"wardmail/testnet"
)

var verdict = regexp.MustCompile(`(?:^|[;\s])(spf|dkim|dmarc)=([a-z]+)`)

// Independent judges of what Wardmail sends: a Debian Postfix with
// policyd-spf (SPF), OpenDKIM (DKIM) and OpenDMARC (DMARC) receives a
// message that a person sent through submission and the queue delivered,
// and writes spf=pass, dkim=pass for both signatures (RSA and Ed25519) and
// dmarc=pass under nhs.test's p=reject. A message that another host sends
// in nhs.test's name is refused by OpenDMARC, and never lands.
func TestOutboundSPFDKIMDMARCJudgedByPostfix(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	peer := n.StartPostfix(testnet.PostfixConfig{Domain: "gp.test", Judge: true})
	ours := n.Host()
	d := n.StartDNS(testnet.Zone{Name: "gp.test", Records: peer.Records()},
		testnet.Zone{Name: "nhs.test", Records: []testnet.Record{testnet.MX("@", 10, "mx.nhs.test"), testnet.A("mx", ours),
			testnet.TXT("@", "v=spf1 ip4:"+ours.String()+" -all"),
			testnet.TXT("_dmarc", "v=DMARC1; p=reject; adkim=s; aspf=s")}})
	e := startOutbound(t, n, d, func(cfg *server.Config) {
		cfg.LocalDomains = []string{"nhs.test"}
		cfg.Hostname = "mx.nhs.test"
		cfg.Outbound.BindAddress = ours.String()
	})
	keys, err := e.srv.Mail.Keys.Published("nhs.test")
	if err != nil || len(keys) != 2 {
		t.Fatalf("published keys of nhs.test: %d %v", len(keys), err)
	}
	for _, k := range keys {
		d.AddRecords("nhs.test", testnet.TXT(k.Selector+"._domainkey", k.Record()))
	}

	e.mustSubmit("amira@nhs.test", []string{"dr.patel@gp.test"}, "Discharge summary", "Message-ID: <judge1@nhs.test>\r\n")
	got := peer.WaitMessages(t, 1)[0]
	ar := got.Header("Authentication-Results")
	all := strings.Join(ar, "\n")
	has := func(what string) bool {
		for _, a := range ar {
			if strings.HasPrefix(a, peer.Hostname+";") && strings.Contains(a, what) {
				return true
			}
		}
		return false
	}
	if !has("spf=pass") || !has("smtp.mailfrom=amira@nhs.test") && !has("smtp.mailfrom=nhs.test") {
		t.Errorf("policyd-spf did not write spf=pass for amira@nhs.test:\n%s", all)
	}
	if c := strings.Count(all, "dkim=pass"); c != 2 {
		t.Errorf("OpenDKIM wrote %d dkim=pass, want 2 (RSA and Ed25519):\n%s", c, all)
	}
	if !has("dmarc=pass") || !has("header.from=nhs.test") {
		t.Errorf("OpenDMARC did not write dmarc=pass header.from=nhs.test:\n%s", all)
	}
	// Every verdict of the three methods is pass (dkim-atps, RFC 6541,
	// is another method and not asked for).
	for _, m := range verdict.FindAllStringSubmatch(all, -1) {
		if m[2] != "pass" {
			t.Errorf("%s=%s:\n%s", m[1], m[2], all)
		}
	}

	// A host that nhs.test's SPF record does not name, with no signature,
	// says it is amira: policyd-spf judges spf=fail, and OpenDMARC refuses
	// it for the p=reject policy.
	forger := n.Host()
	dialer := net.Dialer{LocalAddr: &net.TCPAddr{IP: forger.AsSlice()}}
	conn, err := dialer.Dial("tcp", peer.SMTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	c := smtp.NewClient(conn)
	defer func() { _ = c.Close() }()
	if err := c.Hello("forger.example"); err != nil {
		t.Fatal(err)
	}
	forged := "From: Amira <amira@nhs.test>\r\nTo: dr.patel@gp.test\r\nSubject: Change of bank details\r\nMessage-ID: <forged@nhs.test>\r\n\r\nPlease pay us here.\r\n"
	err = c.SendMail("amira@nhs.test", []string{"dr.patel@gp.test"}, strings.NewReader(forged))
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 550 || !strings.Contains(strings.ToLower(se.Message), "dmarc") {
		t.Fatalf("the forged message was answered %v, want OpenDMARC's 550 for p=reject", err)
	}
	if msgs, _ := peer.Messages(); len(msgs) != 1 {
		t.Errorf("the peer's Maildir holds %d messages, want only the genuine one", len(msgs))
	}
}
