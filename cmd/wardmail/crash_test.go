package main_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"wardmail/message"
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

// startServe runs `wardmail serve` with only the inbound SMTP door and
// returns its address once it is listening.
func startServe(t *testing.T, bin, data string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--data", data, "--hostname", "mx.nhs.test",
		"--smtp", "127.0.0.1:0", "--submission", "", "--imap", "", "--http", "", "--log-level", "warn")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`serving smtp (127\.0\.0\.1:\d+)`)
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	select {
	case a := <-addr:
		return cmd, a
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("wardmail serve did not start listening")
	}
	return nil, ""
}

// TestKillMinus9LosesNothing streams mail into a real `wardmail serve`,
// kills it with SIGKILL mid-stream three times, and checks that every message
// that got "250" is in the mailbox exactly once, and that no message at all
// is there twice (DESIGN section 3, invariant 4).
func TestKillMinus9LosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a real server")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	csv := filepath.Join(t.TempDir(), "people.csv")
	if err := os.WriteFile(csv, []byte("email,name,org\nward@nhs.test,Ward Seven,Test Trust\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "directory", "import", "--data", data, csv).CombinedOutput(); err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}

	accepted := map[string]bool{} // subjects that got 250
	var mu sync.Mutex
	for round := 0; round < 3; round++ {
		cmd, addr := startServe(t, bin, data)
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for g := 0; g < 6; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				c, err := smtp.Dial(addr)
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
					body := "From: lab@example.org\r\nSubject: " + subject + "\r\n\r\n" + strings.Repeat("result line\r\n", 20*(i%7+1))
					if err := c.SendMail("lab@example.org", []string{"ward@nhs.test"}, strings.NewReader(body)); err != nil {
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
	p, err := st.PersonByEmail(ctx, "ward@nhs.test")
	if err != nil {
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
			t.Errorf("message %q: body unreadable after the crash (%v)", sum.Envelope.Subject, err)
		}
	}
	for subject, n := range seen {
		if n != 1 {
			t.Errorf("%s is in the mailbox %d times", subject, n)
		}
	}
	for subject := range accepted {
		if seen[subject] == 0 {
			t.Errorf("%s was accepted (250) but is missing after kill -9", subject)
		}
	}
	t.Logf("%d accepted, %d stored (the difference were in flight when killed)", len(accepted), len(msgs))
}
