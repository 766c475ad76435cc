package clustertest

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildMu sync.Mutex
	built   = map[string]string{} // by build flags: the binary's path
)

// Binary builds cmd/wardmail once per test process.
func Binary(t testing.TB) string {
	t.Helper()
	return build(t)
}

// NextRelease builds cmd/wardmail with the test hooks (build tag
// wardmail_testhooks: WARDMAIL_TEST_EXTRA_MIGRATIONS is read) and the
// version "next", so that with extra migration steps it plays the next
// release beside nodes of the current one.
func NextRelease(t testing.TB) string {
	t.Helper()
	return build(t, "-tags", "wardmail_testhooks", "-ldflags", "-X main.version=next")
}

func build(t testing.TB, flags ...string) string {
	buildMu.Lock()
	defer buildMu.Unlock()
	key := strings.Join(flags, " ")
	if p, ok := built[key]; ok {
		return p
	}
	dir, err := os.MkdirTemp("", "wardmail-cluster-bin-")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "wardmail")
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Dir(filepath.Dir(file))
	cmd := exec.Command("go", append(append([]string{"build", "-o", path}, flags...), "./cmd/wardmail")...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", key, err, out)
	}
	built[key] = path
	return path
}

// Status runs `wardmail cluster status --database URL` and returns what it
// printed.
func Status(t testing.TB, database string) string {
	t.Helper()
	return StatusWith(t, database, Binary(t), nil)
}

// StatusWith is Status run by another binary (NextRelease) with env added
// to its environment.
func StatusWith(t testing.TB, database, binary string, env []string) string {
	t.Helper()
	cmd := exec.Command(binary, "cluster", "status", "--database", database, "--data", t.TempDir())
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("wardmail cluster status: %v\n%s", err, out)
	}
	return string(out)
}

// Node is one `wardmail serve` process.
type Node struct {
	Name string
	// Addrs are its doors by config key: smtp, submission, imap, http.
	Addrs map[string]string
	Data  string

	t    testing.TB
	bin  string
	env  []string
	args []string
	log  string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// NodeOptions are what every node of a cluster shares.
type NodeOptions struct {
	Database string   // postgres:// URL
	Config   []string // extra config-file lines (s3_*, limits, ...)
	// Keys is the folder holding the keys the nodes share (Keys);
	// empty: StartNodes makes one for its nodes.
	Keys string
	// Binary runs instead of the current build (NextRelease); Env is
	// added to its environment.
	Binary string
	Env    []string
}

// Keys makes the keys a cluster's nodes must share (sign-in fingerprints,
// TOTP sealing) in a folder of their own, for NodeOptions.Keys.
func Keys(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"signin.key", "totp.key"} {
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// NewNode prepares a node called name (not started: Start, or Refused for
// one that must not start) with its own data folder (its TLS certificate)
// and its own ports.
func NewNode(t testing.TB, name string, opt NodeOptions) *Node {
	t.Helper()
	bin := opt.Binary
	if bin == "" {
		bin = Binary(t)
	}
	if opt.Keys == "" {
		opt.Keys = Keys(t)
	}
	lines := append([]string{
		"signin_key_file = " + filepath.Join(opt.Keys, "signin.key"),
		"totp_key_file = " + filepath.Join(opt.Keys, "totp.key"),
		"log_level = warn",
		"node_name = " + name,
	}, opt.Config...)
	nd := &Node{Name: name, Data: t.TempDir(), t: t, bin: bin, env: opt.Env, Addrs: map[string]string{}}
	for _, door := range []string{"smtp", "submission", "imap", "http"} {
		nd.Addrs[door] = addr(freePort(t))
	}
	dir := t.TempDir()
	nd.log = filepath.Join(dir, nd.Name+".log")
	conf := filepath.Join(dir, nd.Name+".conf")
	if err := os.WriteFile(conf, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	nd.args = []string{"serve", "--config", conf, "--data", nd.Data, "--database", opt.Database,
		"--hostname", nd.Name + ".nhs.test", "--smtp", nd.Addrs["smtp"], "--submission", nd.Addrs["submission"],
		"--imap", nd.Addrs["imap"], "--http", nd.Addrs["http"]}
	t.Cleanup(func() {
		nd.Kill()
		if t.Failed() {
			t.Log(nd.Log())
		}
	})
	return nd
}

// StartNodes starts n nodes, node1 to nodeN, on one database. They share
// the keys a cluster must share, each has its own data folder and ports.
func StartNodes(t testing.TB, n int, opt NodeOptions) []*Node {
	t.Helper()
	if opt.Keys == "" {
		opt.Keys = Keys(t)
	}
	var nodes []*Node
	for i := 1; i <= n; i++ {
		nodes = append(nodes, NewNode(t, fmt.Sprintf("node%d", i), opt))
	}
	// The first node creates the schema; the others start together after.
	nodes[0].Start()
	var wg sync.WaitGroup
	for _, nd := range nodes[1:] {
		wg.Add(1)
		go func() { defer wg.Done(); nd.Start() }()
	}
	wg.Wait()
	return nodes
}

// Start runs the node's process and waits until every door listens.
func (nd *Node) Start() {
	nd.t.Helper()
	nd.mu.Lock()
	defer nd.mu.Unlock()
	f, err := os.OpenFile(nd.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		nd.t.Error(err)
		return
	}
	defer f.Close()
	cmd := nd.command(f)
	if err := cmd.Start(); err != nil {
		nd.t.Error(err)
		return
	}
	nd.cmd = cmd
	nd.done = make(chan struct{})
	go func(done chan struct{}) { _ = cmd.Wait(); close(done) }(nd.done)
	deadline := time.Now().Add(60 * time.Second)
	for _, a := range nd.Addrs {
		for waitPort(a, 100*time.Millisecond) != nil {
			select {
			case <-nd.done:
				nd.t.Errorf("%s exited before listening on %s\n%s", nd.Name, a, tail(nd.log))
				nd.cmd = nil
				return
			default:
			}
			if time.Now().After(deadline) {
				nd.t.Errorf("%s did not listen on %s\n%s", nd.Name, a, tail(nd.log))
				return
			}
		}
	}
}

func (nd *Node) command(log *os.File) *exec.Cmd {
	cmd := exec.Command(nd.bin, nd.args...)
	cmd.Env = append(os.Environ(), nd.env...)
	dieWithTest(cmd)
	cmd.Stdout, cmd.Stderr = log, log
	return cmd
}

// Refused runs a node that must not start: it reports whether the process
// ended by itself within a minute, and what it wrote. A node that starts
// after all is killed.
func (nd *Node) Refused() (bool, string) {
	nd.t.Helper()
	f, err := os.OpenFile(nd.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		nd.t.Fatal(err)
	}
	defer f.Close()
	cmd := nd.command(f)
	if err := cmd.Start(); err != nil {
		nd.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	ended := true
	select {
	case <-done:
	case <-time.After(time.Minute):
		ended = false
		_ = cmd.Process.Kill()
		<-done
	}
	b, _ := os.ReadFile(nd.log)
	return ended, string(b)
}

// Stop ends the process cleanly (SIGTERM), as an operator taking the node
// out for its upgrade would: it leaves the cluster before it exits.
func (nd *Node) Stop() {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.cmd == nil {
		return
	}
	_ = nd.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-nd.done:
	case <-time.After(30 * time.Second):
		nd.t.Errorf("%s did not stop within 30 s of SIGTERM", nd.Name)
		_ = nd.cmd.Process.Kill()
		<-nd.done
	}
	nd.cmd = nil
}

// Kill ends the process with SIGKILL, as a machine lost would.
func (nd *Node) Kill() {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.cmd != nil {
		_ = nd.cmd.Process.Kill()
		<-nd.done
		nd.cmd = nil
	}
}

// Alive reports whether the node's process is still running.
func (nd *Node) Alive() bool {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.cmd == nil {
		return false
	}
	select {
	case <-nd.done:
		return false
	default:
		return true
	}
}

// Log returns what the node wrote (warnings and errors).
func (nd *Node) Log() string { return tail(nd.log) }

// Lines returns the node's log lines that contain s.
func (nd *Node) Lines(s string) []string {
	f, err := os.Open(nd.log)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.Contains(sc.Text(), s) {
			out = append(out, sc.Text())
		}
	}
	return out
}
