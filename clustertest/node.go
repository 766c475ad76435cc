package clustertest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"wardmail/localcluster"
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

// Node is one `wardmail serve` process (localcluster.Node) whose failures
// to start fail its test.
type Node struct {
	*localcluster.Node
	t testing.TB
}

// NodeOptions are what every node of a cluster shares.
type NodeOptions struct {
	Database string   // postgres:// URL
	Config   []string // extra config-file lines (s3_*, limits, ...)
}

// StartNodes starts n nodes on one database (localcluster.StartNodes);
// they are killed when the test ends, and a failed test prints their logs.
func StartNodes(t testing.TB, n int, opt NodeOptions) []*Node {
	t.Helper()
	lns, err := localcluster.StartNodes(n, localcluster.NodeOptions{Binary: Binary(t), Dir: t.TempDir(),
		Database: opt.Database, Config: opt.Config})
	check(t, err)
	var nodes []*Node
	for _, ln := range lns {
		nd := &Node{Node: ln, t: t}
		nodes = append(nodes, nd)
		t.Cleanup(func() {
			nd.Kill()
			if t.Failed() {
				t.Log(nd.Log())
			}
		})
	}
	return nodes
}

// Start runs the node's process again and waits until every door listens.
func (nd *Node) Start() {
	nd.t.Helper()
	if err := nd.Node.Start(); err != nil {
		nd.t.Error(err)
	}
}
