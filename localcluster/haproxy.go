package localcluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
	"wardmail/freeport"
)

// Balancer is HAProxy in TCP mode in front of the nodes: one frontend per
// door, each node's door a server, health-checked through the node's
// /healthz over HTTPS so a dead node leaves the rotation within a second.
type Balancer struct {
	Addrs map[string]string // by door: smtp, submission, imap, http
	cmd   *exec.Cmd
	logf  *os.File
	done  chan struct{}
}

// StartHAProxy starts HAProxy for nodes, its config and log in dir.
func StartHAProxy(dir string, nodes []*Node) (*Balancer, error) {
	if err := need("haproxy"); err != nil {
		return nil, err
	}
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
	for _, door := range Doors {
		p, err := freeport.Get()
		if err != nil {
			return nil, err
		}
		b.Addrs[door] = Addr(p)
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
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(conf.String()), 0o600); err != nil {
		return nil, err
	}
	var err error
	if b.logf, err = os.Create(filepath.Join(dir, "haproxy.log")); err != nil {
		return nil, err
	}
	b.cmd = exec.Command("haproxy", "-f", path, "-db")
	DieWithParent(b.cmd)
	b.cmd.Stdout, b.cmd.Stderr = b.logf, b.logf
	if err := b.cmd.Start(); err != nil {
		_ = b.logf.Close()
		return nil, err
	}
	b.done = make(chan struct{})
	go func() { _ = b.cmd.Wait(); close(b.done) }()
	for _, a := range b.Addrs {
		if err := WaitPort(a, 10*time.Second); err != nil {
			b.Stop()
			return nil, fmt.Errorf("haproxy did not listen on %s: %v\n%s", a, err, Tail(b.logf.Name()))
		}
	}
	return b, nil
}

// PID is HAProxy's process id.
func (b *Balancer) PID() int { return b.cmd.Process.Pid }

// Stop ends HAProxy.
func (b *Balancer) Stop() {
	_ = b.cmd.Process.Kill()
	<-b.done
	_ = b.logf.Close()
}
