package dkimsign_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-smtp"

	"wardmail/dkimsign"
	"wardmail/testnet"
)

const message = "From: Ward Seven <ward7@nhs.test>\r\nTo: gp@gp.test\r\nSubject: referral\r\n" +
	"Date: Wed, 02 Dec 2026 10:00:00 +0000\r\nMessage-ID: <r1@nhs.test>\r\n\r\nPlease see the patient.\r\n"

// A Postfix peer with OpenDKIM, an independent verifier, finds both of our
// signatures (RSA and Ed25519) good.
func TestOpenDKIMVerifiesBothSignatures(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	peer := n.StartPostfix(testnet.PostfixConfig{Domain: "gp.test"})
	keys := dkimsign.Open(t.TempDir(), nil)
	if err := keys.Ensure("nhs.test"); err != nil {
		t.Fatal(err)
	}
	pub, err := keys.Published("nhs.test")
	if err != nil {
		t.Fatal(err)
	}
	ours := n.Host()
	nhs := []testnet.Record{testnet.MX("@", 10, "mx.nhs.test"), testnet.A("mx", ours),
		testnet.TXT("@", "v=spf1 ip4:"+ours.String()+" -all")}
	for _, k := range pub {
		nhs = append(nhs, testnet.TXT(k.Selector+"._domainkey", k.Record()))
	}
	n.StartDNS(testnet.Zone{Name: "gp.test", Records: peer.Records()},
		testnet.Zone{Name: "nhs.test", Signed: true, Records: nhs})

	sig, err := dkimsign.Signer{Keys: keys}.Sign(context.Background(), "nhs.test", []byte(message))
	if err != nil {
		t.Fatal(err)
	}
	if got := bytes.Count(sig, []byte("DKIM-Signature:")); got != 2 {
		t.Fatalf("want 2 signatures, got %d:\n%s", got, sig)
	}
	d := net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: ours.AsSlice()}}
	conn, err := d.Dial("tcp", peer.SMTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	c := smtp.NewClient(conn)
	defer func() { _ = c.Close() }()
	if err := c.Hello("mx.nhs.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.SendMail("ward7@nhs.test", []string{"gp@gp.test"}, bytes.NewReader(append(sig, message...))); err != nil {
		t.Fatal(err)
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}
	got := peer.WaitMessages(t, 1)[0]
	ar := strings.Join(got.Header("Authentication-Results"), "\n")
	for _, k := range pub {
		alg := "rsa-sha256"
		if k.Algorithm == dkimsign.Ed25519 {
			alg = "ed25519-sha256"
		}
		found := false
		for _, res := range strings.Split(ar, "dkim=")[1:] {
			if strings.HasPrefix(res, "pass") && strings.Contains(res, "header.s="+k.Selector) &&
				strings.Contains(res, "header.d=nhs.test") && strings.Contains(res, "header.a="+alg) {
				found = true
			}
		}
		if !found {
			t.Errorf("OpenDKIM did not pass the %s signature (selector %s):\n%s\nmaillog:\n%s", k.Algorithm, k.Selector, ar, peer.Log())
		}
	}
}

// Rotation publishes the new keys first, switches signing after the overlap,
// and removes the old keys an overlap later.
func TestRotationTimeline(t *testing.T) {
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	keys := dkimsign.Open(dir, func() time.Time { return now })
	if err := keys.Ensure("nhs.test"); err != nil {
		t.Fatal(err)
	}
	selectors := func() string {
		t.Helper()
		ks, err := keys.Published("nhs.test")
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, k := range ks {
			s = append(s, k.Selector)
		}
		return strings.Join(s, " ")
	}
	signedWith := func() string {
		t.Helper()
		sig, err := dkimsign.Signer{Keys: keys}.Sign(context.Background(), "nhs.test", []byte(message))
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, line := range strings.Split(string(sig), ";") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "s="); ok {
				s = append(s, v)
			}
		}
		return strings.Join(s, " ")
	}
	if got, want := selectors(), "wm20261202r wm20261202e"; got != want {
		t.Fatalf("first keys: %q, want %q", got, want)
	}
	if got := signedWith(); got != "wm20261202r wm20261202e" {
		t.Fatalf("signed with %q", got)
	}
	if _, err := keys.Rotate("nhs.test", 48*time.Hour); err != nil {
		t.Fatal(err)
	}
	if got, want := selectors(), "wm20261202r wm20261202e wm202612021r wm202612021e"; got != want {
		t.Fatalf("after rotate, published %q, want %q", got, want)
	}
	if got := signedWith(); got != "wm20261202r wm20261202e" {
		t.Fatalf("right after rotate, signed with %q: the new keys sign only after the overlap", got)
	}
	if _, err := keys.Rotate("nhs.test", 48*time.Hour); err == nil {
		t.Fatal("a second rotation before the first signs was allowed")
	}
	now = now.Add(48 * time.Hour)
	if got := signedWith(); got != "wm202612021r wm202612021e" {
		t.Fatalf("after the overlap, signed with %q", got)
	}
	if got := selectors(); !strings.Contains(got, "wm20261202r") {
		t.Fatalf("old key unpublished at the switch: %q", got)
	}
	now = now.Add(48 * time.Hour)
	if got, want := selectors(), "wm202612021r wm202612021e"; got != want {
		t.Fatalf("an overlap after the switch, published %q, want %q", got, want)
	}
	if err := keys.Prune("nhs.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "nhs.test", "wm20261202r.pem")); !os.IsNotExist(err) {
		t.Fatalf("old key file still there: %v", err)
	}
	fi, err := os.Stat(filepath.Join(dir, "nhs.test", "wm202612021e.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", fi.Mode().Perm())
	}
}

// Signatures verify with go-msgauth too, survive relaxed changes (folded
// header, trailing spaces), oversign From, and a parent domain's keys sign a
// subdomain's mail; an unknown domain gets no signature.
func TestSignVerifyAndOversign(t *testing.T) {
	keys := dkimsign.Open(t.TempDir(), nil)
	if err := keys.Ensure("nhs.test"); err != nil {
		t.Fatal(err)
	}
	pub, _ := keys.Published("nhs.test")
	lookup := func(name string) ([]string, error) {
		for _, k := range pub {
			if name == k.Selector+"._domainkey.nhs.test" {
				return []string{k.Record()}, nil
			}
		}
		return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	}
	s := dkimsign.Signer{Keys: keys}
	sig, err := s.Sign(context.Background(), "trust.nhs.test", []byte(message))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(sig, []byte("d=nhs.test")) {
		t.Fatalf("subdomain not signed by the parent's keys:\n%s", sig)
	}
	verify := func(msg string) []*dkim.Verification {
		vs, err := dkim.VerifyWithOptions(strings.NewReader(msg), &dkim.VerifyOptions{LookupTXT: lookup})
		if err != nil {
			t.Fatal(err)
		}
		return vs
	}
	relaxed := string(sig) + strings.Replace(message, "Subject: referral", "Subject:   referral  ", 1)
	for _, v := range verify(relaxed) {
		if v.Err != nil {
			t.Errorf("%s: %v", v.Domain, v.Err)
		}
	}
	added := string(sig) + "From: Mallory <boss@nhs.test>\r\n" + message
	for _, v := range verify(added) {
		if v.Err == nil {
			t.Errorf("a second From added on the way still verifies (From is not oversigned)")
		}
	}
	none, err := s.Sign(context.Background(), "elsewhere.example", []byte(message))
	if err != nil || none != nil {
		t.Fatalf("unknown domain: %q, %v", none, err)
	}
}
