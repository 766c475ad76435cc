package testnet_test

import (
	"fmt"
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
	d := n.StartDNS(
		testnet.Zone{Name: "sender.test", Signed: true, Records: sender.Records()},
		testnet.Zone{Name: "receiver.test", Records: receiver.Records()},
	)
	t.Logf("testnet with DNS and two Postfix peers started in %v", time.Since(start).Round(time.Millisecond))
	_ = d

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

// A message whose body changed after signing fails at the receiver: the
// verifier is real, not a stamp that always says pass.
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
	msg := fmt.Sprintf("From: alice@sender.test\r\nTo: bob@receiver.test\r\nSubject: forged\r\n\r\nhello\r\n")
	if err := sender.Send("alice@sender.test", []string{"bob@receiver.test"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	got := receiver.WaitMessages(t, 1)[0]
	ar := strings.Join(got.Header("Authentication-Results"), "\n")
	if !strings.Contains(ar, "dkim=fail") {
		t.Fatalf("Authentication-Results = %q, want dkim=fail", ar)
	}
}
