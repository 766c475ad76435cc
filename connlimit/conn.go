package connlimit

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Conn is a connection a Limiter counts. Closing it counts it out.
type Conn struct {
	net.Conn
	lim     *Limiter
	key     netip.Prefix
	refused string // the reason, for a connection returned marked

	until      atomic.Int64 // whole-session deadline (unix ns), 0 for none
	closeAfter atomic.Bool  // end the connection after the next write
	finished   atomic.Bool  // the last reply is written: reads see EOF
	once       sync.Once
}

// Find returns the Conn under nc (looking through TLS and any other
// wrapper that gives its NetConn), or nil.
func Find(nc net.Conn) *Conn {
	for nc != nil {
		switch c := nc.(type) {
		case *Conn:
			return c
		case interface{ NetConn() net.Conn }: // *tls.Conn, web's peeked connections
			nc = c.NetConn()
		default:
			return nil
		}
	}
	return nil
}

// NetConn returns the connection it counts (the TCP socket), as tls.Conn's
// NetConn does, so that code looking for the socket can look through it.
func (c *Conn) NetConn() net.Conn { return c.Conn }

// Refused returns why a connection returned by Listen with a nil Refuse is
// past a cap ("" for a connection within the caps).
func Refused(nc net.Conn) string {
	if c := Find(nc); c != nil {
		return c.refused
	}
	return ""
}

// Lift removes the connection's whole-session deadline (a client that has
// signed in). The door's next deadline is no longer bounded by it.
func Lift(nc net.Conn) {
	if c := Find(nc); c != nil {
		c.until.Store(0)
	}
}

// CloseAfterReply ends the connection as soon as the next write (the
// door's last reply) has been made: FIN is sent, reads see EOF from then on,
// and Close drains what the client still sends. It reports false when nc
// is not a Conn (the caller then closes it itself).
func CloseAfterReply(nc net.Conn) bool {
	c := Find(nc)
	if c == nil {
		return false
	}
	c.closeAfter.Store(true)
	return true
}

// lastWord is how long after the session deadline a write may still take:
// the door's reply saying why it closes.
const lastWord = 5 * time.Second

// clamp bounds a deadline by the whole-session deadline, plus grace.
func (c *Conn) clamp(t time.Time, grace time.Duration) time.Time {
	if u := c.until.Load(); u != 0 {
		if limit := time.Unix(0, u).Add(grace); t.IsZero() || t.After(limit) {
			return limit
		}
	}
	return t
}

// SetDeadline implements net.Conn, within the session deadline.
func (c *Conn) SetDeadline(t time.Time) error {
	return errors.Join(c.SetReadDeadline(t), c.SetWriteDeadline(t))
}

// SetReadDeadline implements net.Conn, within the session deadline.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.Conn.SetReadDeadline(c.clamp(t, 0)) }

// SetWriteDeadline implements net.Conn, within the session deadline.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	return c.Conn.SetWriteDeadline(c.clamp(t, lastWord))
}

// Read implements net.Conn.
func (c *Conn) Read(b []byte) (int, error) {
	if c.finished.Load() {
		return 0, io.EOF
	}
	n, err := c.Conn.Read(b)
	var ne net.Error
	if err != nil && errors.As(err, &ne) && ne.Timeout() && c.pastSessionLimit() {
		c.lim.m.sessionLimit.WithLabelValues(c.lim.door).Inc()
	}
	return n, err
}

func (c *Conn) pastSessionLimit() bool {
	u := c.until.Load()
	return u != 0 && time.Now().UnixNano() >= u
}

// Write implements net.Conn.
func (c *Conn) Write(b []byte) (int, error) {
	if c.finished.Load() {
		return 0, net.ErrClosed
	}
	n, err := c.Conn.Write(b)
	if c.closeAfter.Load() {
		c.finished.Store(true)
		if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
	}
	return n, err
}

// Close implements net.Conn; it counts the connection out once.
func (c *Conn) Close() error {
	err := net.ErrClosed
	c.once.Do(func() {
		if c.finished.Load() {
			c.until.Store(0)
			closeGently(c.Conn, 500*time.Millisecond)
			err = nil
		} else {
			err = c.Conn.Close()
		}
		if c.refused != "" {
			c.lim.refusing.Add(-1)
		} else {
			c.lim.release(c.key)
		}
	})
	return err
}
