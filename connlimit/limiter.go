package connlimit

import (
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Limits bound one door. Zero fields mean no bound.
type Limits struct {
	// Total is the most connections open at once on the door.
	Total int
	// PerNetwork is the most from one client network (/24 IPv4, /56 IPv6).
	PerNetwork int
	// SessionLimit is the longest a connection may stay open, whatever it
	// does, until the door lifts it (Lift, e.g. after sign-in).
	SessionLimit time.Duration
}

// Refusals at once: a refused client may take up to refuseTimeout of a
// goroutine and a file descriptor while it is told why; past this many at
// once, the excess is closed without a word.
const (
	maxRefusing   = 64
	refuseTimeout = 5 * time.Second
)

// Refusal reasons, as counted in wardmail_door_refused_total.
const (
	ReasonTotal   = "total"   // the door is full
	ReasonNetwork = "network" // the client's network has its share
	ReasonBusy    = "busy"    // refused without a word: too many refusals at once
)

// Limiter counts one door's connections.
type Limiter struct {
	door string
	lim  Limits
	m    *Metrics
	log  *slog.Logger

	mu       sync.Mutex
	open     int
	nets     map[netip.Prefix]int
	refusing atomic.Int32
}

// New returns a Limiter for the door (its name labels metrics and logs). m
// may be shared between doors; nil makes a new set.
func New(door string, lim Limits, m *Metrics, log *slog.Logger) *Limiter {
	if m == nil {
		m = NewMetrics()
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Limiter{door: door, lim: lim, m: m, log: log.With("door", door), nets: map[netip.Prefix]int{}}
}

// Limits returns the limiter's bounds.
func (l *Limiter) Limits() Limits { return l.lim }

// Network returns the client network addr counts against: its /24 (IPv4,
// IPv4-mapped IPv6 included) or /56 (IPv6). Anything else (a Unix socket,
// net.Pipe) is the zero Prefix, which has no per-network bound.
func Network(addr net.Addr) netip.Prefix {
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return netip.Prefix{}
	}
	ip, ok := netip.AddrFromSlice(ta.IP)
	if !ok {
		return netip.Prefix{}
	}
	ip = ip.Unmap()
	bits := 56
	if ip.Is4() {
		bits = 24
	}
	p, _ := ip.Prefix(bits)
	return p
}

// admit counts a new connection in, or says why not.
func (l *Limiter) admit(nc net.Conn) (*Conn, string) {
	key := Network(nc.RemoteAddr())
	l.mu.Lock()
	switch {
	case l.lim.Total > 0 && l.open >= l.lim.Total:
		l.mu.Unlock()
		return nil, ReasonTotal
	case l.lim.PerNetwork > 0 && key.IsValid() && l.nets[key] >= l.lim.PerNetwork:
		l.mu.Unlock()
		return nil, ReasonNetwork
	}
	l.open++
	if key.IsValid() {
		l.nets[key]++
	}
	l.mu.Unlock()
	l.m.open.WithLabelValues(l.door).Inc()
	c := &Conn{Conn: nc, lim: l, key: key}
	if l.lim.SessionLimit > 0 {
		c.until.Store(time.Now().Add(l.lim.SessionLimit).UnixNano())
		// Bound the connection even if the door never sets a deadline.
		_ = c.SetDeadline(time.Time{})
	}
	return c, ""
}

// release counts a closed connection out.
func (l *Limiter) release(key netip.Prefix) {
	l.mu.Lock()
	l.open--
	if key.IsValid() {
		if l.nets[key]--; l.nets[key] <= 0 {
			delete(l.nets, key)
		}
	}
	l.mu.Unlock()
	l.m.open.WithLabelValues(l.door).Dec()
}

// Open returns how many connections are open on the door.
func (l *Limiter) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}
