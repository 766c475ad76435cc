package main_test

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"wardmail/store"
	"wardmail/testnet"
)

// A message to a domain whose MTA-STS policy (enforce) names an MX that
// presents a certificate for another name waits in the queue, never sent
// in clear, and `wardmail queue show` tells the operator that the policy
// deferred it and why.
func TestQueueShowSaysThePolicyDeferred(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a real server")
	}
	n := testnet.New(t, testnet.Options{})
	bad := n.StartSMTP(testnet.SMTPConfig{Hostname: "mx.stsbad.test", TLS: testnet.TLSMismatch})
	p := n.StartMTASTS("stsbad.test", "version: STSv1\nmode: enforce\nmx: mx.stsbad.test\nmax_age: 86400\n")
	d := n.StartDNS(testnet.Zone{Name: "stsbad.test", Records: append(append(bad.Records(), testnet.MX("@", 10, "mx.stsbad.test")), p.Records()...)})

	bin := buildBinary(t)
	data := t.TempDir()
	csv := filepath.Join(t.TempDir(), "people.csv")
	const pw = "queue-show-passphrase-7"
	if err := os.WriteFile(csv, []byte("email,name,org,role,password\nward@nhs.test,Ward Seven,Test Trust,Ward,"+pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "directory", "import", "--data", data, csv).CombinedOutput(); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	conf := filepath.Join(t.TempDir(), "wardmail.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("dns_resolver = %s\noutbound_port = %d\noutbound_ca_file = %s\n"+
		"outbound_mta_sts_port = %d\noutbound_retry_base = 1h\noutbound_tick = 50ms\n", d.Resolver(), n.Port, n.CAFile(), n.HTTPSPort)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--config", conf, "--data", data, "--hostname", "mx.nhs.test",
		"--smtp", "127.0.0.1:0", "--submission", "127.0.0.1:0", "--imap", "", "--http", "", "--log-level", "warn")
	cmd, subAddr := startServeCmd(t, cmd)
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	c, err := smtp.DialStartTLS(subAddr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Auth(sasl.NewPlainClient("", "ward@nhs.test", pw)); err != nil {
		t.Fatal(err)
	}
	msg := "From: ward@nhs.test\r\nTo: gp@stsbad.test\r\nSubject: Referral\r\n\r\nPatient results.\r\n"
	if err := c.SendMail("ward@nhs.test", []string{"gp@stsbad.test"}, strings.NewReader(msg)); err != nil {
		t.Fatal(err)
	}
	_ = c.Quit()

	var id string
	for deadline := time.Now().Add(30 * time.Second); id == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		out, err := exec.Command(bin, "queue", "list", "--data", data, "--json").Output()
		if err != nil {
			t.Fatalf("queue list: %v", err)
		}
		var v struct{ Messages []store.QueuedMessage }
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("queue list: %v\n%s", err, out)
		}
		if len(v.Messages) == 1 && v.Messages[0].Rcpts[0].LastReply != "" {
			id = v.Messages[0].QueueID
		}
	}
	if id == "" {
		t.Fatal("the message was never tried")
	}
	out, err := exec.Command(bin, "queue", "show", "--data", data, id).CombinedOutput()
	if err != nil {
		t.Fatalf("queue show: %v\n%s", err, out)
	}
	show := string(out)
	for _, want := range []string{"gp@stsbad.test: queued after 1 attempt(s)", "MTA-STS (enforce) for stsbad.test",
		"certificate", "mx.stsbad.test", "next:"} {
		if !strings.Contains(show, want) {
			t.Errorf("`wardmail queue show` lacks %q:\n%s", want, show)
		}
	}
	if trs := bad.Transactions(); len(trs) != 0 {
		t.Errorf("mx.stsbad.test was sent %d transactions", len(trs))
	}
}
