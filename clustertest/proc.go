package clustertest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Required reports whether a missing program fails the test.
func Required() bool { return os.Getenv("WARDMAIL_CLUSTER") == "require" }

// Enabled skips the test unless WARDMAIL_CLUSTER is set (`make
// test-cluster`): a cluster takes tens of seconds to start and run, so
// these tests run in a target of their own, beside the others in CI.
func Enabled(t testing.TB) {
	t.Helper()
	if os.Getenv("WARDMAIL_CLUSTER") == "" {
		t.Skip("cluster tests run with WARDMAIL_CLUSTER=require (make test-cluster)")
	}
}

// need skips (or fails, when required) unless every program is found.
func need(t testing.TB, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			if _, err := exec.LookPath(p); err != nil {
				msg := fmt.Sprintf("clustertest: %s not installed (run scripts/cluster-deps.sh)", p)
				if Required() {
					t.Fatal(msg)
				}
				t.Skip(msg)
			}
		}
	}
}

// freePort returns a loopback TCP port nothing listens on now.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitPort waits until addr accepts a connection.
func waitPort(addr string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func addr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// tail returns the end of a log file, for failure messages.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return fmt.Sprintf("--- %s ---\n%s", filepath.Base(path), b)
}
