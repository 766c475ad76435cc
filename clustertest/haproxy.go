package clustertest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Balancer is HAProxy in TCP mode in front of the nodes: one frontend per
// door, each node's door a server, health-checked through the node's
// /healthz over HTTPS so a dead node leaves the rotation within a second.
type Balancer struct {
	Addrs map[string]string // by door: smtp, submission, imap, http
	cmd   *exec.Cmd
	log   string
}

// StartHAProxy starts HAProxy for nodes and stops it when the test ends.
func StartHAProxy(t testing.TB, nodes []*Node) *Balancer {
	t.Helper()
	need(t, "haproxy")
	b := &Balancer{Addrs: map[string]string{}}
	var conf strings.Builder
	conf.WriteString(`global
  maxconn 4000
defaults
  mode tcp
  timeout connect 2s
  timeout client 30m
  timeout server 30m
  timeout check 1s
  retries 2
  option redispatch
`)
	for _, door := range []string{"smtp", "submission", "imap", "http"} {
		b.Addrs[door] = addr(freePort(t))
		balance := "roundrobin"
		if door == "imap" {
			balance = "leastconn"
		}
		fmt.Fprintf(&conf, "frontend %s\n  bind %s\n  default_backend %s_nodes\n", door, b.Addrs[door], door)
		fmt.Fprintf(&conf, "backend %s_nodes\n  balance %s\n  option httpchk GET /healthz\n  http-check expect status 200\n", door, balance)
		conf.WriteString("  default-server inter 300ms fastinter 200ms fall 2 rise 2 check-ssl verify none on-marked-down shutdown-sessions\n")
		for _, nd := range nodes {
			fmt.Fprintf(&conf, "  server %s %s check port %s\n", nd.Name, nd.Addrs[door], strings.TrimPrefix(nd.Addrs["http"], "127.0.0.1:"))
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(conf.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	b.log = filepath.Join(dir, "haproxy.log")
	f, err := os.Create(b.log)
	if err != nil {
		t.Fatal(err)
	}
	b.cmd = exec.Command("haproxy", "-f", path, "-db")
	dieWithTest(b.cmd)
	b.cmd.Stdout, b.cmd.Stderr = f, f
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.cmd.Process.Kill(); _ = b.cmd.Wait(); _ = f.Close() })
	for _, a := range b.Addrs {
		if err := waitPort(a, 10e9); err != nil {
			t.Fatalf("haproxy did not listen on %s: %v\n%s", a, err, tail(b.log))
		}
	}
	return b
}
