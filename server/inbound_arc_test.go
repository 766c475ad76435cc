package server_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"wardmail/server"
	"wardmail/testnet"
)

// arcSeal seals msg as a forwarder would, with dkimpy's arc_sign (Debian's
// python3-dkim: an ARC implementation independent of ours), for domain d
// with selector s, reporting the Authentication-Results of srvID. It
// returns the sealed message and the key record to publish.
func arcSeal(t *testing.T, msg []byte, d, s, srvID string) ([]byte, string) {
	t.Helper()
	py := "/usr/bin/python3"
	needDkimpy(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "arc.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	script := `import sys, dkim
msg = sys.stdin.buffer.read()
key = open(sys.argv[1], 'rb').read()
hdrs = dkim.arc_sign(msg, sys.argv[3].encode(), sys.argv[2].encode(), key, sys.argv[4].encode())
if not hdrs:
    sys.exit("arc_sign made no seal")
sys.stdout.buffer.write(b"".join(hdrs) + msg)
`
	cmd := exec.Command(py, "-c", script, keyFile, d, s, srvID)
	cmd.Stdin = bytes.NewReader(msg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("arc_sign: %v\n%s", err, stderr.String())
	}
	return out, "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(pub)
}

// crlf turns a Maildir file's line ends into the wire's.
func crlf(b []byte) []byte {
	return bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
}

// A clinic (p=reject) writes to a mailing list at forward.test; the list
// adds a tag to the subject, which breaks the clinic's DKIM signature, and
// ARC-seals what its OpenDKIM found on arrival. Wardmail trusts
// forward.test as a sealer: the forwarded copy is delivered with arc=pass.
// The same copy altered after sealing, and a copy sealed by a sealer
// Wardmail does not trust, are refused under the clinic's p=reject.
func TestInboundARCSealedForwardedMail(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	clinic := n.StartPostfix(testnet.PostfixConfig{Domain: "clinic.test"})
	list := n.StartPostfix(testnet.PostfixConfig{Domain: "forward.test"})
	e := startInbound(t, n, func(c *server.Config) { c.Inbound.TrustedSealers = []string{"forward.test"} },
		testnet.Zone{Name: "clinic.test", Records: append(clinic.Records(), testnet.TXT("_dmarc", "v=DMARC1; p=reject"))},
		testnet.Zone{Name: "forward.test", Records: list.Records()},
		testnet.Zone{Name: "untrusted.test", Records: []testnet.Record{testnet.TXT("@", "v=spf1 -all")}})

	msg := "From: Dr Gita Patel <gp@clinic.test>\r\nTo: ward-list@forward.test\r\nSubject: referral\r\n" +
		"Date: Tue, 01 Dec 2026 09:00:00 +0000\r\nMessage-ID: <arc1@clinic.test>\r\n\r\nPlease see Mr Jones today.\r\n"
	if err := clinic.Send("gp@clinic.test", []string{"ward-list@forward.test"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	arrived := crlf(list.WaitMessages(t, 1)[0].Data)
	if ar := header(arrived, "Authentication-Results"); len(ar) == 0 || !strings.Contains(ar[0], "dkim=pass") {
		t.Fatalf("the list's OpenDKIM found %q", ar)
	}
	// The list software tags the subject (the clinic signed Subject).
	tagged := bytes.Replace(arrived, []byte("Subject: referral"), []byte("Subject: [ward-list] referral"), 1)

	sealed, rec := arcSeal(t, tagged, "forward.test", "arc", "mx.forward.test")
	e.dns.AddRecords("forward.test", testnet.TXT("arc._domainkey", rec))
	other, otherRec := arcSeal(t, tagged, "untrusted.test", "arc", "mx.forward.test")
	e.dns.AddRecords("untrusted.test", testnet.TXT("arc._domainkey", otherRec))
	altered := bytes.Replace(sealed, []byte("Mr Jones"), []byte("Mr Smith"), 1)

	send := func(m []byte) error {
		return e.sendFrom(list.Addr, list.Hostname, "ward-list-bounces@forward.test", []string{"ward7@nhs.test"}, string(m))
	}
	if got := smtpCode(send(altered)); !strings.HasPrefix(got, "550 5.7.1 ") || !strings.Contains(got, "clinic.test") {
		t.Errorf("altered after sealing: reply = %s, want 550 5.7.1 under clinic.test's policy", got)
	}
	if got := smtpCode(send(other)); !strings.HasPrefix(got, "550 5.7.1 ") {
		t.Errorf("sealed by an untrusted sealer: reply = %s, want 550 5.7.1", got)
	}
	if err := send(sealed); err != nil {
		t.Fatalf("sealed by the trusted list: %v", err)
	}
	got := e.folder("ward7@nhs.test", "INBOX")
	if len(got) != 1 || !bytes.Contains(got[0], []byte("[ward-list] referral")) {
		t.Fatalf("INBOX holds %d messages, want the forwarded one", len(got))
	}
	ar := header(got[0], "Authentication-Results")[0]
	for _, want := range []string{"mx.nhs.test;", "arc=pass", "dkim=fail", "header.d=clinic.test", "dmarc=fail", "overridden by arc"} {
		if !strings.Contains(ar, want) {
			t.Errorf("Authentication-Results %q lacks %q", ar, want)
		}
	}
}

// A message signed with Ed25519 (RFC 8463) by dkimpy, sent from a host its
// domain's SPF does not name, under DMARC p=reject: the Ed25519 signature
// alone makes it pass; the same message with its subject changed is refused.
func TestInboundEd25519DKIM(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	e := startInbound(t, n, nil, testnet.Zone{Name: "ed.test", Records: []testnet.Record{
		testnet.TXT("@", "v=spf1 -all"),
		testnet.TXT("_dmarc", "v=DMARC1; p=reject"),
		testnet.TXT("ed._domainkey", "v=DKIM1; k=ed25519; p="+base64.StdEncoding.EncodeToString(pub)),
	}})
	needDkimpy(t)
	script := `import sys, base64, dkim
msg = sys.stdin.buffer.read()
sig = dkim.sign(msg, b"ed", b"ed.test", sys.argv[1].encode(), signature_algorithm=b"ed25519-sha256", include_headers=[b"from", b"to", b"subject"])
sys.stdout.buffer.write(sig + msg)
`
	cmd := exec.Command("/usr/bin/python3", "-c", script, base64.StdEncoding.EncodeToString(priv.Seed()))
	cmd.Stdin = strings.NewReader("From: <lab@ed.test>\r\nTo: ward7@nhs.test\r\nSubject: sodium 139\r\n\r\nSodium 139.\r\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	signed, err := cmd.Output()
	if err != nil {
		t.Fatalf("dkim.sign: %v\n%s", err, stderr.String())
	}
	host := n.Host()
	changed := bytes.Replace(signed, []byte("Subject: sodium 139"), []byte("Subject: sodium 119"), 1)
	if got := smtpCode(e.sendFrom(host, "mail.ed.test", "lab@ed.test", []string{"ward7@nhs.test"}, string(changed))); !strings.HasPrefix(got, "550 5.7.1 ") {
		t.Errorf("changed subject: reply = %s, want 550 5.7.1", got)
	}
	if err := e.sendFrom(host, "mail.ed.test", "lab@ed.test", []string{"ward7@nhs.test"}, string(signed)); err != nil {
		t.Fatalf("signed: %v", err)
	}
	got := e.folder("ward7@nhs.test", "INBOX")
	if len(got) != 1 {
		t.Fatalf("INBOX holds %d messages", len(got))
	}
	ar := header(got[0], "Authentication-Results")[0]
	for _, want := range []string{"spf=fail", "dkim=pass", "header.d=ed.test", "dmarc=pass"} {
		if !strings.Contains(ar, want) {
			t.Errorf("Authentication-Results %q lacks %q", ar, want)
		}
	}
}

// needDkimpy skips (or, with WARDMAIL_TESTNET=require, fails) without
// Debian's python3-dkim.
func needDkimpy(t *testing.T) {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import dkim, authres").Run(); err != nil {
		if testnet.Required() {
			t.Fatalf("python3-dkim and python3-authres are needed (scripts/testnet-deps.sh installs them): %v", err)
		}
		t.Skip("python3-dkim is not installed (scripts/testnet-deps.sh installs it)")
	}
}
