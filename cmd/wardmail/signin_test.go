package main_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"wardmail/auth"
	"wardmail/server"
	"wardmail/store"
)

// The sign-in commands, run as a separate process beside a running server
// on the same data folder, as an operator would.
func TestSignInCommands(t *testing.T) {
	bin := buildBinary(t)
	data := t.TempDir()
	cfg := server.Defaults()
	cfg.DataDir, cfg.Hostname = data, "mx.nhs.test"
	cfg.SMTPAddr, cfg.SubmissionAddr, cfg.IMAPAddr, cfg.HTTPAddr = "", "127.0.0.1:0", "127.0.0.1:0", ""
	ctx := context.Background()
	srv, err := server.Start(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	const amira = "amira@nhs.test"
	h, err := auth.HashPassword(auth.TestParams(), "pw-amira")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := srv.Store.UpsertPeople(ctx, []store.PersonRecord{{Email: amira, Name: "Amira", Org: "Test Trust", PasswordHash: h}}); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			msg := ""
			if ee, ok := err.(*exec.ExitError); ok {
				msg = string(ee.Stderr)
			}
			t.Fatalf("wardmail %s: %v\n%s%s", strings.Join(args, " "), err, out, msg)
		}
		return string(out)
	}
	tlsc := &tls.Config{InsecureSkipVerify: true}
	imapLogin := func(user, pass string) error {
		c, err := imapclient.DialStartTLS(srv.Addrs["imap"], &imapclient.Options{TLSConfig: tlsc})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.Login(user, pass).Wait()
	}

	// apppass create prints the password as its last line, and it works.
	out := run("apppass", "create", "--data", data, amira, "--name", "work phone", "--scope", "imap")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	secret := lines[len(lines)-1]
	if err := imapLogin(amira, secret); err != nil {
		t.Fatalf("IMAP with the new app password %q: %v", secret, err)
	}
	if out := run("apppass", "list", "--data", data, amira); !strings.Contains(out, "work phone") || !strings.Contains(out, "imap") {
		t.Errorf("apppass list:\n%s", out)
	}
	// The command line names devices by the webmail's rule: a control
	// character would garble the settings page and the audit trail.
	if out, err := exec.Command(bin, "apppass", "create", "--data", data, amira, "--name", "tablet\x1b[2J").CombinedOutput(); err == nil ||
		!strings.Contains(string(out), "Name the device") {
		t.Errorf("apppass create with a control character in the name: %v\n%s", err, out)
	}

	// Lock the account from this network over SMTP, list, unlock. The
	// network is familiar (the app password signed in from it): 20 failures.
	for i := range 20 {
		c, err := smtp.DialStartTLS(srv.Addrs["submission"], tlsc)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.Auth(sasl.NewPlainClient("", amira, fmt.Sprint("guess-", i)))
		c.Close()
	}
	if err := imapLogin(amira, "pw-amira"); err == nil || !strings.Contains(err.Error(), "UNAVAILABLE") {
		t.Fatalf("not locked: %v", err)
	}
	time.Sleep(1500 * time.Millisecond) // the server saves locks every second
	if out := run("admin", "lockouts", "--data", data); !strings.Contains(out, amira) || !strings.Contains(out, "127.0.0.0/24") {
		t.Errorf("admin lockouts:\n%s", out)
	}
	if out := run("admin", "unlock", "--data", data, "--all-locked-since", "1h"); !strings.Contains(out, "unlocked 1 accounts") {
		t.Errorf("admin unlock:\n%s", out)
	}
	deadline := time.Now().Add(5 * time.Second)
	for imapLogin(amira, "pw-amira") != nil {
		if time.Now().After(deadline) {
			t.Fatal("the running server did not see the unlock")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if out := run("admin", "lockouts", "--data", data); !strings.Contains(out, "0 locks running") {
		t.Errorf("admin lockouts after unlock:\n%s", out)
	}
	// By name, flags after the names, and a name with no lock at all.
	if out := run("admin", "unlock", "AMIRA@nhs.test", "nobody@nhs.test", "--data", data); !strings.Contains(out, "unlocked 2 accounts") {
		t.Errorf("admin unlock by name:\n%s", out)
	}

	// Incident mode reaches the server.
	run("admin", "incident", "on", "--data", data)
	deadline = time.Now().Add(5 * time.Second)
	for !srv.Login.Lockout().Incident() {
		if time.Now().After(deadline) {
			t.Fatal("the running server did not see incident mode")
		}
		time.Sleep(100 * time.Millisecond)
	}
	run("admin", "incident", "off", "--data", data)

	if out := run("apppass", "revoke", "--data", data, amira, "--name", "work phone"); !strings.Contains(out, "revoked 1") {
		t.Errorf("apppass revoke:\n%s", out)
	}
	if err := imapLogin(amira, secret); err == nil {
		t.Error("a revoked app password still signs in")
	}
	entries, err := srv.Store.AuditLog(ctx, store.AuditQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	for _, e := range entries {
		actions[e.Action]++
	}
	for _, a := range []string{"apppass.create", "apppass.revoke", "signin.unlock", "signin.control"} {
		if actions[a] == 0 {
			t.Errorf("no %s in the audit trail: %v", a, actions)
		}
	}
}
