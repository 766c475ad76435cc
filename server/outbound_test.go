package server_test

import (
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-smtp"

	"wardmail/server"
	"wardmail/store"
	"wardmail/testnet"
)

// outEnv is a Wardmail on a test internet: its queue asks the test DNS and
// delivers to the test hosts' SMTP port.
type outEnv struct {
	*listEnv
	n *testnet.Net
}

func startOutbound(t *testing.T, n *testnet.Net, d *testnet.DNS, tweak func(*server.Config)) *outEnv {
	t.Helper()
	e := startListServer(t, []who{{"amira@nhs.test", leeds, "", ""}, {"ben@nhs.test", leeds, "", ""}}, func(cfg *server.Config) {
		cfg.DNSResolver = d.Resolver()
		cfg.Outbound.Port = n.Port
		cfg.Outbound.RetryBase = 100 * time.Millisecond
		cfg.Outbound.RetryMax = 200 * time.Millisecond
		cfg.Outbound.Tick = 50 * time.Millisecond
		if tweak != nil {
			tweak(cfg)
		}
	})
	return &outEnv{listEnv: e, n: n}
}

// waitQueued waits until no recipient of the message is queued any more
// (delivered, failed or held), and returns the queue's record of it.
func (e *outEnv) waitQueued(messageID string) *store.QueuedMessage {
	e.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ms, err := e.st.QueuedByMessageID(e.ctx, messageID)
		if err != nil {
			e.t.Fatal(err)
		}
		done := len(ms) > 0
		for _, m := range ms {
			for _, r := range m.Rcpts {
				done = done && r.State != store.QueueQueued
			}
		}
		if done {
			return ms[0]
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%s is still queued: %+v", messageID, describeQueued(ms))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func describeQueued(ms []*store.QueuedMessage) []string {
	var out []string
	for _, m := range ms {
		for _, r := range m.Rcpts {
			out = append(out, r.Rcpt+" "+r.State+" after "+itoa(r.Attempts)+" attempts: "+r.LastReply)
		}
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

// inboxTexts returns the whole messages in a person's INBOX, over IMAP.
func (e *outEnv) inboxTexts(email string) []string {
	e.t.Helper()
	c := e.imap(email, nil)
	defer c.Logout()
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		e.t.Fatal(err)
	}
	msgs, err := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}, &imap.FetchOptions{
		BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		for _, b := range m.BodySection {
			out = append(out, string(b.Bytes))
		}
	}
	return out
}

// A person sends to an address at a GP practice on another provider (a
// Debian Postfix on the test internet): it arrives there, and the queue
// records the remote's 250 and its queue id.
func TestOutboundToPostfix(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	peer := n.StartPostfix(testnet.PostfixConfig{Domain: "gp.test"})
	d := n.StartDNS(testnet.Zone{Name: "gp.test", Records: peer.Records()})
	e := startOutbound(t, n, d, nil)

	e.mustSubmit("amira@nhs.test", []string{"dr.patel@gp.test", "ben@nhs.test"}, "Discharge summary", "Message-ID: <out1@nhs.test>\r\n")
	got := peer.WaitMessages(t, 1)[0]
	if s := got.Header("Subject"); len(s) != 1 || s[0] != "Discharge summary" {
		t.Fatalf("Subject at the peer = %q\n%s", s, got.Data)
	}
	if rp := got.Header("Return-Path"); len(rp) != 1 || rp[0] != "<amira@nhs.test>" {
		t.Errorf("Return-Path at the peer = %q (ours must not leave, theirs names the sender)", rp)
	}
	if rcv := strings.Join(got.Header("Received"), "\n"); !strings.Contains(rcv, "mx.nhs.test") || !strings.Contains(rcv, "TLS") {
		t.Errorf("Received at the peer = %q, want our hop over TLS", rcv)
	}
	m := e.waitQueued("<out1@nhs.test>")
	r := m.Rcpts[0]
	if r.State != store.QueueDelivered || r.LastCode != 250 || !strings.Contains(r.LastReply, "queued as") || r.MX != "mx.gp.test" || !strings.HasPrefix(r.TLS, "TLS") {
		t.Fatalf("queue record: %+v", r)
	}
	// The local recipient had it at once, as before.
	if s := e.subjects("ben@nhs.test"); len(s) != 1 || s[0] != "Discharge summary" {
		t.Fatalf("ben's INBOX: %q", s)
	}
	// Operators see it in the metrics: one delivered, over TLS.
	families, err := e.srv.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			key := f.GetName()
			for _, l := range m.GetLabel() {
				key += " " + l.GetName() + "=" + l.GetValue()
			}
			found[key] = m.GetCounter().GetValue()
		}
	}
	if found["wardmail_outbound_recipients_total reason= result=delivered"] != 1 || found["wardmail_outbound_connections_total tls=TLSv1.3"] < 1 {
		t.Errorf("metrics: delivered %v, TLSv1.3 connections %v", found["wardmail_outbound_recipients_total reason= result=delivered"], found["wardmail_outbound_connections_total tls=TLSv1.3"])
	}
}

// A server that answers 451 after DATA gets the message again, and takes it.
func TestOutboundRetriesTemporaryFailure(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	host := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.council.test", TempFail: 1})
	d := n.StartDNS(testnet.Zone{Name: "council.test", Records: append(host.Records(), testnet.MX("@", 10, "mx.council.test"))})
	e := startOutbound(t, n, d, nil)

	e.mustSubmit("amira@nhs.test", []string{"housing@council.test"}, "Care package", "Message-ID: <out2@nhs.test>\r\n")
	m := e.waitQueued("<out2@nhs.test>")
	if r := m.Rcpts[0]; r.State != store.QueueDelivered || r.Attempts != 2 {
		t.Fatalf("queue record: %+v", r)
	}
	trs := host.Transactions()
	if len(trs) != 2 || trs[0].Reply != 451 || trs[1].Reply != 250 {
		t.Fatalf("transactions: %d, replies %v", len(trs), replies(trs))
	}
	if !strings.Contains(string(trs[1].Data), "Subject: Care package") {
		t.Fatalf("second copy: %s", trs[1].Data)
	}
}

// A greylisting server (450 at RCPT the first time) takes the retry.
func TestOutboundGreylisting(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	host := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.uni.test", Greylist: true})
	d := n.StartDNS(testnet.Zone{Name: "uni.test", Records: append(host.Records(), testnet.MX("@", 10, "mx.uni.test"))})
	e := startOutbound(t, n, d, nil)

	e.mustSubmit("amira@nhs.test", []string{"research@uni.test"}, "Trial data", "Message-ID: <out3@nhs.test>\r\n")
	m := e.waitQueued("<out3@nhs.test>")
	if r := m.Rcpts[0]; r.State != store.QueueDelivered || r.Attempts < 2 {
		t.Fatalf("queue record: %+v", r)
	}
	if got := len(host.Received()); got != 1 {
		t.Fatalf("accepted copies: %d, want 1", got)
	}
}

// A server that refuses the recipient (550 5.1.1): the sender finds a
// failure notice in their INBOX with the remote server's own words, and the
// message is not tried again.
func TestOutboundPermanentFailureNotice(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	host := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.supplier.test", Reject: true})
	d := n.StartDNS(testnet.Zone{Name: "supplier.test", Records: append(host.Records(), testnet.MX("@", 10, "mx.supplier.test"))})
	e := startOutbound(t, n, d, nil)

	e.mustSubmit("amira@nhs.test", []string{"orders@supplier.test"}, "Gloves order", "Message-ID: <out4@nhs.test>\r\n")
	m := e.waitQueued("<out4@nhs.test>")
	if r := m.Rcpts[0]; r.State != store.QueueFailed || r.LastCode != 550 || r.Attempts != 1 {
		t.Fatalf("queue record: %+v", r)
	}
	var notice string
	for deadline := time.Now().Add(30 * time.Second); notice == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, msg := range e.inboxTexts("amira@nhs.test") {
			if strings.Contains(msg, "Undeliverable: Gloves order") {
				notice = msg
			}
		}
	}
	for _, want := range []string{"could not be delivered to", "orders@supplier.test", "mx.supplier.test",
		"550 5.1.1 No such user here", "multipart/report; report-type=delivery-status", "Action: failed", "Status: 5.1.1",
		"Subject: Gloves order"} {
		if !strings.Contains(notice, want) {
			t.Errorf("the notice lacks %q:\n%s", want, notice)
		}
	}
	if len(host.Transactions()) != 1 {
		t.Errorf("transactions: %d, want 1 (no retry after 5xx)", len(host.Transactions()))
	}
}

// A server that drops the connection after the message, without a reply:
// the message may have arrived, so it is tried again (RFC 5321's
// at-least-once), and the queue says why it waits.
func TestOutboundDropAfterData(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	host := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.flaky.test", DropAfterData: true})
	d := n.StartDNS(testnet.Zone{Name: "flaky.test", Records: append(host.Records(), testnet.MX("@", 10, "mx.flaky.test"))})
	e := startOutbound(t, n, d, nil)

	e.mustSubmit("amira@nhs.test", []string{"pat@flaky.test"}, "Appointment", "Message-ID: <out5@nhs.test>\r\n")
	deadline := time.Now().Add(30 * time.Second)
	for len(host.Transactions()) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if len(host.Transactions()) < 2 {
		t.Fatalf("transactions: %d, want a retry", len(host.Transactions()))
	}
	ms, err := e.st.QueuedByMessageID(e.ctx, "<out5@nhs.test>")
	if err != nil || len(ms) != 1 {
		t.Fatal(ms, err)
	}
	if r := ms[0].Rcpts[0]; r.State != store.QueueQueued || !strings.Contains(r.LastReply, "after the message was sent") {
		t.Fatalf("queue record: %+v", r)
	}
}

func replies(trs []testnet.Transaction) []int {
	var out []int
	for _, tr := range trs {
		out = append(out, tr.Reply)
	}
	return out
}

// A destination that cannot be reached: the national administrators' queue
// view shows it deferred with the reason, and holding and releasing its
// mail through the API is audited. A local administrator may not look.
func TestQueueAPI(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	dead := n.Host()
	d := n.StartDNS(testnet.Zone{Name: "down.test", Records: []testnet.Record{testnet.MX("@", 10, "mx.down.test"), testnet.A("mx", dead)}})
	e := startOutbound(t, n, d, func(cfg *server.Config) { cfg.Outbound.RetryBase, cfg.Outbound.RetryMax = time.Hour, time.Hour })
	e.upsert(who{"nat@nhs.test", barts, "IT", "RLH"}, who{"loc@nhs.test", leeds, "IT", "LGI"})
	for email, role := range map[string]string{"nat@nhs.test": store.RoleNational, "loc@nhs.test": store.RoleLocal} {
		p, err := e.st.PersonByEmail(e.ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		org := p.OrgID
		if role == store.RoleNational {
			org = 0
		}
		if err := e.st.GrantAdmin(e.ctx, "test", p.ID, role, org); err != nil {
			t.Fatal(err)
		}
	}
	e.mustSubmit("amira@nhs.test", []string{"a@down.test", "b@down.test"}, "Referral", "Message-ID: <q1@nhs.test>\r\n")
	nat := newAPIClient(t, e.srv, "nat@nhs.test")
	type view struct {
		Domains  []store.QueueDomain    `json:"domains"`
		Messages []*store.QueuedMessage `json:"messages"`
	}
	var v view
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if code := nat.call("GET", "/api/v1/admin/queue", nil, &v); code != 200 {
			t.Fatalf("GET queue: %d", code)
		}
		if len(v.Domains) == 1 && v.Domains[0].Deferred == 2 {
			break
		}
	}
	if len(v.Domains) != 1 || v.Domains[0].Domain != "down.test" || v.Domains[0].Deferred != 2 || !strings.Contains(v.Domains[0].LastError, "connecting to mx.down.test") {
		t.Fatalf("domains: %+v", v.Domains)
	}
	if len(v.Messages) != 1 || len(v.Messages[0].Rcpts) != 2 || v.Messages[0].Subject != "Referral" {
		t.Fatalf("messages: %+v", v.Messages)
	}
	var res struct{ Recipients int64 }
	if code := nat.call("POST", "/api/v1/admin/queue/domains/down.test/hold", nil, &res); code != 200 || res.Recipients != 2 {
		t.Fatalf("hold: %d %+v", code, res)
	}
	nat.call("GET", "/api/v1/admin/queue", nil, &v)
	if v.Domains[0].Held != 2 || v.Domains[0].Queued != 0 {
		t.Fatalf("after hold: %+v", v.Domains)
	}
	id := v.Messages[0].QueueID
	if code := nat.call("POST", "/api/v1/admin/queue/"+id+"/release", nil, &res); code != 200 || res.Recipients != 2 {
		t.Fatalf("release: %d %+v", code, res)
	}
	var m store.QueuedMessage
	if code := nat.call("GET", "/api/v1/admin/queue/"+id, nil, &m); code != 200 || m.Rcpts[0].State != store.QueueQueued {
		t.Fatalf("show: %d %+v", code, m)
	}
	var audit struct {
		Entries []struct{ Action, Actor, Target string } `json:"entries"`
	}
	nat.call("GET", "/api/v1/admin/audit", nil, &audit)
	var actions []string
	for _, a := range audit.Entries {
		if strings.HasPrefix(a.Action, "queue.") {
			actions = append(actions, a.Action+" "+a.Target+" by "+a.Actor)
		}
	}
	if len(actions) != 2 {
		t.Errorf("audit: %q, want the hold and the release", actions)
	}
	if code := newAPIClient(t, e.srv, "loc@nhs.test").call("GET", "/api/v1/admin/queue", nil, nil); code != 403 {
		t.Errorf("a local administrator reading the queue: %d, want 403", code)
	}
}

// grantNational makes a national administrator.
func (e *outEnv) grantNational(email string) {
	e.t.Helper()
	e.upsert(who{email, barts, "IT", "RLH"})
	p, err := e.st.PersonByEmail(e.ctx, email)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.GrantAdmin(e.ctx, "test", p.ID, store.RoleNational, 0); err != nil {
		e.t.Fatal(err)
	}
}

// waitInbox waits for a message in a person's INBOX that contains want.
func (e *outEnv) waitInbox(email, want string) string {
	e.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, msg := range e.inboxTexts(email) {
			if strings.Contains(msg, want) {
				return msg
			}
		}
	}
	e.t.Fatalf("%s never received a message with %q", email, want)
	return ""
}

// A clinic's server takes the message and later sends a bounce back (its
// mailbox was full): the bounce reaches the sender like any mail, and the
// administrators' message trace shows, per outside recipient, the remote's
// 250 with its queue id and the notice that came back.
func TestOutboundReturnedNoticeInTrace(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	host := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.clinic.test"})
	d := n.StartDNS(testnet.Zone{Name: "clinic.test", Records: append(host.Records(), testnet.MX("@", 10, "mx.clinic.test"))})
	e := startOutbound(t, n, d, nil)
	e.grantNational("nat@nhs.test")
	e.mustSubmit("amira@nhs.test", []string{"gp@clinic.test"}, "Blood results", "Message-ID: <t1@nhs.test>\r\n")
	e.waitQueued("<t1@nhs.test>")

	dsn := "From: MAILER-DAEMON@mx.clinic.test\r\nTo: amira@nhs.test\r\nSubject: Undelivered Mail Returned to Sender\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain\r\n\r\nThe mailbox is full.\r\n" +
		"--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.clinic.test\r\n\r\n" +
		"Final-Recipient: rfc822; gp@clinic.test\r\nAction: failed\r\nStatus: 5.2.2\r\nDiagnostic-Code: smtp; 552 5.2.2 mailbox full\r\n" +
		"--b1\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: amira@nhs.test\r\nSubject: Blood results\r\nMessage-ID: <t1@nhs.test>\r\n\r\n" +
		"--b1--\r\n"
	c, err := smtp.Dial(e.srv.Addrs["smtp"])
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendMail("", []string{"amira@nhs.test"}, strings.NewReader(dsn)); err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	e.waitInbox("amira@nhs.test", "The mailbox is full.")

	var out struct{ Messages []store.Trace }
	if code := newAPIClient(t, e.srv, "nat@nhs.test").call("GET", "/api/v1/admin/trace?message_id="+url.QueryEscape("<t1@nhs.test>"), nil, &out); code != 200 {
		t.Fatalf("trace: %d", code)
	}
	traces := out.Messages
	if len(traces) != 1 || len(traces[0].Outbound) != 1 {
		t.Fatalf("trace: %+v", traces)
	}
	r := traces[0].Outbound[0]
	if r.Rcpt != "gp@clinic.test" || r.State != store.QueueDelivered || r.MX != "mx.clinic.test" || !strings.HasPrefix(r.LastReply, "250") ||
		!strings.Contains(r.RemoteDSN, "failed 5.2.2") || !strings.Contains(r.RemoteDSN, "mailbox full") {
		t.Fatalf("traced recipient: %+v", r)
	}
}

// A message that keeps being deferred: after the delay-notice time the
// sender is told once, in plain words, that it waits and until when.
func TestOutboundDelayNotice(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	host := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.busy.test", TempFail: 1 << 20})
	d := n.StartDNS(testnet.Zone{Name: "busy.test", Records: append(host.Records(), testnet.MX("@", 10, "mx.busy.test"))})
	e := startOutbound(t, n, d, func(cfg *server.Config) { cfg.Outbound.DelayNotice = 300 * time.Millisecond })
	e.mustSubmit("amira@nhs.test", []string{"rota@busy.test"}, "Rota change", "Message-ID: <dl@nhs.test>\r\n")
	notice := e.waitInbox("amira@nhs.test", "Delayed: Rota change")
	for _, want := range []string{"has not been delivered yet", "rota@busy.test", "451 4.3.0", "keeps trying until", "Action: delayed", "Will-Retry-Until:"} {
		if !strings.Contains(notice, want) {
			t.Errorf("the delay notice lacks %q:\n%s", want, notice)
		}
	}
	// More attempts, still one notice.
	for deadline := time.Now().Add(30 * time.Second); len(host.Transactions()) < 6 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	count := 0
	for _, msg := range e.inboxTexts("amira@nhs.test") {
		if strings.Contains(msg, "Delayed: Rota change") {
			count++
		}
	}
	if count != 1 {
		t.Errorf("%d delay notices, want 1", count)
	}
}

// A domain that publishes a null MX (RFC 7505) takes no mail: the sender is
// told at once, and nothing is tried. A domain that does not exist fails the
// same way.
func TestOutboundNullMXAndNoDomain(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	d := n.StartDNS(testnet.Zone{Name: "nomail.test", Records: []testnet.Record{testnet.MX("@", 0, ".")}})
	e := startOutbound(t, n, d, nil)
	e.mustSubmit("amira@nhs.test", []string{"x@nomail.test"}, "Nowhere", "Message-ID: <nm@nhs.test>\r\n")
	if r := e.waitQueued("<nm@nhs.test>").Rcpts[0]; r.State != store.QueueFailed || r.LastCode != 556 || !strings.Contains(r.LastReply, "null MX") {
		t.Fatalf("queue record: %+v", r)
	}
	notice := e.waitInbox("amira@nhs.test", "Undeliverable: Nowhere")
	if !strings.Contains(notice, "does not accept mail") {
		t.Errorf("notice:\n%s", notice)
	}
	e.mustSubmit("amira@nhs.test", []string{"x@nosuchdomain.test"}, "Typo", "Message-ID: <nd@nhs.test>\r\n")
	if r := e.waitQueued("<nd@nhs.test>").Rcpts[0]; r.State != store.QueueFailed || !strings.Contains(r.LastReply, "does not exist") {
		t.Fatalf("queue record: %+v", r)
	}
}

// The inbound door never relays, so a forged sender of inbound mail can
// never be sent a bounce (no backscatter): mail from outside to another
// outside address is refused at RCPT.
func TestInboundDoorDoesNotRelay(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	d := n.StartDNS(testnet.Zone{Name: "else.test", Records: []testnet.Record{testnet.MX("@", 10, "mx.else.test")}})
	e := startOutbound(t, n, d, nil)
	c, err := smtp.Dial(e.srv.Addrs["smtp"])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.SendMail("forged@victim.test", []string{"someone@else.test"}, strings.NewReader("Subject: spam\r\n\r\nx\r\n"))
	if code(err) != "554 5.7.1" {
		t.Fatalf("relay attempt: %v, want 554 5.7.1", err)
	}
	if ms, _ := e.st.QueueList(e.ctx, store.QueueFilter{}); len(ms) != 0 {
		t.Fatalf("queued: %+v", ms)
	}
}

// The demo, both ways: a person writes from the webmail to a GP on another
// provider (Debian's Postfix on the test internet), and the GP's reply comes
// back through the internet to Wardmail's inbound door and into the INBOX.
func TestOutboundWebmailAndReplyFromTheInternet(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	peer := n.StartPostfix(testnet.PostfixConfig{Domain: "gp.test"})
	us := n.Host()
	d := n.StartDNS(testnet.Zone{Name: "gp.test", Records: peer.Records()},
		testnet.Zone{Name: "nhs.test", Records: []testnet.Record{testnet.MX("@", 10, "mx.nhs.test"), testnet.A("mx", us)}})
	e := startOutbound(t, n, d, func(cfg *server.Config) { cfg.SMTPAddr = net.JoinHostPort(us.String(), strconv.Itoa(n.Port)) })

	var sent map[string]any
	if code := newAPIClient(t, e.srv, "amira@nhs.test").call("POST", "/api/v1/send", map[string]any{
		"to": []string{"dr.patel@gp.test"}, "subject": "Mrs Jones, discharge", "text": "Discharged today; please review in a week."}, &sent); code != 200 {
		t.Fatalf("send: %d %v", code, sent)
	}
	got := peer.WaitMessages(t, 1)[0]
	if s := got.Header("Subject"); len(s) != 1 || s[0] != "Mrs Jones, discharge" || !strings.Contains(string(got.Data), "please review in a week") {
		t.Fatalf("at the GP:\n%s", got.Data)
	}
	reply := "From: Dr Patel <dr.patel@gp.test>\r\nTo: amira@nhs.test\r\nSubject: Re: Mrs Jones, discharge\r\n" +
		"Message-ID: <reply1@gp.test>\r\nDate: Wed, 02 Dec 2026 10:00:00 +0000\r\n\r\nThanks, booked for next Wednesday.\r\n"
	if err := peer.Send("dr.patel@gp.test", []string{"amira@nhs.test"}, []byte(reply)); err != nil {
		t.Fatal(err)
	}
	e.waitInbox("amira@nhs.test", "booked for next Wednesday")
}

// More destinations and connections per destination than connections in
// all (outbound_max_connections 2, 10 per destination, 3 destinations): a
// worker that waits for a connection takes one its destination has finished
// with, so every message arrives, once.
func TestOutboundSharesFewConnections(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	var zones []testnet.Zone
	var hosts []*testnet.SMTPHost
	for _, name := range []string{"a.test", "b.test", "c.test"} {
		h := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx." + name})
		hosts = append(hosts, h)
		zones = append(zones, testnet.Zone{Name: name, Records: append(h.Records(), testnet.MX("@", 10, "mx."+name))})
	}
	d := n.StartDNS(zones...)
	e := startOutbound(t, n, d, func(cfg *server.Config) {
		cfg.Outbound.MaxConns, cfg.Outbound.DomainConns, cfg.Outbound.Paused = 2, 10, true
		cfg.SenderLimitsOff = true
	})
	const per = 20
	for i := 0; i < per; i++ {
		e.mustSubmit("amira@nhs.test", []string{"x@a.test", "y@b.test", "z@c.test"}, "m"+strconv.Itoa(i))
	}
	e.srv.Queue.Start()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if size, _, err := e.st.QueueSize(e.ctx); err == nil && size == 0 {
			break
		}
	}
	for i, h := range hosts {
		if got := len(h.Received()); got != per {
			t.Errorf("%s received %d of %d", []string{"a", "b", "c"}[i], got, per)
		}
	}
}

// A purge also withdraws the copies queued for other servers that have not
// left yet: they are never sent.
func TestPurgeWithdrawsQueuedCopies(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	dead := n.Host()
	d := n.StartDNS(testnet.Zone{Name: "down.test", Records: []testnet.Record{testnet.MX("@", 10, "mx.down.test"), testnet.A("mx", dead)}})
	e := startOutbound(t, n, d, func(cfg *server.Config) { cfg.Outbound.RetryBase, cfg.Outbound.RetryMax = time.Hour, time.Hour })
	e.grantNational("nat@nhs.test")
	e.mustSubmit("amira@nhs.test", []string{"a@down.test", "ben@nhs.test"}, "Wrong patient", "Message-ID: <p1@nhs.test>\r\n")
	var res store.PurgeResult
	if code := newAPIClient(t, e.srv, "nat@nhs.test").call("POST", "/api/v1/admin/purge", map[string]any{"message_id": "<p1@nhs.test>"}, &res); code != 200 {
		t.Fatalf("purge: %d", code)
	}
	if res.Outbound != 1 || res.Removed != 1 {
		t.Fatalf("purge result: %+v", res)
	}
	ms, err := e.st.QueuedByMessageID(e.ctx, "<p1@nhs.test>")
	if err != nil || len(ms) != 1 || ms[0].Rcpts[0].State != store.QueueDeleted {
		t.Fatalf("queue after the purge: %+v %v", ms, err)
	}
}
