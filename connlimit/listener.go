package connlimit

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Refuse tells a refused client why, in the door's protocol, on the raw
// connection (an implicit-TLS door does its handshake first). reason is
// ReasonTotal or ReasonNetwork. The connection has a deadline and is closed
// afterwards by the listener.
type Refuse func(nc net.Conn, reason string)

// Listen wraps a door's socket. Accept never fails but for a closed
// listener: other errors are logged, counted and retried after a pause of
// 5 ms doubling to 1 s. A connection past a cap is answered by refuse in a
// goroutine of its own and never returned; with refuse nil it is returned
// marked (see Refused), for a door whose protocol answers only after
// reading a request (HTTP), with at most 5 s to live.
func (l *Limiter) Listen(inner net.Listener, refuse Refuse) net.Listener {
	return &listener{Listener: inner, lim: l, refuse: refuse, done: make(chan struct{})}
}

type listener struct {
	net.Listener
	lim     *Limiter
	refuse  Refuse
	done    chan struct{}
	once    sync.Once
	lastLog atomic.Int64 // when the last refusal was logged (unix ns)
}

func (ln *listener) Close() error {
	ln.once.Do(func() { close(ln.done) })
	return ln.Listener.Close()
}

func (ln *listener) Accept() (net.Conn, error) {
	var delay time.Duration
	for {
		nc, err := ln.Listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil, err
			}
			select {
			case <-ln.done:
				return nil, net.ErrClosed
			default:
			}
			// Like net/http's Server: out of file descriptors (EMFILE,
			// ENFILE), buffers or the like is a state that passes; the
			// door waits and tries again rather than stopping.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			ln.lim.m.acceptErrors.WithLabelValues(ln.lim.door).Inc()
			ln.lim.log.Warn("accept failed; retrying", "err", err, "after", delay)
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-ln.done:
				t.Stop()
				return nil, net.ErrClosed
			}
			continue
		}
		delay = 0
		c, reason := ln.lim.admit(nc)
		if c != nil {
			return c, nil
		}
		if rc := ln.refused(nc, reason); rc != nil {
			return rc, nil
		}
	}
}

// refused deals with a connection past a cap: it answers it, or returns it
// marked for the door to answer.
func (ln *listener) refused(nc net.Conn, reason string) net.Conn {
	lim := ln.lim
	if lim.refusing.Add(1) > maxRefusing {
		lim.refusing.Add(-1)
		lim.m.refused.WithLabelValues(lim.door, ReasonBusy).Inc()
		_ = nc.Close()
		return nil
	}
	lim.m.refused.WithLabelValues(lim.door, reason).Inc()
	// A flood is refused many times a second: one log line a second says so.
	if now := time.Now().UnixNano(); now-ln.lastLog.Load() > int64(time.Second) {
		ln.lastLog.Store(now)
		lim.log.Info("connection refused", "reason", reason, "remote", nc.RemoteAddr().String(),
			"network", Network(nc.RemoteAddr()).String())
	}
	until := time.Now().Add(refuseTimeout)
	if ln.refuse == nil {
		c := &Conn{Conn: nc, lim: lim, refused: reason}
		c.until.Store(until.UnixNano())
		_ = nc.SetDeadline(until)
		return c
	}
	go func() {
		defer lim.refusing.Add(-1)
		_ = nc.SetDeadline(until)
		ln.refuse(nc, reason)
		// A refused client has rarely sent anything yet: a short drain
		// keeps the refusals in flight few during a flood.
		closeGently(nc, 20*time.Millisecond)
	}()
	return nil
}

// closeGently ends a connection after its last reply: it sends FIN, then
// reads and drops what the client was still sending (briefly, boundedly),
// so that the close does not become a reset that could destroy the reply
// before the client has read it.
func closeGently(nc net.Conn, wait time.Duration) {
	if cw, ok := nc.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	_ = nc.SetReadDeadline(time.Now().Add(wait))
	_, _ = io.CopyN(io.Discard, nc, 64<<10)
	_ = nc.Close()
}
