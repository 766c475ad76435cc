package main_test

import (
	"crypto/tls"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// startServeIMAP runs `wardmail serve` with the submission and IMAP doors
// and returns their addresses once it is listening.
func startServeIMAP(t *testing.T, bin, data string) (cmd *exec.Cmd, submission, imapAddr string) {
	t.Helper()
	cmd, addrs := serveDoors(t, bin, data, "", "submission", "imap")
	return cmd, addrs["submission"], addrs["imap"]
}

// A member's sign-in over IMAP starts taking their waiting list posts into
// the INBOX. The server is killed right after LOGIN is answered, while that
// write may be queued, committing or done, in each of several rounds with
// more posts waiting each time. When the member finally opens the INBOX,
// every accepted post is there exactly once, in the order it was posted.
func TestKillMinus9BetweenLoginAndSelect(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a real server")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	csv := filepath.Join(t.TempDir(), "people.csv")
	const pw = "crash-test-passphrase-7"
	if err := os.WriteFile(csv, []byte("email,name,org,role,password\nward@nhs.test,Ward Seven,Test Trust,Ward,"+pw+"\nnurse@nhs.test,A Nurse,Test Trust,Nurse,"+pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "directory", "import", "--data", data, csv).CombinedOutput(); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "list", "create", "--data", data, "--address", "team@nhs.test", "--name", "Team",
		"--owner", "ward@nhs.test", "--members", "ward@nhs.test,nurse@nhs.test").CombinedOutput(); err != nil {
		t.Fatalf("list create: %v\n%s", err, out)
	}
	tlsc := &tls.Config{InsecureSkipVerify: true}
	var posted []string
	post := func(subAddr string, n int) {
		t.Helper()
		c, err := smtp.DialStartTLS(subAddr, tlsc)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Auth(sasl.NewPlainClient("", "ward@nhs.test", pw)); err != nil {
			t.Fatal(err)
		}
		for range n {
			subject := fmt.Sprintf("post %03d", len(posted))
			body := "From: ward@nhs.test\r\nTo: team@nhs.test\r\nSubject: " + subject + "\r\n\r\nResults.\r\n"
			if err := c.SendMail("ward@nhs.test", []string{"team@nhs.test"}, strings.NewReader(body)); err != nil {
				t.Fatal(err)
			}
			posted = append(posted, subject)
		}
	}
	login := func(imapAddr string) *imapclient.Client {
		t.Helper()
		c, err := imapclient.DialStartTLS(imapAddr, &imapclient.Options{TLSConfig: tlsc})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Login("nurse@nhs.test", pw).Wait(); err != nil {
			t.Fatal(err)
		}
		return c
	}
	for round, wait := range []time.Duration{0, time.Millisecond, 5 * time.Millisecond, 50 * time.Millisecond} {
		cmd, subAddr, imapAddr := startServeIMAP(t, bin, data)
		post(subAddr, 40+10*round)
		c := login(imapAddr)
		time.Sleep(wait)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		_ = c.Close()
	}

	cmd, _, imapAddr := startServeIMAP(t, bin, data)
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	c := login(imapAddr)
	defer c.Close()
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Envelope: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var last imap.UID
	for _, m := range msgs {
		if m.UID <= last {
			t.Errorf("UID %d after %d", m.UID, last)
		}
		last = m.UID
		got = append(got, m.Envelope.Subject)
	}
	if strings.Join(got, "|") != strings.Join(posted, "|") {
		t.Errorf("after kill -9 between LOGIN and SELECT, the INBOX holds %d messages (EXISTS %d):\n%q\nwant the %d posts in order:\n%q",
			len(got), sel.NumMessages, got, len(posted), posted)
	}
}
