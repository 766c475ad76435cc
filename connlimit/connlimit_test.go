package connlimit

import (
	"bufio"
	"net"
	"strings"
	"testing"
)

func TestNetwork(t *testing.T) {
	for _, tc := range []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.ParseIP("192.0.2.77"), Port: 1}, "192.0.2.0/24"},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:192.0.2.77"), Port: 1}, "192.0.2.0/24"},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2ff:aa::1"), Port: 1}, "2001:db8:1:200::/56"},
		{&net.UnixAddr{Name: "/run/x", Net: "unix"}, "invalid Prefix"},
	} {
		if got := Network(tc.addr).String(); got != tc.want {
			t.Errorf("Network(%v) = %s, want %s", tc.addr, got, tc.want)
		}
	}
}

// A door's caps count connections in and out: the client past one is
// refused with the door's words and the place is free again once a
// connection closes.
func TestListenerCaps(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lim := New("test", Limits{Total: 3, PerNetwork: 1}, nil, nil)
	ln := lim.Listen(inner, func(nc net.Conn, reason string) { _, _ = nc.Write([]byte("no: " + reason + "\n")) })
	defer ln.Close()
	accepted := make(chan net.Conn, 8)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			_, _ = c.Write([]byte("hello\n"))
			accepted <- c
		}
	}()
	greet := func(from string) string {
		t.Helper()
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		c, err := d.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		l, _ := bufio.NewReader(c).ReadString('\n')
		return strings.TrimSpace(l)
	}
	for _, tc := range []struct{ from, want string }{
		{"127.0.1.1", "hello"}, {"127.0.1.2", "no: network"}, {"127.0.2.1", "hello"}, {"127.0.3.1", "hello"}, {"127.0.4.1", "no: total"},
	} {
		if got := greet(tc.from); got != tc.want {
			t.Errorf("from %s: %q, want %q", tc.from, got, tc.want)
		}
	}
	if lim.Open() != 3 {
		t.Errorf("%d open, want 3", lim.Open())
	}
	(<-accepted).Close()
	if got := greet("127.0.1.3"); got != "hello" {
		t.Errorf("after a close: %q, want hello", got)
	}
}
