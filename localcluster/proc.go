package localcluster

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// Missing is returned when a program the cluster needs is not installed.
type Missing struct{ Program string }

func (m *Missing) Error() string {
	return fmt.Sprintf("%s not installed (run scripts/cluster-deps.sh)", m.Program)
}

// need returns *Missing unless every program is found (a path or a name
// on PATH).
func need(paths ...string) error {
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			if _, err := exec.LookPath(p); err != nil {
				return &Missing{Program: p}
			}
		}
	}
	return nil
}

// WaitPort waits until addr accepts a connection.
func WaitPort(addr string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// Addr is the loopback address of port.
func Addr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// Tail returns the end of a log file, for error messages.
func Tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return fmt.Sprintf("--- %s ---\n%s", filepath.Base(path), b)
}
