package main_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"wardmail/message"
	"wardmail/store"
	"wardmail/store/sqlite"
)

// buildBinary compiles wardmail once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "wardmail")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startServe runs `wardmail serve` with the inbound SMTP and submission
// doors and returns their addresses once it is listening.
func startServe(t *testing.T, bin, data string) (*exec.Cmd, string, string) {
	t.Helper()
	return startServeWith(t, bin, data, "")
}

// startServeWith is startServe with more config-file lines.
func startServeWith(t *testing.T, bin, data, config string) (*exec.Cmd, string, string) {
	t.Helper()
	cmd, addrs := serveDoors(t, bin, data, config, "smtp", "submission")
	return cmd, addrs["smtp"], addrs["submission"]
}

// serveDoors runs `wardmail serve` with config-file lines and the named
// doors (smtp, submission, imap) on loopback ports, the others off, and
// returns it with each door's address once it listens.
func serveDoors(t *testing.T, bin, data, config string, doors ...string) (*exec.Cmd, map[string]string) {
	t.Helper()
	// The tests send far above a person's 30 messages a minute: the
	// sender limits (policy) are off for these tests of durability.
	conf := filepath.Join(t.TempDir(), "wardmail.conf")
	if err := os.WriteFile(conf, []byte("sender_limits = off\n"+config), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"serve", "--config", conf, "--data", data, "--hostname", "mx.nhs.test", "--http", "", "--log-level", "warn"}
	for _, door := range []string{"smtp", "submission", "imap"} {
		addr := ""
		if slices.Contains(doors, door) {
			addr = "127.0.0.1:0"
		}
		args = append(args, "--"+door, addr)
	}
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`\b(smtp|submission|imap) (127\.0\.0\.1:\d+)`)
	found := make(chan map[string]string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if !strings.Contains(sc.Text(), "serving ") {
				continue
			}
			addrs := map[string]string{}
			for _, m := range re.FindAllStringSubmatch(sc.Text(), -1) {
				addrs[m[1]] = m[2]
			}
			found <- addrs
		}
	}()
	select {
	case addrs := <-found:
		return cmd, addrs
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("wardmail serve did not start listening")
	}
	return nil, nil
}

// TestKillMinus9LosesNothing streams mail into a real `wardmail serve`, to a
// person directly and to a list through the submission door, kills it with
// SIGKILL mid-stream three times, and checks that every message that got
// "250" is in the mailboxes exactly once, list posts included, and that no
// message at all is there twice (DESIGN section 3, invariant 4).
func TestKillMinus9LosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a real server")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	csv := filepath.Join(t.TempDir(), "people.csv")
	const pw = "crash-test-passphrase-7"
	if err := os.WriteFile(csv, []byte("email,name,org,role,password\nward@nhs.test,Ward Seven,Test Trust,Ward,"+pw+"\nnurse@nhs.test,A Nurse,Test Trust,Nurse,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "directory", "import", "--data", data, csv).CombinedOutput(); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "list", "create", "--data", data, "--address", "team@nhs.test", "--name", "Team",
		"--owner", "ward@nhs.test", "--members", "ward@nhs.test,nurse@nhs.test").CombinedOutput(); err != nil {
		t.Fatalf("list create: %v\n%s", err, out)
	}

	accepted := map[string]bool{} // subjects that got 250
	var mu sync.Mutex
	for round := 0; round < 3; round++ {
		cmd, addr, subAddr := startServe(t, bin, data)
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for g := 0; g < 6; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				// Even goroutines mail ward from outside; odd ones post
				// to the list as ward, signed in.
				list := g%2 == 1
				var c *smtp.Client
				var err error
				if list {
					if c, err = smtp.DialStartTLS(subAddr, &tls.Config{InsecureSkipVerify: true}); err == nil {
						err = c.Auth(sasl.NewPlainClient("", "ward@nhs.test", pw))
					}
				} else {
					c, err = smtp.Dial(addr)
				}
				if err != nil {
					return
				}
				defer c.Close()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					subject := fmt.Sprintf("r%d-g%d-m%d", round, g, i)
					from, to := "lab@example.org", "ward@nhs.test"
					if list {
						from, to = "ward@nhs.test", "team@nhs.test"
					}
					body := "From: " + from + "\r\nSubject: " + subject + "\r\n\r\n" + strings.Repeat("result line\r\n", 20*(i%7+1))
					if err := c.SendMail(from, []string{to}, strings.NewReader(body)); err != nil {
						return // the server died under us
					}
					mu.Lock()
					accepted[subject] = true
					mu.Unlock()
				}
			}(g)
		}
		time.Sleep(time.Duration(700+400*round) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		close(stop)
		wg.Wait()
	}
	if len(accepted) < 30 {
		t.Fatalf("only %d messages were accepted before the kills; the test proves little", len(accepted))
	}

	ctx := context.Background()
	st, err := sqlite.Open(ctx, data, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ward := inboxSubjects(t, st, "ward@nhs.test")
	nurse := inboxSubjects(t, st, "nurse@nhs.test")
	for _, box := range []map[string]int{ward, nurse} {
		for subject, n := range box {
			if n != 1 {
				t.Errorf("%s is in a mailbox %d times", subject, n)
			}
		}
	}
	lists := 0
	for subject := range accepted {
		if ward[subject] == 0 {
			t.Errorf("%s was accepted (250) but is missing from ward's INBOX after kill -9", subject)
		}
		var g int
		fmt.Sscanf(subject[strings.Index(subject, "-g")+2:], "%d", &g)
		if g%2 == 1 {
			lists++
			if nurse[subject] == 0 {
				t.Errorf("list post %s was accepted (250) but never reached the other member after kill -9", subject)
			}
		}
	}
	if lists < 10 {
		t.Errorf("only %d list posts were accepted; the test proves little for the post log", lists)
	}
	msgs := ward
	t.Logf("%d accepted (%d list posts), %d stored for ward (the difference were in flight when killed)", len(accepted), lists, len(msgs))
}

// inboxSubjects materialises a person's pending posts, as reading would, and
// counts the subjects in their INBOX, checking every body is readable.
func inboxSubjects(t *testing.T, st *store.Store, email string) map[string]int {
	t.Helper()
	ctx := context.Background()
	p, err := st.PersonByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Materialise(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	mb, err := st.MailboxByName(ctx, p.ID, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	refs, _, err := st.Snapshot(ctx, mb.ID)
	if err != nil {
		t.Fatal(err)
	}
	var uids []uint32
	for _, r := range refs {
		uids = append(uids, r.UID)
	}
	msgs, err := st.Messages(ctx, mb.ID, uids)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, m := range msgs {
		sum, err := message.Unmarshal(m.Summary)
		if err != nil {
			t.Fatal(err)
		}
		seen[sum.Envelope.Subject]++
		body, err := st.Body(ctx, m.ContentID)
		if err != nil || !strings.Contains(string(body), "result line") {
			t.Errorf("%s: message %q: body unreadable after the crash (%v)", email, sum.Envelope.Subject, err)
		}
	}
	return seen
}
