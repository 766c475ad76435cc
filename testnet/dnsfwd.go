package testnet

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"time"
)

// dnsForwarder relays DNS queries that arrive on port 53 of a host to the
// test resolver (Unbound on 127.0.0.1 at a free port). Programs that read
// /etc/resolv.conf (glibc's resolver in OpenDMARC, dnspython in
// policyd-spf) cannot be told a port: they are started in a mount namespace
// of their own whose /etc/resolv.conf names this host, which forwards to
// the test resolver. UDP and TCP (RFC 7766), a query at a time per packet
// or per length-prefixed message.
type dnsForwarder struct {
	udp      net.PacketConn
	tcp      net.Listener
	upstream string
}

// startDNSForwarder listens on addr:53 until the test ends.
func (n *Net) startDNSForwarder(addr netip.Addr) (*dnsForwarder, error) {
	port, err := n.resolverPort()
	if err != nil {
		return nil, err
	}
	ap := netip.AddrPortFrom(addr, 53).String()
	u, err := net.ListenPacket("udp", ap)
	if err != nil {
		return nil, err
	}
	t, err := net.Listen("tcp", ap)
	if err != nil {
		_ = u.Close()
		return nil, err
	}
	f := &dnsForwarder{udp: u, tcp: t, upstream: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)).String()}
	go f.serveUDP()
	go f.serveTCP()
	n.t.Cleanup(func() { _ = u.Close(); _ = t.Close() })
	return f, nil
}

func (f *dnsForwarder) serveUDP() {
	buf := make([]byte, 65535)
	for {
		k, from, err := f.udp.ReadFrom(buf)
		if err != nil {
			return
		}
		q := append([]byte(nil), buf[:k]...)
		go func() {
			c, err := net.DialTimeout("udp", f.upstream, 5*time.Second)
			if err != nil {
				return
			}
			defer func() { _ = c.Close() }()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := c.Write(q); err != nil {
				return
			}
			resp := make([]byte, 65535)
			m, err := c.Read(resp)
			if err != nil {
				return
			}
			_, _ = f.udp.WriteTo(resp[:m], from)
		}()
	}
}

func (f *dnsForwarder) serveTCP() {
	for {
		c, err := f.tcp.Accept()
		if err != nil {
			return
		}
		go func() {
			defer func() { _ = c.Close() }()
			_ = c.SetDeadline(time.Now().Add(30 * time.Second))
			up, err := net.DialTimeout("tcp", f.upstream, 5*time.Second)
			if err != nil {
				return
			}
			defer func() { _ = up.Close() }()
			_ = up.SetDeadline(time.Now().Add(30 * time.Second))
			for {
				q, err := readTCPDNS(c)
				if err != nil {
					return
				}
				if err := writeTCPDNS(up, q); err != nil {
					return
				}
				r, err := readTCPDNS(up)
				if err != nil {
					return
				}
				if err := writeTCPDNS(c, r); err != nil {
					return
				}
			}
		}()
	}
}

func readTCPDNS(r io.Reader) ([]byte, error) {
	var l [2]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint16(l[:])
	if n == 0 {
		return nil, errors.New("testnet: empty DNS message")
	}
	b := make([]byte, n)
	_, err := io.ReadFull(r, b)
	return b, err
}

func writeTCPDNS(w io.Writer, m []byte) error {
	b := make([]byte, 2+len(m))
	binary.BigEndian.PutUint16(b, uint16(len(m)))
	copy(b[2:], m)
	_, err := w.Write(b)
	return err
}

// withResolvConf returns the program and arguments that run program in a
// mount namespace of its own (unshare(1), as root) in which
// /etc/resolv.conf is the file at resolvConf: the rest of the machine keeps
// its own.
func withResolvConf(resolvConf, program string, args ...string) (string, []string, error) {
	path, err := lookPath(program)
	if err != nil {
		return "", nil, err
	}
	abs, err := filepath.Abs(resolvConf)
	if err != nil {
		return "", nil, err
	}
	if _, err := os.Stat(abs); err != nil {
		return "", nil, err
	}
	// sh execs the program, so the process the test owns is the program.
	script := `mount --bind "$0" /etc/resolv.conf && exec "$@"`
	return "unshare", append([]string{"--mount", "--propagation", "private", "sh", "-c", script, abs, path}, args...), nil
}
