package localcluster

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Doors are the listeners every node opens, by config key.
var Doors = []string{"smtp", "submission", "imap", "http"}

// Node is one `wardmail serve` process.
type Node struct {
	Name string
	// Addrs are its doors by config key: smtp, submission, imap, http.
	Addrs map[string]string
	Data  string

	bin  string
	args []string
	log  string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// NodeOptions are what every node of a cluster shares.
type NodeOptions struct {
	Binary   string   // the wardmail program
	Dir      string   // a folder for the nodes' data folders, configs and logs
	Database string   // postgres:// URL
	Config   []string // extra config-file lines (s3_*, limits, ...)
}

// StartNodes starts n nodes on one database. They share the keys a cluster
// must share (sign-in fingerprints, TOTP sealing); each has its own data
// folder (its TLS certificate) and its own ports. On error the nodes
// already started are killed.
func StartNodes(n int, opt NodeOptions) ([]*Node, error) {
	shared := filepath.Join(opt.Dir, "shared")
	if err := os.MkdirAll(shared, 0o700); err != nil {
		return nil, err
	}
	for _, name := range []string{"signin.key", "totp.key"} {
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		if err := os.WriteFile(filepath.Join(shared, name), []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
			return nil, err
		}
	}
	lines := append([]string{
		"signin_key_file = " + filepath.Join(shared, "signin.key"),
		"totp_key_file = " + filepath.Join(shared, "totp.key"),
		"log_level = warn",
	}, opt.Config...)
	var nodes []*Node
	for i := 1; i <= n; i++ {
		nd := &Node{Name: fmt.Sprintf("node%d", i), Data: filepath.Join(opt.Dir, fmt.Sprintf("node%d", i)), bin: opt.Binary, Addrs: map[string]string{}}
		if err := os.MkdirAll(nd.Data, 0o700); err != nil {
			return nil, err
		}
		for _, door := range Doors {
			p, err := FreePort()
			if err != nil {
				return nil, err
			}
			nd.Addrs[door] = Addr(p)
		}
		nd.log = filepath.Join(opt.Dir, nd.Name+".log")
		conf := filepath.Join(shared, nd.Name+".conf")
		if err := os.WriteFile(conf, []byte(strings.Join(append(lines, "node_name = "+nd.Name), "\n")+"\n"), 0o600); err != nil {
			return nil, err
		}
		nd.args = []string{"serve", "--config", conf, "--data", nd.Data, "--database", opt.Database,
			"--hostname", nd.Name + ".nhs.test", "--smtp", nd.Addrs["smtp"], "--submission", nd.Addrs["submission"],
			"--imap", nd.Addrs["imap"], "--http", nd.Addrs["http"]}
		nodes = append(nodes, nd)
	}
	killAll := func() {
		for _, nd := range nodes {
			nd.Kill()
		}
	}
	// The first node creates the schema; the others start together after.
	if err := nodes[0].Start(); err != nil {
		killAll()
		return nil, err
	}
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, nd := range nodes[1:] {
		wg.Go(func() { errs[i+1] = nd.Start() })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		killAll()
		return nil, err
	}
	return nodes, nil
}

// Start runs the node's process and waits until every door listens.
func (nd *Node) Start() error {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	f, err := os.OpenFile(nd.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	cmd := exec.Command(nd.bin, nd.args...)
	DieWithParent(cmd)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		return err
	}
	nd.cmd = cmd
	nd.done = make(chan struct{})
	go func(done chan struct{}) { _ = cmd.Wait(); close(done) }(nd.done)
	deadline := time.Now().Add(60 * time.Second)
	for _, a := range nd.Addrs {
		for WaitPort(a, 100*time.Millisecond) != nil {
			select {
			case <-nd.done:
				nd.cmd = nil
				return fmt.Errorf("%s exited before listening on %s\n%s", nd.Name, a, Tail(nd.log))
			default:
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s did not listen on %s\n%s", nd.Name, a, Tail(nd.log))
			}
		}
	}
	return nil
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

// PID is the node's process id, 0 when it is not running.
func (nd *Node) PID() int {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.cmd == nil || nd.cmd.Process == nil {
		return 0
	}
	return nd.cmd.Process.Pid
}

// Log returns the end of what the node wrote (warnings and errors).
func (nd *Node) Log() string { return Tail(nd.log) }

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
