// Package s3test starts a real S3-compatible server for tests: Versity's S3
// gateway over a folder (`versitygw posix`), which checks every request's
// AWS Signature V4 as a production object store does. Install it with
// scripts/s3-deps.sh (go install from the Go module proxy).
//
// Tests that need it call Start; without the program they are skipped, or
// fail when WARDMAIL_S3=require (what CI sets).
package s3test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"wardmail/blob/s3blob"
)

// Gateway is a running versitygw.
type Gateway struct {
	Dir       string // the folder it serves: one subfolder per bucket
	Addr      string // host:port of its S3 API
	AccessKey string
	SecretKey string

	t    testing.TB
	bin  string
	mu   sync.Mutex
	cmd  *exec.Cmd
	logf *os.File
}

// Required reports whether missing programs fail the test instead of
// skipping it.
func Required() bool { return os.Getenv("WARDMAIL_S3") == "require" }

// binary finds versitygw on PATH or in GOPATH/bin.
func binary() (string, error) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("versitygw not installed (run scripts/s3-deps.sh)")
}

// Start runs a gateway on a free loopback port with a bucket folder made,
// and stops it when the test ends.
func Start(t testing.TB) *Gateway {
	t.Helper()
	bin, err := binary()
	if err != nil {
		if Required() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	key := make([]byte, 20)
	_, _ = rand.Read(key)
	g := &Gateway{Dir: t.TempDir(), AccessKey: "wardmail-test", SecretKey: hex.EncodeToString(key), t: t, bin: bin}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g.Addr = l.Addr().String()
	_ = l.Close()
	if g.logf, err = os.Create(filepath.Join(t.TempDir(), "versitygw.log")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Stop(); _ = g.logf.Close() })
	g.Restart()
	return g
}

// Config is an s3blob.Config for bucket on this gateway (the bucket's
// folder is made if missing).
func (g *Gateway) Config(bucket string) s3blob.Config {
	if err := os.MkdirAll(filepath.Join(g.Dir, bucket), 0o700); err != nil {
		g.t.Fatal(err)
	}
	return s3blob.Config{Endpoint: g.Addr, Bucket: bucket, AccessKey: g.AccessKey, SecretKey: g.SecretKey,
		Insecure: true, Timeout: 5 * time.Second}
}

// Stop ends the gateway (SIGKILL): the object store becomes unreachable.
func (g *Gateway) Stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cmd != nil {
		_ = g.cmd.Process.Kill()
		_ = g.cmd.Wait()
		g.cmd = nil
	}
}

// Restart starts the gateway again on the same address and folder, and
// waits until it accepts connections.
func (g *Gateway) Restart() {
	g.t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cmd != nil {
		return
	}
	cmd := exec.Command(g.bin, "--port", g.Addr, "--access", g.AccessKey, "--secret", g.SecretKey,
		"--region", "us-east-1", "posix", "--nometa", g.Dir)
	dieWithTest(cmd)
	cmd.Stdout, cmd.Stderr = g.logf, g.logf
	if err := cmd.Start(); err != nil {
		g.t.Fatalf("starting versitygw: %v", err)
	}
	g.cmd = cmd
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", g.Addr, time.Second)
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(g.logf.Name())
			g.t.Fatalf("versitygw did not listen on %s: %v\n%s", g.Addr, err, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
