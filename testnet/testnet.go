package testnet

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"wardmail/freeport"
)

// Options choose the ports that every host shares. Zero values take the
// environment (WARDMAIL_TESTNET_PORT, WARDMAIL_TESTNET_HTTPS_PORT) and then the
// real ports when the process is root (25, 443) or 2525 and 8443 when not, so
// that a developer without root can run everything but Postfix.
type Options struct {
	Port      int // SMTP port of every host
	HTTPSPort int // HTTPS port of every web host (MTA-STS policies)
}

// Net is one test internet. It lives as long as the test that made it.
type Net struct {
	t         testing.TB
	dir       string
	Port      int
	HTTPSPort int
	CA        *CA

	mu    sync.Mutex
	hosts []*hostLock
	dns   *DNS
	smap  *socketmap
	// unboundPort is chosen once, before Unbound starts if need be, so
	// that peers started first (OpenDKIM) already know where to ask.
	unboundPort int
}

// New makes an empty test internet: a test CA and a folder, no processes yet.
func New(t testing.TB, opts Options) *Net {
	t.Helper()
	root := os.Geteuid() == 0
	if opts.Port == 0 {
		opts.Port = envPort("WARDMAIL_TESTNET_PORT", 25, 2525, root)
	}
	if opts.HTTPSPort == 0 {
		opts.HTTPSPort = envPort("WARDMAIL_TESTNET_HTTPS_PORT", 443, 8443, root)
	}
	ca, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	// Postfix's unprivileged processes must reach their configuration and
	// queue under this folder, so it is not the mode-0700 folder of t.TempDir.
	dir, err := os.MkdirTemp("", "wardmail-testnet-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	n := &Net{t: t, dir: dir, Port: opts.Port, HTTPSPort: opts.HTTPSPort, CA: ca}
	t.Cleanup(func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		for _, h := range n.hosts {
			h.release()
		}
		if !t.Failed() || os.Getenv("WARDMAIL_TESTNET_KEEP") == "" {
			_ = os.RemoveAll(dir)
		} else {
			t.Logf("testnet: kept %s", dir)
		}
	})
	if err := os.WriteFile(n.CAFile(), ca.PEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	return n
}

func envPort(name string, rootPort, userPort int, root bool) int {
	if v := os.Getenv(name); v != "" {
		if p, err := strconv.Atoi(v); err == nil && p > 0 && p < 65536 {
			return p
		}
	}
	if root {
		return rootPort
	}
	return userPort
}

// Dir is the test internet's folder: configuration, logs and mailboxes of
// every process. WARDMAIL_TESTNET_KEEP=1 keeps it after a failed test.
func (n *Net) Dir() string { return n.dir }

// CAFile is the test CA's certificate in PEM, for a program told to trust it.
func (n *Net) CAFile() string { return filepath.Join(n.dir, "ca.pem") }

// Required reports whether missing programs fail the test rather than skip it.
func Required() bool { return os.Getenv("WARDMAIL_TESTNET") == "require" }

// Need skips (or, under WARDMAIL_TESTNET=require, fails) the test when one of
// the programs is not installed. Programs are looked up in PATH and in the
// sbin folders, where Debian puts the daemons.
func Need(t testing.TB, programs ...string) {
	t.Helper()
	var missing []string
	for _, p := range programs {
		if _, err := lookPath(p); err != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := fmt.Sprintf("testnet: %v not installed (run scripts/testnet-deps.sh)", missing)
	if Required() {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// NeedRoot skips (or fails, under WARDMAIL_TESTNET=require) unless the test
// runs as root, which Postfix's master requires.
func NeedRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if Required() {
		t.Fatal("testnet: Postfix peers need root")
	}
	t.Skip("testnet: Postfix peers need root")
}

func lookPath(p string) (string, error) {
	if path, err := exec.LookPath(p); err == nil {
		return path, nil
	}
	for _, d := range []string{"/usr/sbin", "/sbin", "/usr/lib/postfix/sbin"} {
		path := filepath.Join(d, p)
		if st, err := os.Stat(path); err == nil && st.Mode()&0o111 != 0 {
			return path, nil
		}
	}
	return "", fmt.Errorf("%s: not found", p)
}

// hostLock holds one loopback address for this process: an flock on a file
// named after it, so that test binaries running at the same time (go test
// ./... runs packages in parallel) take different addresses.
type hostLock struct {
	addr netip.Addr
	f    *os.File
}

func (h *hostLock) release() {
	_ = syscall.Flock(int(h.f.Fd()), syscall.LOCK_UN)
	_ = h.f.Close()
}

// Host takes the next free loopback address, 127.0.0.2 upwards. The address
// is this test's until it ends; its SMTP and HTTPS ports were free when taken.
func (n *Net) Host() netip.Addr {
	n.t.Helper()
	addr, err := n.host()
	if err != nil {
		n.t.Fatal(err)
	}
	return addr
}

func (n *Net) host() (netip.Addr, error) {
	lockDir := filepath.Join(os.TempDir(), "wardmail-testnet-hosts")
	if err := os.MkdirAll(lockDir, 0o777); err != nil {
		return netip.Addr{}, err
	}
	_ = os.Chmod(lockDir, 0o777|os.ModeSticky)
	n.mu.Lock()
	defer n.mu.Unlock()
	for i := 2; i < 254*250; i++ {
		addr := netip.AddrFrom4([4]byte{127, 0, byte(i / 254), byte(i%254 + 1)})
		if i < 254 {
			addr = netip.AddrFrom4([4]byte{127, 0, 0, byte(i)})
		}
		f, err := os.OpenFile(filepath.Join(lockDir, addr.String()), os.O_CREATE|os.O_RDWR, 0o666)
		if err != nil {
			continue
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			_ = f.Close()
			continue
		}
		h := &hostLock{addr: addr, f: f}
		if !portsFree(addr, n.Port, n.HTTPSPort) {
			h.release()
			continue
		}
		n.hosts = append(n.hosts, h)
		return addr, nil
	}
	return netip.Addr{}, errors.New("testnet: no free loopback address")
}

func portsFree(addr netip.Addr, ports ...int) bool {
	for _, p := range ports {
		l, err := net.Listen("tcp", netip.AddrPortFrom(addr, uint16(p)).String())
		if err != nil {
			return false
		}
		_ = l.Close()
	}
	return true
}

func (n *Net) resolverPort() (int, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.unboundPort == 0 {
		p, err := freeport.Get()
		if err != nil {
			return 0, err
		}
		n.unboundPort = p
	}
	return n.unboundPort, nil
}

// listen opens the shared SMTP (or HTTPS) port on a host.
func (n *Net) listen(addr netip.Addr, port int) (net.Listener, error) {
	return net.Listen("tcp", netip.AddrPortFrom(addr, uint16(port)).String())
}
