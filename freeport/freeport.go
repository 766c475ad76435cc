// Package freeport picks loopback ports for daemons a harness starts and that
// bind their port themselves a moment later (PostgreSQL, Knot, Unbound, Rspamd,
// HAProxy, `wardmail serve`).
//
// A port taken from the kernel with a bind to port 0 comes from the ephemeral
// range, the same range every outgoing connection and every other test's
// port-0 listener draws from; in the gap before the daemon binds it, another
// process often takes it ("address already in use"). Ports here are drawn at
// random from below the ephemeral range, where the kernel never hands ports
// out by itself, and checked free for TCP and UDP before they are returned.
package freeport

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
)

// low is the lowest port handed out: above the registered ports most
// daemons on a developer machine use by default.
const low = 12000

var (
	mu    sync.Mutex
	given = map[int]bool{} // ports this process handed out already
)

// Get returns a loopback port that nothing listens on for TCP or UDP now and
// that this process has not handed out before.
func Get() (int, error) {
	high := ephemeralLow() - 1
	mu.Lock()
	defer mu.Unlock()
	for range 200 {
		port := low + rand.IntN(high-low+1)
		if given[port] || !free(port) {
			continue
		}
		given[port] = true
		return port, nil
	}
	return 0, errors.New("freeport: no free port below the ephemeral range")
}

// free reports whether port can be bound on 127.0.0.1 for TCP and for UDP.
func free(port int) bool {
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	defer l.Close()
	u, err := net.ListenPacket("udp", addr)
	if err != nil {
		return false
	}
	_ = u.Close()
	return true
}

// ephemeralLow is the first port of the kernel's ephemeral range (Linux's
// net.ipv4.ip_local_port_range; 32768 where it cannot be read).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return 32768
	}
	n, err := strconv.Atoi(fields[0])
	if err != nil || n <= low+1000 {
		return 32768
	}
	return n
}
