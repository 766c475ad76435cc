package server_test

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-smtp"

	"wardmail/inbound"
	"wardmail/server"
	"wardmail/store"
	"wardmail/testnet"
)

// inboundEnv is Wardmail's inbound door on a host of the test internet,
// answering for nhs.test, with its DNS from the test resolver.
type inboundEnv struct {
	*listEnv
	n    *testnet.Net
	dns  *testnet.DNS
	host netip.Addr
}

// startInbound starts the test DNS with zones (and nhs.test, whose MX is
// Wardmail) and Wardmail with sender authentication on.
func startInbound(t *testing.T, n *testnet.Net, tweak func(*server.Config), zones ...testnet.Zone) *inboundEnv {
	t.Helper()
	testnet.Need(t, "knotd", "unbound")
	host := n.Host()
	zones = append(zones, testnet.Zone{Name: "nhs.test", Records: []testnet.Record{
		testnet.MX("@", 10, "mx.nhs.test"), testnet.A("mx", host),
		testnet.TXT("@", "v=spf1 ip4:"+host.String()+" -all"),
	}})
	d := n.StartDNS(zones...)
	e := startListServer(t, []who{{email: "ward7@nhs.test", org: leeds}, {email: "amira.khan@nhs.test", org: leeds}}, func(c *server.Config) {
		c.SMTPAddr = netip.AddrPortFrom(host, uint16(n.Port)).String()
		c.DNSResolver = d.Resolver()
		c.LocalDomains = []string{"nhs.test"}
		if tweak != nil {
			tweak(c)
		}
	})
	if _, _, err := e.st.UpsertPeople(e.ctx, []store.PersonRecord{{Email: "amira.khan@nhs.test", Name: "Amira Khan", Org: leeds}}); err != nil {
		t.Fatal(err)
	}
	return &inboundEnv{listEnv: e, n: n, dns: d, host: host}
}

// sendFrom hands a message to Wardmail's inbound door as a server at addr
// would (a scripted sender of the test internet), and returns the reply to
// the message.
func (e *inboundEnv) sendFrom(addr netip.Addr, helo, mailFrom string, to []string, msg string) error {
	e.t.Helper()
	d := net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: addr.AsSlice()}}
	conn, err := d.Dial("tcp", e.srv.Addrs["smtp"])
	if err != nil {
		e.t.Fatal(err)
	}
	c := smtp.NewClient(conn)
	defer c.Close()
	if err := c.Hello(helo); err != nil {
		e.t.Fatal(err)
	}
	return c.SendMail(mailFrom, to, strings.NewReader(msg))
}

// folder returns the messages in a person's folder, over IMAP.
func (e *inboundEnv) folder(email, name string) [][]byte {
	e.t.Helper()
	c := e.imap(email, nil)
	sel, err := c.Select(name, nil).Wait()
	if err != nil {
		e.t.Fatal(err)
	}
	if sel.NumMessages == 0 {
		return nil
	}
	var all imap.SeqSet
	all.AddRange(1, sel.NumMessages)
	msgs, err := c.Fetch(all, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil {
		e.t.Fatal(err)
	}
	var out [][]byte
	for _, m := range msgs {
		for _, b := range m.BodySection {
			out = append(out, b.Bytes)
		}
	}
	return out
}

// waitFolder waits (up to a minute) for count messages in a folder.
func (e *inboundEnv) waitFolder(email, name string, count int) [][]byte {
	e.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		got := e.folder(email, name)
		if len(got) >= count {
			return got
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s's %s has %d messages, want %d", email, name, len(got), count)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// header returns the unfolded values of a header field.
func header(msg []byte, name string) []string {
	return testnet.Message{Data: bytes.ReplaceAll(msg, []byte("\r\n"), []byte("\n"))}.Header(name)
}

func smtpCode(err error) string {
	if se, ok := err.(*smtp.SMTPError); ok {
		return fmt.Sprintf("%d %d.%d.%d %s", se.Code, se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2], se.Message)
	}
	if err == nil {
		return "accepted"
	}
	return err.Error()
}

const doubleTheDose = "From: Amira Khan <amira.khan@nhs.test>\r\nTo: ward7@nhs.test\r\nSubject: Urgent: change of drug dose\r\n" +
	"Date: Tue, 01 Dec 2026 09:00:00 +0000\r\nMessage-ID: <dose@nhs.test>\r\n\r\nPlease double the dose.\r\n"

// The forged colleague of the incident report: a server outside sends as
// amira.khan@nhs.test, a local domain. It is refused at the door with the
// reason, and nobody receives it.
func TestInboundForgedColleagueRefused(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	e := startInbound(t, n, nil)
	attacker := n.Host()
	err := e.sendFrom(attacker, "mail.attacker.test", "amira.khan@nhs.test", []string{"ward7@nhs.test"}, doubleTheDose)
	got := smtpCode(err)
	if !strings.HasPrefix(got, "550 5.7.1 ") || !strings.Contains(got, "nhs.test") || !strings.Contains(got, "Forged") {
		t.Fatalf("reply = %s, want 550 5.7.1 naming the forged local domain", got)
	}
	// The envelope may name anyone: a forged From with an outside
	// envelope sender is refused as well.
	err = e.sendFrom(attacker, "mail.attacker.test", "bounce@attacker.test", []string{"ward7@nhs.test"}, doubleTheDose)
	if got := smtpCode(err); !strings.HasPrefix(got, "550 5.7.1 ") {
		t.Fatalf("with an outside envelope sender: reply = %s", got)
	}
	if msgs := e.folder("ward7@nhs.test", "INBOX"); len(msgs) != 0 {
		t.Fatalf("the forged message reached the INBOX:\n%s", msgs[0])
	}
}

// A Postfix peer with OpenDKIM (an independent signer) sends from
// clinic.test, which publishes SPF, a DKIM key and DMARC p=reject: SPF, DKIM
// and DMARC pass; the one Authentication-Results under Wardmail's
// authserv-id says so; a forged one claiming Wardmail's id is gone; and the
// webmail shows the outside banner.
func TestInboundPostfixAlignedPass(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	peer := n.StartPostfix(testnet.PostfixConfig{Domain: "clinic.test"})
	e := startInbound(t, n, nil, testnet.Zone{Name: "clinic.test", Signed: true,
		Records: append(peer.Records(), testnet.TXT("_dmarc", "v=DMARC1; p=reject"))})
	msg := "From: Dr Gita Patel <gp@clinic.test>\r\nTo: ward7@nhs.test\r\nSubject: referral\r\n" +
		"Authentication-Results: mx.nhs.test; dmarc=pass header.from=anything.test\r\n" +
		"Date: Tue, 01 Dec 2026 09:00:00 +0000\r\nMessage-ID: <ref1@clinic.test>\r\n\r\nPlease see Mr Jones today.\r\n"
	if err := peer.Send("gp@clinic.test", []string{"ward7@nhs.test"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	got := e.waitFolder("ward7@nhs.test", "INBOX", 1)[0]
	var ours []string
	for _, ar := range header(got, "Authentication-Results") {
		if strings.HasPrefix(ar, "mx.nhs.test;") {
			ours = append(ours, ar)
		}
	}
	if len(ours) != 1 {
		t.Fatalf("Authentication-Results of mx.nhs.test: %q, want exactly one\n%s", ours, got)
	}
	for _, want := range []string{"spf=pass", "smtp.mailfrom=clinic.test", "dkim=pass", "header.d=clinic.test", "dmarc=pass", "header.from=clinic.test"} {
		if !strings.Contains(ours[0], want) {
			t.Errorf("Authentication-Results %q lacks %q", ours[0], want)
		}
	}
	if o := header(got, "Wardmail-Origin"); len(o) != 1 || o[0] != "outside" {
		t.Errorf("Wardmail-Origin = %q, want outside", o)
	}
	var view struct {
		Subject string         `json:"subject"`
		Origin  inbound.Origin `json:"origin"`
	}
	api := newAPIClient(t, e.srv, "ward7@nhs.test")
	inbox := e.mailbox("ward7@nhs.test", "INBOX")
	if c := api.call("GET", fmt.Sprintf("/api/v1/folders/%d/messages/1?peek=1", inbox), nil, &view); c != 200 {
		t.Fatalf("reading the message: %d", c)
	}
	if !view.Origin.Outside || view.Origin.Banner != inbound.OutsideBanner || view.Origin.Strong {
		t.Errorf("webmail origin = %+v, want the outside banner", view.Origin)
	}
}

// mailbox returns the id of a person's folder.
func (e *inboundEnv) mailbox(email, name string) int64 {
	e.t.Helper()
	boxes, err := e.st.Mailboxes(e.ctx, e.id(email))
	if err != nil {
		e.t.Fatal(err)
	}
	for _, b := range boxes {
		if b.Name == name {
			return b.ID
		}
	}
	e.t.Fatalf("%s has no %s", email, name)
	return 0
}

// Scripted senders on hosts that no SPF record names, for domains with each
// DMARC policy: reject refuses at the door with the reason, quarantine
// delivers to Junk with the stronger banner, none delivers to the INBOX with
// spf=fail and dmarc=fail recorded.
func TestInboundDMARCPolicies(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	good := n.Host() // the only address the domains' SPF names
	zone := func(name, policy string) testnet.Zone {
		return testnet.Zone{Name: name, Records: []testnet.Record{
			testnet.TXT("@", "v=spf1 ip4:"+good.String()+" -all"),
			testnet.TXT("_dmarc", "v=DMARC1; p="+policy),
		}}
	}
	e := startInbound(t, n, nil, zone("reject.test", "reject"), zone("quarantine.test", "quarantine"), zone("none.test", "none"))
	bad := n.Host()
	msg := func(domain string) string {
		return "From: <billing@" + domain + ">\r\nTo: ward7@nhs.test\r\nSubject: invoice from " + domain +
			"\r\nDate: Tue, 01 Dec 2026 09:00:00 +0000\r\nMessage-ID: <" + domain + "@x>\r\n\r\nPay now.\r\n"
	}
	err := e.sendFrom(bad, "mail.elsewhere.test", "billing@reject.test", []string{"ward7@nhs.test"}, msg("reject.test"))
	if got := smtpCode(err); !strings.HasPrefix(got, "550 5.7.1 ") || !strings.Contains(got, "reject.test") || !strings.Contains(got, "DMARC") {
		t.Errorf("p=reject: reply = %s, want 550 5.7.1 naming DMARC and the domain", got)
	}
	if err := e.sendFrom(bad, "mail.elsewhere.test", "billing@quarantine.test", []string{"ward7@nhs.test"}, msg("quarantine.test")); err != nil {
		t.Fatalf("p=quarantine: %v", err)
	}
	if err := e.sendFrom(bad, "mail.elsewhere.test", "billing@none.test", []string{"ward7@nhs.test"}, msg("none.test")); err != nil {
		t.Fatalf("p=none: %v", err)
	}
	junk := e.folder("ward7@nhs.test", "Junk")
	if len(junk) != 1 || !bytes.Contains(junk[0], []byte("invoice from quarantine.test")) {
		t.Fatalf("Junk holds %d messages, want the quarantined one", len(junk))
	}
	o := inbound.ReadOrigin(junk[0], 0)
	if !o.Strong || o.Junk == "" || !strings.Contains(o.Banner, "quarantine.test") {
		t.Errorf("quarantined message's origin = %+v", o)
	}
	inbox := e.folder("ward7@nhs.test", "INBOX")
	if len(inbox) != 1 || !bytes.Contains(inbox[0], []byte("invoice from none.test")) {
		t.Fatalf("INBOX holds %d messages, want only the p=none one", len(inbox))
	}
	ar := strings.Join(header(inbox[0], "Authentication-Results"), "\n")
	for _, want := range []string{"spf=fail", "dkim=none", "dmarc=fail", "header.from=none.test"} {
		if !strings.Contains(ar, want) {
			t.Errorf("p=none: Authentication-Results %q lacks %q", ar, want)
		}
	}
}

// Outside senders dressed as insiders are delivered with the stronger
// banner: a domain that looks like nhs.test, and a display name of a person
// in the directory on an outside address.
func TestInboundLookAlikeSenders(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	sender := n.Host()
	spf := func(name string) testnet.Zone {
		return testnet.Zone{Name: name, Records: []testnet.Record{testnet.TXT("@", "v=spf1 ip4:"+sender.String()+" -all")}}
	}
	e := startInbound(t, n, nil, spf("nhs-test.org"), spf("nhs.tesst"), spf("webmail.test"))
	cases := []struct{ from, header, want string }{
		{"pharmacy@nhs-test.org", "Pharmacy <pharmacy@nhs-test.org>", "nhs-test.org looks like nhs.test"},
		{"it@nhs.tesst", "IT Service Desk <it@nhs.tesst>", "nhs.tesst looks like nhs.test"},
		{"amira.k@webmail.test", "Amira Khan <amira.k@webmail.test>", `"Amira Khan", the name of a person in the directory`},
		{"a.khan@webmail.test", "=?utf-8?q?=D0=90mira_Khan?= <a.khan@webmail.test>", "the name of a person in the directory"}, // Cyrillic А
	}
	for i, c := range cases {
		msg := fmt.Sprintf("From: %s\r\nTo: ward7@nhs.test\r\nSubject: look-alike %d\r\nDate: Tue, 01 Dec 2026 09:00:00 +0000\r\nMessage-ID: <la%d@x>\r\n\r\nClick here.\r\n", c.header, i, i)
		if err := e.sendFrom(sender, "mail.elsewhere.test", c.from, []string{"ward7@nhs.test"}, msg); err != nil {
			t.Fatalf("%s: %v", c.from, err)
		}
	}
	got := e.folder("ward7@nhs.test", "INBOX")
	if len(got) != len(cases) {
		t.Fatalf("INBOX holds %d messages, want %d:\n%s", len(got), len(cases), bytes.Join(got, []byte("\n----\n")))
	}
	for i, c := range cases {
		o := inbound.ReadOrigin(got[i], 0)
		if !o.Outside || !o.Strong || !strings.Contains(o.LookAlike, c.want) || !strings.HasPrefix(o.Banner, inbound.LookAlikeBanner) {
			t.Errorf("%s: origin = %+v, want a look-alike warning saying %q", c.from, o, c.want)
		}
	}
}

// A message that OpenDKIM signed for clinic.test (p=reject), replayed from a
// host its SPF does not name: intact, its DKIM signature alone makes DMARC
// pass; with one word of the body changed, the signature fails and the
// message is refused under clinic.test's policy.
func TestInboundDKIMBodyAltered(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	clinic := n.StartPostfix(testnet.PostfixConfig{Domain: "clinic.test"})
	sink := n.StartPostfix(testnet.PostfixConfig{Domain: "sink.test"})
	e := startInbound(t, n, nil,
		testnet.Zone{Name: "clinic.test", Records: append(clinic.Records(), testnet.TXT("_dmarc", "v=DMARC1; p=reject"))},
		testnet.Zone{Name: "sink.test", Records: sink.Records()})
	msg := "From: Dr Gita Patel <gp@clinic.test>\r\nTo: ward7@nhs.test\r\nSubject: results\r\n" +
		"Date: Tue, 01 Dec 2026 09:00:00 +0000\r\nMessage-ID: <dkim1@clinic.test>\r\n\r\nPotassium 4.1, normal.\r\n"
	if err := clinic.Send("gp@clinic.test", []string{"someone@sink.test"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	signed := crlf(sink.WaitMessages(t, 1)[0].Data)
	relay := n.Host()
	altered := bytes.Replace(signed, []byte("4.1, normal"), []byte("7.9, normal"), 1)
	err := e.sendFrom(relay, "relay.elsewhere.test", "gp@clinic.test", []string{"ward7@nhs.test"}, string(altered))
	if got := smtpCode(err); !strings.HasPrefix(got, "550 5.7.1 ") || !strings.Contains(got, "clinic.test") {
		t.Errorf("body altered: reply = %s, want 550 5.7.1 under clinic.test's policy", got)
	}
	if err := e.sendFrom(relay, "relay.elsewhere.test", "gp@clinic.test", []string{"ward7@nhs.test"}, string(signed)); err != nil {
		t.Fatalf("intact: %v", err)
	}
	got := e.folder("ward7@nhs.test", "INBOX")
	if len(got) != 1 || !bytes.Contains(got[0], []byte("4.1, normal")) {
		t.Fatalf("INBOX holds %d messages, want the intact one", len(got))
	}
	var ours string
	for _, ar := range header(got[0], "Authentication-Results") {
		if strings.HasPrefix(ar, "mx.nhs.test;") {
			ours = ar
		}
	}
	for _, want := range []string{"spf=fail", "dkim=pass", "header.d=clinic.test", "dmarc=pass"} {
		if !strings.Contains(ours, want) {
			t.Errorf("Authentication-Results %q lacks %q", ours, want)
		}
	}
}

// The audience preview marks outside addresses before anything is sent,
// and warns more strongly about one whose domain looks like a local one.
func TestAudienceMarksOutsideAddresses(t *testing.T) {
	e := startListServer(t, []who{{email: "ward7@nhs.test", org: leeds}, {email: "amira.khan@nhs.test", org: leeds}}, func(c *server.Config) {
		c.LocalDomains = []string{"nhs.test"}
	})
	api := newAPIClient(t, e.srv, "ward7@nhs.test")
	var aud struct {
		External []string `json:"external"`
		Warnings []string `json:"warnings"`
	}
	if c := api.call("POST", "/api/v1/audience", map[string]any{"to": []string{"amira.khan@nhs.test", "gp@clinic.test", "pharmacy@nhs-test.org"}}, &aud); c != 200 {
		t.Fatalf("audience: %d", c)
	}
	if strings.Join(aud.External, " ") != "gp@clinic.test pharmacy@nhs-test.org" {
		t.Errorf("external = %q", aud.External)
	}
	w := strings.Join(aud.Warnings, "\n")
	if !strings.Contains(w, "gp@clinic.test is outside the health service") ||
		!strings.Contains(w, "pharmacy@nhs-test.org is outside the health service, but nhs-test.org looks like nhs.test") ||
		strings.Contains(w, "amira.khan@nhs.test is outside") {
		t.Errorf("warnings:\n%s", w)
	}
}

// With inbound_subject_tag set, IMAP clients (which show no banner) see the
// tag before the subject of mail from outside, and the Wardmail-Origin
// header; mail from inside keeps its subject.
func TestInboundSubjectTagForIMAP(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	sender := n.Host()
	e := startInbound(t, n, func(c *server.Config) {
		if err := c.Set("inbound_subject_tag", "[EXTERNAL]"); err != nil {
			t.Fatal(err)
		}
	}, testnet.Zone{Name: "clinic.test", Records: []testnet.Record{testnet.TXT("@", "v=spf1 ip4:"+sender.String()+" -all")}})
	msg := "From: <gp@clinic.test>\r\nTo: ward7@nhs.test\r\nSubject: referral\r\nDate: Tue, 01 Dec 2026 09:00:00 +0000\r\nMessage-ID: <t1@x>\r\n\r\nHello.\r\n"
	if err := e.sendFrom(sender, "mx.clinic.test", "gp@clinic.test", []string{"ward7@nhs.test"}, msg); err != nil {
		t.Fatal(err)
	}
	e.mustSubmit("amira.khan@nhs.test", []string{"ward7@nhs.test"}, "from inside")
	c := e.imap("ward7@nhs.test", nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	var all imap.SeqSet
	all.AddRange(1, 2)
	msgs, err := c.Fetch(all, &imap.FetchOptions{Envelope: true, BodySection: []*imap.FetchItemBodySection{{Specifier: imap.PartSpecifierHeader, Peek: true}}}).Collect()
	if err != nil || len(msgs) != 2 {
		t.Fatalf("fetch: %v (%d)", err, len(msgs))
	}
	if s := msgs[0].Envelope.Subject; s != "[EXTERNAL] referral" {
		t.Errorf("outside subject = %q", s)
	}
	if o := header(msgs[0].BodySection[0].Bytes, "Wardmail-Origin"); len(o) != 1 || o[0] != "outside" {
		t.Errorf("outside Wardmail-Origin = %q", o)
	}
	if s := msgs[1].Envelope.Subject; s != "from inside" {
		t.Errorf("inside subject = %q", s)
	}
	if o := header(msgs[1].BodySection[0].Bytes, "Wardmail-Origin"); len(o) != 0 {
		t.Errorf("inside Wardmail-Origin = %q", o)
	}
}

// A person cannot write the banner: a Wardmail-Origin field in submitted
// mail is removed, so the webmail shows no words of the sender's as a
// warning.
func TestSubmittedOriginFieldRemoved(t *testing.T) {
	e := startListServer(t, []who{{email: "ward7@nhs.test", org: leeds}, {email: "amira.khan@nhs.test", org: leeds}}, nil)
	e.mustSubmit("amira.khan@nhs.test", []string{"ward7@nhs.test"}, "hi", `Wardmail-Origin: outside; look-alike="verify your password at evil.example"`+"\r\n")
	c := e.imap("ward7@nhs.test", nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("fetch: %v", err)
	}
	if o := inbound.ReadOrigin(msgs[0].BodySection[0].Bytes, 0); o.Outside {
		t.Errorf("the sender's own Wardmail-Origin survived: %+v", o)
	}
}
