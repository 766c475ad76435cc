package bench

import (
	"bufio"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// serveProc is a `wardmail serve` child with whatever doors it was given.
type serveProc struct {
	cmd   *exec.Cmd
	doors map[string]string // "smtp", "imap", "http"… → host:port
}

var servingLine = regexp.MustCompile(`wardmail: serving (.*) \(data in `)

// startServe runs `wardmail serve --data dir args…` and waits for the line
// that names its doors.
func startServe(bin, dir, profile string, args ...string) (*serveProc, error) {
	if bin == "" {
		var err error
		if bin, err = os.Executable(); err != nil {
			return nil, err
		}
	}
	args = append([]string{"serve", "--data", dir}, args...)
	if profile != "" {
		args = append(args, "--cpuprofile", profile)
	}
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &serveProc{cmd: cmd, doors: map[string]string{}}
	found := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		var seen []string
		ready := false
		for sc.Scan() {
			if m := servingLine.FindStringSubmatch(sc.Text()); m != nil && !ready {
				for _, part := range strings.Split(m[1], ", ") {
					if k, v, ok := strings.Cut(part, " "); ok {
						p.doors[k] = v
					}
				}
				ready = true
				found <- nil
				continue
			}
			if !ready {
				seen = append(seen, sc.Text())
			} else {
				fmt.Fprintln(os.Stderr, "wardmail serve:", sc.Text())
			}
		}
		if !ready {
			found <- fmt.Errorf("wardmail serve stopped: %s", strings.Join(seen, "\n"))
		}
	}()
	select {
	case err := <-found:
		if err != nil {
			_ = cmd.Wait()
			return nil, err
		}
	case <-time.After(120 * time.Second):
		p.stop()
		return nil, errNoDoor
	}
	return p, nil
}

func (p *serveProc) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// imapOpen is what a mail client does to open a mailbox, timed by a
// client that is not ours: Python's imaplib.
//
//go:embed outside_imap.py
var imapOpen string

// imapRead opens the reader's INBOX repeats times (each a new connection:
// LOGIN, SELECT, UID FETCH 1:* (FLAGS ENVELOPE), LOGOUT) and keeps the
// median of each step; the first open is reported apart.
func imapRead(side, addr, password string, repeats int) (*OutsideRead, error) {
	host, port, ok := strings.Cut(addr, ":")
	if !ok {
		return nil, fmt.Errorf("bad IMAP address %q", addr)
	}
	load := loadAverage()
	out, err := exec.Command("python3", "-c", imapOpen, host, port, readerAddress, password, strconv.Itoa(repeats)).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("imaplib against %s: %v\n%s", side, err, out)
	}
	var r struct {
		Messages                    int
		Login, Select, Fetch, Total float64
		First                       float64
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("imaplib against %s: %v\n%s", side, err, out)
	}
	if r.Messages == 0 {
		return nil, errors.New("imaplib: the INBOX is empty")
	}
	return &OutsideRead{Side: side, Messages: r.Messages, LoginMs: r.Login, SelectMs: r.Select, FetchMs: r.Fetch,
		TotalMs: r.Total, FirstTotal: r.First, Load: load}, nil
}
