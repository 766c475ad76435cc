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
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds cmd/wardmail once per test process.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wardmail-cluster-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "wardmail")
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Dir(filepath.Dir(file))
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/wardmail")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// Status runs `wardmail cluster status --database URL` and returns what it
// printed.
func Status(t testing.TB, database string) string {
	t.Helper()
	out, err := exec.Command(Binary(t), "cluster", "status", "--database", database, "--data", t.TempDir()).CombinedOutput()
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
}

// StartNodes starts n nodes on one database. They share the keys a cluster
// must share (sign-in fingerprints, TOTP sealing), each has its own data
// folder (its TLS certificate) and its own ports.
func StartNodes(t testing.TB, n int, opt NodeOptions) []*Node {
	t.Helper()
	bin := Binary(t)
	shared := t.TempDir()
	for _, name := range []string{"signin.key", "totp.key"} {
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		if err := os.WriteFile(filepath.Join(shared, name), []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	lines := append([]string{
		"signin_key_file = " + filepath.Join(shared, "signin.key"),
		"totp_key_file = " + filepath.Join(shared, "totp.key"),
		"log_level = warn",
	}, opt.Config...)
	var nodes []*Node
	for i := 1; i <= n; i++ {
		nd := &Node{Name: fmt.Sprintf("node%d", i), Data: t.TempDir(), t: t, bin: bin, Addrs: map[string]string{}}
		for _, door := range []string{"smtp", "submission", "imap", "http"} {
			nd.Addrs[door] = addr(freePort(t))
		}
		nd.log = filepath.Join(t.TempDir(), nd.Name+".log")
		conf := filepath.Join(shared, nd.Name+".conf")
		if err := os.WriteFile(conf, []byte(strings.Join(append(lines, "node_name = "+nd.Name), "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		nd.args = []string{"serve", "--config", conf, "--data", nd.Data, "--database", opt.Database,
			"--hostname", nd.Name + ".nhs.test", "--smtp", nd.Addrs["smtp"], "--submission", nd.Addrs["submission"],
			"--imap", nd.Addrs["imap"], "--http", nd.Addrs["http"]}
		nodes = append(nodes, nd)
		t.Cleanup(func() {
			nd.Kill()
			if t.Failed() {
				t.Log(nd.Log())
			}
		})
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
	cmd := exec.Command(nd.bin, nd.args...)
	dieWithTest(cmd)
	cmd.Stdout, cmd.Stderr = f, f
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
