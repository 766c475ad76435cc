package clustertest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"wardmail/localcluster"
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
	t.Helper()
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

// Node is one `wardmail serve` process (localcluster.Node) whose failures
// fail its test.
type Node struct {
	*localcluster.Node
	t testing.TB
}

// NodeOptions are what every node of a cluster shares.
type NodeOptions struct {
	Database string   // postgres:// URL
	Config   []string // extra config-file lines (s3_*, limits, ...)
	// Keys is the folder holding the keys the nodes share (Keys);
	// empty: StartNodes makes one for its nodes, NewNode one for its node.
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
	if err := localcluster.MakeKeys(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func (opt NodeOptions) local(t testing.TB) localcluster.NodeOptions {
	t.Helper()
	bin := opt.Binary
	if bin == "" {
		bin = Binary(t)
	}
	return localcluster.NodeOptions{Binary: bin, Dir: t.TempDir(), Database: opt.Database, Config: opt.Config,
		Keys: opt.Keys, Env: opt.Env}
}

// wrap makes ln fail t, killed when the test ends; a failed test prints
// its log.
func wrap(t testing.TB, ln *localcluster.Node) *Node {
	nd := &Node{Node: ln, t: t}
	t.Cleanup(func() {
		nd.Kill()
		if t.Failed() {
			t.Log(nd.Log())
		}
	})
	return nd
}

// NewNode prepares a node called name (not started: Start, or Refused for
// one that must not start) with its own data folder (its TLS certificate)
// and its own ports.
func NewNode(t testing.TB, name string, opt NodeOptions) *Node {
	t.Helper()
	ln, err := localcluster.NewNode(name, opt.local(t))
	if err != nil {
		t.Fatal(err)
	}
	return wrap(t, ln)
}

// StartNodes starts n nodes, node1 to nodeN, on one database
// (localcluster.StartNodes). They share the keys a cluster must share,
// each has its own data folder and ports.
func StartNodes(t testing.TB, n int, opt NodeOptions) []*Node {
	t.Helper()
	lns, err := localcluster.StartNodes(n, opt.local(t))
	check(t, err)
	var nodes []*Node
	for _, ln := range lns {
		nodes = append(nodes, wrap(t, ln))
	}
	return nodes
}

// Start runs the node's process and waits until every door listens.
func (nd *Node) Start() {
	nd.t.Helper()
	if err := nd.Node.Start(); err != nil {
		nd.t.Error(err)
	}
}

// Refused runs a node that must not start: it reports whether the process
// ended by itself within a minute, and what it wrote. A node that starts
// after all is killed.
func (nd *Node) Refused() (bool, string) {
	nd.t.Helper()
	ended, out, err := nd.Node.Refused()
	if err != nil {
		nd.t.Fatal(err)
	}
	return ended, out
}

// Stop ends the process cleanly (SIGTERM), as an operator taking the node
// out for its upgrade would: it leaves the cluster before it exits.
func (nd *Node) Stop() {
	nd.t.Helper()
	if err := nd.Node.Stop(); err != nil {
		nd.t.Error(err)
	}
}
