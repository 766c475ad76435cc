package localcluster

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
	"wardmail/freeport"
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
	env  []string
	args []string
	log  string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// NodeOptions say how to run a node; StartNodes gives every node the same.
type NodeOptions struct {
	Binary   string   // the wardmail program
	Dir      string   // a folder for the nodes' data folders, configs and logs
	Database string   // postgres:// URL
	Config   []string // extra config-file lines (s3_*, limits, ...)
	// Keys is a folder holding the keys the nodes of a cluster must share
	// (MakeKeys); empty: Dir/keys, made by the first node prepared in Dir.
	Keys string
	// Env is added to the node's environment.
	Env []string
}

// keyFiles are the keys every node of a cluster must hold the same:
// sign-in fingerprints and the sealing of TOTP secrets.
var keyFiles = []string{"signin.key", "totp.key"}

// MakeKeys writes fresh keys for a cluster's nodes into dir, made if
// missing, for NodeOptions.Keys.
func MakeKeys(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for _, name := range keyFiles {
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// NewNode prepares a node called name without starting it (Start, or
// Refused for one that must not start): its data folder (its TLS
// certificate) Dir/name, its config and log beside it, its own ports.
// Two nodes of one Dir cannot have the same name.
func NewNode(name string, opt NodeOptions) (*Node, error) {
	if err := os.MkdirAll(opt.Dir, 0o700); err != nil {
		return nil, err
	}
	if opt.Keys == "" {
		opt.Keys = filepath.Join(opt.Dir, "keys")
		if _, err := os.Stat(opt.Keys); errors.Is(err, os.ErrNotExist) {
			if err := MakeKeys(opt.Keys); err != nil {
				return nil, err
			}
		}
	}
	nd := &Node{Name: name, Data: filepath.Join(opt.Dir, name), bin: opt.Binary, env: opt.Env,
		Addrs: map[string]string{}, log: filepath.Join(opt.Dir, name+".log")}
	if err := os.Mkdir(nd.Data, 0o700); err != nil {
		return nil, fmt.Errorf("node %s: %w", name, err)
	}
	for _, door := range Doors {
		p, err := freeport.Get()
		if err != nil {
			return nil, err
		}
		nd.Addrs[door] = Addr(p)
	}
	lines := append([]string{
		"signin_key_file = " + filepath.Join(opt.Keys, "signin.key"),
		"totp_key_file = " + filepath.Join(opt.Keys, "totp.key"),
		"log_level = warn",
		"node_name = " + name,
	}, opt.Config...)
	conf := filepath.Join(opt.Dir, name+".conf")
	if err := os.WriteFile(conf, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		return nil, err
	}
	nd.args = []string{"serve", "--config", conf, "--data", nd.Data, "--database", opt.Database,
		"--hostname", name + ".nhs.test", "--smtp", nd.Addrs["smtp"], "--submission", nd.Addrs["submission"],
		"--imap", nd.Addrs["imap"], "--http", nd.Addrs["http"]}
	return nd, nil
}

// StartNodes starts n nodes, node1 to nodeN, on one database. They share
// the keys a cluster must share; each has its own data folder and ports.
// On error the nodes already started are killed.
func StartNodes(n int, opt NodeOptions) ([]*Node, error) {
	var nodes []*Node
	for i := 1; i <= n; i++ {
		nd, err := NewNode(fmt.Sprintf("node%d", i), opt)
		if err != nil {
			return nil, err
		}
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

// command is the node's process, its output appended to the node's log.
func (nd *Node) command(log *os.File) *exec.Cmd {
	cmd := exec.Command(nd.bin, nd.args...)
	cmd.Env = append(os.Environ(), nd.env...)
	DieWithParent(cmd)
	cmd.Stdout, cmd.Stderr = log, log
	return cmd
}

// Start runs the node's process and waits until every door listens.
func (nd *Node) Start() error {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.running() {
		return fmt.Errorf("%s is already running", nd.Name)
	}
	f, err := os.OpenFile(nd.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	cmd := nd.command(f)
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

// Refused runs a node that must not start: it reports whether the process
// ended by itself within a minute, and what this run wrote. A node that
// starts after all is killed.
func (nd *Node) Refused() (ended bool, output string, err error) {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.running() {
		return false, "", fmt.Errorf("%s is already running", nd.Name)
	}
	f, err := os.OpenFile(nd.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return false, "", err
	}
	defer f.Close()
	from, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return false, "", err
	}
	cmd := nd.command(f)
	if err := cmd.Start(); err != nil {
		return false, "", err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	ended = true
	select {
	case <-done:
	case <-time.After(time.Minute):
		ended = false
		_ = cmd.Process.Kill()
		<-done
	}
	b, err := os.ReadFile(nd.log)
	if err != nil {
		return ended, "", err
	}
	return ended, string(b[min(from, int64(len(b))):]), nil
}

// Stop ends the process cleanly (SIGTERM), as an operator taking the node
// out for its upgrade would: it leaves the cluster before it exits. A node
// still running 30 s later is killed, and that is an error.
func (nd *Node) Stop() error {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.cmd == nil {
		return nil
	}
	defer func() { nd.cmd = nil }()
	_ = nd.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-nd.done:
		return nil
	case <-time.After(30 * time.Second):
		_ = nd.cmd.Process.Kill()
		<-nd.done
		return fmt.Errorf("%s did not stop within 30 s of SIGTERM\n%s", nd.Name, Tail(nd.log))
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
	return nd.running()
}

// running is Alive with nd.mu held.
func (nd *Node) running() bool {
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
