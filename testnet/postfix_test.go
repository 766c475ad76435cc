package testnet_test

import (
	"strings"
	"testing"
	"time"

	"wardmail/testnet"
)

// Two independent MTAs on the test internet: sender.test's Postfix signs with
// OpenDKIM and finds receiver.test by its MX in the test DNS; receiver.test's
// Postfix verifies the signature with its own OpenDKIM, which fetched the key
// from the test DNS, and says so in Authentication-Results.
func TestPostfixToPostfixDKIMPass(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	start := time.Now()
	sender := n.StartPostfix(testnet.PostfixConfig{Domain: "sender.test"})
	receiver := n.StartPostfix(testnet.PostfixConfig{Domain: "receiver.test"})
	n.StartDNS(
		testnet.Zone{Name: "sender.test", Signed: true, Records: sender.Records()},
		testnet.Zone{Name: "receiver.test", Records: receiver.Records()},
	)
	t.Logf("testnet with DNS and two Postfix peers started in %v", time.Since(start).Round(time.Millisecond))

	msg := "From: Alice <alice@sender.test>\r\nTo: bob@receiver.test\r\nSubject: ward round\r\n" +
		"Message-ID: <1@sender.test>\r\nDate: Mon, 01 Dec 2025 09:00:00 +0000\r\n\r\nSee you at nine.\r\n"
	if err := sender.Send("alice@sender.test", []string{"bob@receiver.test"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	got := receiver.WaitMessages(t, 1)[0]
	t.Logf("delivered %v after the start", time.Since(start).Round(time.Millisecond))
	if sig := got.Header("DKIM-Signature"); len(sig) != 1 || !strings.Contains(sig[0], "d=sender.test") || !strings.Contains(sig[0], "s=peer") {
		t.Fatalf("DKIM-Signature = %q", sig)
	}
	ar := strings.Join(got.Header("Authentication-Results"), "\n")
	if !strings.Contains(ar, "mx.receiver.test") || !strings.Contains(ar, "dkim=pass") || !strings.Contains(ar, "header.d=sender.test") {
		t.Fatalf("Authentication-Results = %q\nmessage:\n%s", ar, got.Data)
	}
	if !strings.Contains(string(got.Data), "See you at nine.") {
		t.Fatalf("body lost:\n%s", got.Data)
	}
	// The hop went over STARTTLS, with the receiver's certificate from the test CA.
	if rcv := strings.Join(got.Header("Received"), "\n"); !strings.Contains(rcv, "TLS") {
		t.Errorf("Received = %q, want a TLS hop", rcv)
	}
}

// A signature made with another key than the one the DNS publishes fails at
// the receiver: the verifier is real, not a stamp that always says pass.
func TestPostfixDKIMFailsOnForgedKey(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	sender := n.StartPostfix(testnet.PostfixConfig{Domain: "sender.test"})
	receiver := n.StartPostfix(testnet.PostfixConfig{Domain: "receiver.test"})
	records := sender.Records()
	for i, r := range records {
		if r.Type == "TXT" && strings.HasPrefix(r.Data, "v=DKIM1") {
			// Another key than the one the sender signs with.
			other := n.StartPostfix(testnet.PostfixConfig{Domain: "other.test"})
			for _, o := range other.Records() {
				if strings.HasPrefix(o.Data, "v=DKIM1") {
					records[i].Data = o.Data
				}
			}
		}
	}
	n.StartDNS(
		testnet.Zone{Name: "sender.test", Records: records},
		testnet.Zone{Name: "receiver.test", Records: receiver.Records()},
	)
	msg := "From: alice@sender.test\r\nTo: bob@receiver.test\r\nSubject: forged\r\n\r\nhello\r\n"
	if err := sender.Send("alice@sender.test", []string{"bob@receiver.test"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	got := receiver.WaitMessages(t, 1)[0]
	ar := strings.Join(got.Header("Authentication-Results"), "\n")
	if !strings.Contains(ar, "dkim=fail") {
		t.Fatalf("Authentication-Results = %q, want dkim=fail", ar)
	}
}

// A Postfix peer follows the test DNS to a scripted host that answers 4xx
// first, and delivers on its retry: the route came from the MX record.
func TestPostfixRetriesToScriptedHost(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	sender := n.StartPostfix(testnet.PostfixConfig{Domain: "sender.test"})
	flaky := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.flaky.test", TLS: testnet.TLSValid, TempFail: 1})
	n.StartDNS(
		testnet.Zone{Name: "sender.test", Records: sender.Records()},
		testnet.Zone{Name: "flaky.test", Records: append(flaky.Records(), testnet.MX("@", 10, "mx.flaky.test"))},
	)
	msg := "From: alice@sender.test\r\nTo: carol@flaky.test\r\nSubject: again\r\n\r\nhello\r\n"
	if err := sender.Send("alice@sender.test", []string{"carol@flaky.test"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); len(flaky.Received()) == 0; {
		if time.Now().After(deadline) {
			t.Fatalf("not delivered; transactions %+v\nmaillog:\n%s", flaky.Transactions(), sender.Log())
		}
		if len(flaky.Transactions()) > 0 {
			if err := sender.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	tr := flaky.Transactions()
	if len(tr) < 2 || tr[0].Reply != 451 || tr[len(tr)-1].Reply != 250 || tr[len(tr)-1].TLS == nil {
		t.Fatalf("transactions %+v", tr)
	}
	if got := tr[len(tr)-1]; got.From != "alice@sender.test" || !strings.Contains(string(got.Data), "DKIM-Signature:") {
		t.Fatalf("delivered %q from %s", got.Data, got.From)
	}
}
