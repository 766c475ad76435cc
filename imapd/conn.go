package imapd

import (
	"bufio"
	"compress/flate"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"math"
	"net"
	"runtime/debug"
	"sync"
	"time"

	"wardmail/auth"
	"wardmail/imapd/wire"
	"wardmail/mail"
)

// state is a connection state (RFC 9051 3).
type state uint8

const (
	stateNotAuth state = 1 << iota
	stateAuth
	stateSelected
)

// conn is one client connection. Everything but shutdown runs on the
// connection's own goroutine.
type conn struct {
	srv *Server
	nc  net.Conn
	cid string
	log *slog.Logger
	lim *Limits

	r  *wire.Reader
	w  *wire.Writer
	br *bufio.Reader // under r, pooled
	bw *bufio.Writer // under w, pooled

	// ctx is cancelled when the connection ends; store calls use it.
	ctx    context.Context
	cancel context.CancelFunc

	tls    bool
	state  state
	person *mail.Person
	sel    *selected
	// notify is what the client asked to be told of (RFC 5465), nil
	// without NOTIFY.
	notify *notifier

	// compressed: COMPRESS=DEFLATE is on (RFC 4978); counted in the
	// server's compressed until the connection ends.
	compressed bool

	// Extensions the client turned on (RFC 5161 ENABLE, RFC 7162 3.1).
	condstore, qresync, rev2 bool
	// utf8Accept: UTF-8 in quoted strings, mailbox names and header
	// fields for an IMAP4rev1 client (RFC 6855 3).
	utf8Accept bool

	opened      time.Time // for the whole pre-authentication time limit
	preAuthCmds int
	badCmds     int
	okText      string // the tagged OK text for the running command, when not the default

	mu      sync.Mutex // guards closing, revoked and the read deadline against shutdown
	closing bool
	// revoked is what BYE says when the person's credentials were revoked
	// while signed in (creds, taken at sign-in).
	revoked string
	creds   *mail.CredWatch
	// takeIn is the INBOX's take-in of list posts started at sign-in
	// (mail.Service.TakeInAhead), until a command that takes in waits for it.
	takeIn *mail.TakeIn
}

func (s *Server) newConn(nc net.Conn, implicitTLS bool) *conn {
	c := &conn{srv: s, nc: nc, cid: newCID(), lim: &s.cfg.Limits, tls: implicitTLS, state: stateNotAuth, opened: time.Now()}
	c.log = s.log.With("cid", c.cid)
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.setStreams(nc)
	return c
}

// Connection buffers are pooled: a reconnect storm opens thousands of
// connections a second, each of which would otherwise allocate 80 KiB
// (twice, with STARTTLS) for the garbage collector to clear.
var (
	readBufs  = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 16<<10) }}
	writeBufs = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64<<10) }}
)

// setStreams points the buffered reader and writer at nc (a new
// connection, or the TLS layer after STARTTLS, when nothing is buffered).
func (c *conn) setStreams(nc net.Conn) {
	if c.r == nil {
		c.br, c.bw = readBufs.Get().(*bufio.Reader), writeBufs.Get().(*bufio.Writer)
		c.br.Reset(nc)
		c.bw.Reset(deadlineWriter{nc, c.lim.WriteTimeout})
		c.r = wire.NewReader(c.br, wire.Limits{MaxLine: c.lim.MaxLine, MaxDepth: c.lim.MaxDepth, MaxArgs: c.lim.MaxArgs})
		c.r.LiteralLimit = c.literalLimit
		c.r.CommandLimit = c.commandLimit
		c.r.Continue = func() error { return c.w.Raw("+ Ready for literal data\r\n").Flush() }
		c.w = wire.NewWriter(c.bw)
		return
	}
	c.br.Reset(nc)
	c.bw.Reset(deadlineWriter{nc, c.lim.WriteTimeout})
}

// deflate turns COMPRESS=DEFLATE on (RFC 4978 3): from here both
// directions are raw deflate streams (RFC 1951). What the client sent after
// COMPRESS is compressed already and may sit in the buffered reader, so the
// inflater reads from that. The deflater is flushed each time the buffered
// writer hands it data, which is once per response burst (run flushes after
// each command, IDLE after each update), so the client never waits for
// responses held in the compressor (RFC 4978 4).
func (c *conn) deflate() {
	c.r.Reset(bufio.NewReaderSize(flate.NewReader(c.br), 16<<10))
	fw, _ := flate.NewWriter(deadlineWriter{c.nc, c.lim.WriteTimeout}, flate.DefaultCompression) // the level is valid
	c.bw.Reset(syncFlushWriter{fw})
}

// syncFlushWriter compresses each write and flushes it out at once.
type syncFlushWriter struct{ fw *flate.Writer }

func (s syncFlushWriter) Write(b []byte) (int, error) {
	n, err := s.fw.Write(b)
	if err == nil {
		err = s.fw.Flush()
	}
	return n, err
}

// releaseStreams returns the buffers to their pools once the connection is
// closed and nothing reads or writes them.
func (c *conn) releaseStreams() {
	c.br.Reset(nil)
	c.bw.Reset(nil)
	readBufs.Put(c.br)
	writeBufs.Put(c.bw)
	c.br, c.bw = nil, nil
}

// deadlineWriter gives every write to the network a deadline, so a client
// that stops reading cannot hold a session forever.
type deadlineWriter struct {
	nc      net.Conn
	timeout time.Duration
}

func (d deadlineWriter) Write(b []byte) (int, error) {
	if err := d.nc.SetWriteDeadline(time.Now().Add(d.timeout)); err != nil {
		return 0, err
	}
	return d.nc.Write(b)
}

func (c *conn) literalLimit(command string) int64 {
	if c.state == stateNotAuth {
		return c.lim.MaxPreAuthLiteral
	}
	if command == "APPEND" || command == "REPLACE" {
		return c.lim.MaxLiteral
	}
	return int64(c.lim.MaxLine)
}

// commandLimit bounds the literals of one command together: an APPEND
// may carry several messages (RFC 3502), all held until the last arrives.
func (c *conn) commandLimit(command string) int64 {
	if c.state != stateNotAuth && (command == "APPEND" || command == "REPLACE") {
		return c.lim.MaxAppendTotal
	}
	return math.MaxInt64
}

// shutdown asks the connection to say BYE and end; it is called by
// Server.Close from another goroutine. A blocked read returns at once.
func (c *conn) shutdown() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closing = true
	_ = c.nc.SetReadDeadline(time.Now())
}

// revoke ends the session because its credentials were revoked: a command
// running now finishes, and the next read (the next command, or IDLE's
// DONE) is cut short with BYE. It is called by the store's revocation hub,
// from another goroutine.
func (c *conn) revoke(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.revoked = auth.RevokedSentence(reason)
	_ = c.nc.SetReadDeadline(time.Now())
}

// endText is what BYE says when a read stopped at its deadline.
func (c *conn) endText() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.revoked != "":
		return c.revoked
	case c.closing:
		return "Server shutting down."
	case c.state == stateNotAuth && time.Since(c.opened) >= c.lim.PreAuthSession:
		return "Sign in within " + c.lim.PreAuthSession.String() + " of connecting; closing the connection."
	}
	return "Autologout; idle for too long."
}

// armRead sets the read deadline for the connection's state, or reports
// false when the server is shutting down or the session was revoked.
func (c *conn) armRead(timeout time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing || c.revoked != "" {
		return false
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(timeout))
	return true
}

// readTimeout is how long the next command may take to arrive: before
// authentication, within both the idle time and what is left of the whole
// pre-authentication time (so NOOPs cannot hold a connection).
func (c *conn) readTimeout() time.Duration {
	if c.state == stateNotAuth {
		return max(min(c.lim.PreAuthTimeout, time.Until(c.opened.Add(c.lim.PreAuthSession))), time.Nanosecond)
	}
	return c.lim.IdleTimeout
}

func (c *conn) serve() {
	c.srv.metrics.connections.Inc()
	defer c.srv.metrics.connections.Dec()
	defer c.cancel()
	defer func() {
		if c.creds != nil {
			c.creds.Close()
		}
		if c.sel != nil {
			c.sel.close()
		}
		c.stopNotify()
		if c.compressed {
			c.srv.compressed.Add(-1)
		}
		if err := c.nc.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			c.log.Debug("closing connection", "err", err)
		}
		c.releaseStreams()
	}()
	c.log.Info("connection opened", "remote", c.nc.RemoteAddr().String(), "tls", c.tls)
	if tc, ok := c.nc.(*tls.Conn); ok {
		// Handshake now, within the pre-authentication deadline, so a
		// failed handshake is logged as such.
		_ = tc.SetDeadline(time.Now().Add(c.readTimeout()))
		if err := tc.HandshakeContext(c.ctx); err != nil {
			c.log.Info("TLS handshake failed", "err", err)
			return
		}
		_ = tc.SetDeadline(time.Time{})
	}
	c.w.Raw("* OK [CAPABILITY ").Raw(c.capabilities()).Raw("] Wardmail IMAP ready.\r\n")
	if c.w.Flush() != nil {
		return
	}
	for {
		if !c.armRead(c.readTimeout()) {
			c.bye(c.endText())
			return
		}
		if err := c.awaitCommand(); err != nil {
			if !c.readFailed(err) {
				return
			}
			continue
		}
		cmd, err := c.r.ReadCommand()
		if err != nil {
			if !c.readFailed(err) {
				return
			}
			continue
		}
		if !c.run(cmd) {
			return
		}
	}
}

// readFailed answers a command the reader refused and reports whether the
// connection goes on.
func (c *conn) readFailed(err error) bool {
	var we *wire.Error
	if errors.As(err, &we) {
		kind := "BAD"
		if we.No {
			kind = "NO"
		}
		c.w.Raw(we.Tag).SP().Raw(kind).SP()
		if we.Code != "" {
			c.w.Raw("[").Raw(we.Code).Raw("] ")
		}
		c.w.Raw(we.Msg).CRLF()
		if we.Fatal {
			c.bye("Closing the connection after a protocol error.")
			c.drain()
			return false
		}
		if c.state == stateNotAuth && !we.No {
			c.bye("Too many errors before authentication.")
			return false
		}
		return c.countBad() && c.w.Flush() == nil
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		c.bye(c.endText())
		return false
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		c.log.Debug("read failed", "err", err)
	}
	return false
}

// drain reads and drops what the client is still sending (briefly and
// boundedly) before the connection closes, so that closing with unread data
// does not reset the connection before the client has read the answer.
func (c *conn) drain() {
	if !c.armRead(500 * time.Millisecond) {
		return
	}
	_, _ = io.CopyN(io.Discard, c.nc, 1<<20)
}

// countBad counts a BAD answer and says BYE past the limit.
func (c *conn) countBad() bool {
	c.badCmds++
	if c.badCmds >= c.lim.MaxBadCommands {
		c.bye("Too many invalid commands.")
		return false
	}
	return true
}

// bye sends an untagged BYE and flushes.
func (c *conn) bye(text string) {
	c.w.Raw("* BYE ").Raw(text).CRLF()
	if err := c.w.Flush(); err != nil {
		c.log.Debug("writing BYE", "err", err)
	}
}

// run runs one command and writes its tagged answer. It reports whether the
// connection goes on.
func (c *conn) run(cmd *wire.Command) (goOn bool) {
	spec, known := commands[cmd.Name]
	if cmd.UID && !spec.uid {
		known = false
	}
	name := cmd.Name
	if cmd.UID {
		name = "UID " + name
	}
	if !known {
		c.srv.metrics.command("unknown", resultBAD, 0)
		c.tagged(cmd.Tag, "BAD", "", "Unknown command.")
		if c.state == stateNotAuth {
			c.bye("Unknown command before authentication.")
			return false
		}
		return c.countBad() && c.w.Flush() == nil
	}
	if c.state == stateNotAuth {
		c.preAuthCmds++
		if c.preAuthCmds > c.lim.MaxPreAuthCommands {
			c.bye("Too many commands before authentication.")
			return false
		}
	}
	if spec.states&c.state == 0 {
		c.srv.metrics.command(name, resultBAD, 0)
		c.tagged(cmd.Tag, "BAD", "", stateError(c.state))
		return c.countBad() && c.w.Flush() == nil
	}
	start := time.Now()
	c.okText = ""
	err := c.call(spec.fn, cmd)
	if errors.Is(err, errClosed) {
		c.srv.metrics.command(name, resultOK, time.Since(start))
		return false
	}
	// Changes that arrived while the command ran are reported after it
	// (RFC 9051 7.5.1: no EXPUNGE during FETCH, STORE or SEARCH), except
	// after SELECT and EXAMINE: a client counts the messages from their
	// EXISTS, and an EXPUNGE inside the same response would make that
	// count wrong for clients that do not apply it. The next command
	// reports them.
	if c.sel != nil && !errors.Is(err, errAnswered) && name != "SELECT" && name != "EXAMINE" {
		if serr := c.sync(!spec.noExpunge || cmd.UID); serr != nil {
			c.log.Warn("reporting mailbox changes", "err", serr)
		}
	}
	result := resultOK
	switch {
	case err == nil || errors.Is(err, errLogout):
		text := c.okText
		if text == "" {
			text = name + " completed."
		}
		c.tagged(cmd.Tag, "OK", "", text)
	case errors.Is(err, errAnswered):
	default:
		re := storeError(err)
		if re == nil {
			c.log.Error("command failed", "command", name, "err", err)
			re = &respError{code: "UNAVAILABLE", msg: "Internal error; try again later."}
		}
		kind := "NO"
		result = resultNO
		if re.bad {
			kind, result = "BAD", resultBAD
		}
		c.tagged(cmd.Tag, kind, re.code, re.msg)
		if re.bad && !c.countBad() {
			c.srv.metrics.command(name, result, time.Since(start))
			return false
		}
	}
	c.srv.metrics.command(name, result, time.Since(start))
	if werr := c.w.Flush(); werr != nil {
		return false
	}
	return !errors.Is(err, errLogout)
}

// call runs a handler, turning a panic into "* BYE internal error".
func (c *conn) call(fn handler, cmd *wire.Command) (err error) {
	defer func() {
		if p := recover(); p != nil {
			c.srv.metrics.panics.Inc()
			c.log.Error("panic in command", "command", cmd.Name, "panic", p, "stack", string(debug.Stack()))
			c.bye("Internal error.")
			err = errClosed
		}
	}()
	return fn(c, cmd)
}

// tagged writes a tagged status response.
func (c *conn) tagged(tag, kind, code, text string) {
	c.w.Raw(tag).SP().Raw(kind).SP()
	if code != "" {
		c.w.Byte('[').Raw(code).Raw("] ")
	}
	c.w.Raw(text).CRLF()
}

// untagged writes "* OK [code] text" and the like.
func (c *conn) untagged(kind, code, text string) { c.tagged("*", kind, code, text) }

func stateError(s state) string {
	switch s {
	case stateNotAuth:
		return "Sign in first."
	case stateAuth:
		return "Select a mailbox first."
	}
	return "Command not valid in this state."
}
