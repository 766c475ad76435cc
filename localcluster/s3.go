package localcluster

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
	"time"
	"wardmail/freeport"
)

// S3Gateway is Versity's S3 gateway (`versitygw posix`) over a folder: a
// real S3 API that checks every request's AWS Signature V4, as a
// production object store does.
type S3Gateway struct {
	Dir       string // the folder it serves: one subfolder per bucket
	Addr      string // host:port of its S3 API
	AccessKey string
	SecretKey string

	bin  string
	log  string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// S3Binary finds versitygw on PATH or in GOPATH/bin (scripts/s3-deps.sh
// installs it with go install).
func S3Binary() (string, error) {
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
	return "", &Missing{Program: "versitygw"}
}

// StartS3 runs a gateway on a free loopback port over dir/objects, its log
// in dir, with a fresh secret key.
func StartS3(dir string) (*S3Gateway, error) {
	bin, err := S3Binary()
	if err != nil {
		return nil, err
	}
	key := make([]byte, 20)
	_, _ = rand.Read(key)
	g := &S3Gateway{Dir: filepath.Join(dir, "objects"), AccessKey: "wardmail-test", SecretKey: hex.EncodeToString(key),
		bin: bin, log: filepath.Join(dir, "versitygw.log")}
	if err := os.MkdirAll(g.Dir, 0o700); err != nil {
		return nil, err
	}
	port, err := freeport.Get()
	if err != nil {
		return nil, err
	}
	g.Addr = Addr(port)
	return g, g.Restart()
}

// Bucket makes the bucket's folder if missing.
func (g *S3Gateway) Bucket(name string) error {
	return os.MkdirAll(filepath.Join(g.Dir, name), 0o700)
}

// Stop ends the gateway (SIGKILL): the object store becomes unreachable.
func (g *S3Gateway) Stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cmd != nil {
		_ = g.cmd.Process.Kill()
		<-g.done
		g.cmd = nil
	}
}

// PID is the gateway's process id, 0 when it is not running.
func (g *S3Gateway) PID() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cmd == nil {
		return 0
	}
	return g.cmd.Process.Pid
}

// Restart starts the gateway again on the same address and folder, and
// waits until it accepts connections.
func (g *S3Gateway) Restart() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cmd != nil {
		return nil
	}
	f, err := os.OpenFile(g.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	cmd := exec.Command(g.bin, "--port", g.Addr, "--access", g.AccessKey, "--secret", g.SecretKey,
		"--region", "us-east-1", "posix", "--nometa", g.Dir)
	DieWithParent(cmd)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting versitygw: %w", err)
	}
	g.cmd = cmd
	g.done = make(chan struct{})
	go func(done chan struct{}) { _ = cmd.Wait(); close(done) }(g.done)
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", g.Addr, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("versitygw did not listen on %s: %v\n%s", g.Addr, err, Tail(g.log))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
