package testnet

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// proc is a daemon that the test owns: started in the foreground, in its own
// process group (so that stopping it stops its children too), killed if the
// test binary dies, output in a log file in the test internet's folder.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
	// grace is how long stop waits after SIGTERM before SIGKILL.
	grace time.Duration
}

func (n *Net) start(name string, env []string, program string, args ...string) (*proc, error) {
	path, err := lookPath(program)
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(n.dir, name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("testnet: start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{}), grace: 5 * time.Second}
	go func() {
		p.err = cmd.Wait()
		_ = f.Close()
		close(p.done)
	}()
	n.t.Cleanup(p.stop)
	return p, nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop asks the group to end (SIGTERM) and kills it after the grace time.
func (p *proc) stop() {
	if p.exited() {
		return
	}
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(p.grace):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
	// Children that outlived their parent (Postfix's) go with the group.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// tail is the end of the process's log, for error messages.
func (p *proc) tail() string { return tailFile(p.log) }

func tailFile(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// waitFor polls ready until it is true, the process ends, or 20 s pass.
// Polling only decides when to go on; no test asserts on how long it took.
func (p *proc) waitFor(ready func() bool) error { return p.waitUntil(20*time.Second, ready) }

func (p *proc) waitUntil(limit time.Duration, ready func() bool) error {
	deadline := time.Now().Add(limit)
	for delay := 5 * time.Millisecond; ; delay = min(delay*2, 200*time.Millisecond) {
		if ready() {
			return nil
		}
		if p != nil && p.exited() {
			return fmt.Errorf("testnet: %s exited (%v):\n%s", p.name, p.err, p.tail())
		}
		if time.Now().After(deadline) {
			name := "condition"
			if p != nil {
				name = p.name
			}
			return fmt.Errorf("testnet: %s not ready after %v", name, limit)
		}
		time.Sleep(delay)
	}
}

// run runs a short command (knotc, unbound-control, postqueue) and returns
// its output, with the output in the error when it fails.
func run(program string, args ...string) (string, error) {
	path, err := lookPath(program)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("testnet: %s %s: %w: %s", program, strings.Join(args, " "), err, out.String())
	}
	return out.String(), nil
}
