package web

import (
	"bufio"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// RedirectPlainHTTP wraps the HTTPS door's listener so that someone who
// types http://host:port/ (the same port) is sent to https:// rather than
// shown a browser error or TLS bytes. A TLS connection starts with a
// handshake record, content type 22 (RFC 8446 5.1); anything else is read
// as an HTTP/1.x request and answered with a permanent redirect to the same
// address over HTTPS, then closed. Accept returns TLS connections only.
//
// The first byte is waited for on a goroutine per connection, so a client
// that connects and says nothing holds up no one else; it is dropped after
// peekTimeout.
func RedirectPlainHTTP(l net.Listener, log *slog.Logger) net.Listener {
	r := &redirectListener{Listener: l, conns: make(chan net.Conn), done: make(chan struct{}), log: log}
	go r.loop()
	return r
}

const (
	peekTimeout        = 10 * time.Second
	maxPlainReq        = 8 << 10 // a request head larger than this gets no answer
	tlsHandshakeRecord = 0x16
)

type redirectListener struct {
	net.Listener
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
	err   error // the underlying Accept's error, once it failed
	log   *slog.Logger
}

func (r *redirectListener) loop() {
	for {
		c, err := r.Listener.Accept()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			r.closeWith(err)
			return
		}
		go r.sort(c)
	}
}

// sort hands a TLS connection to Accept, and answers anything else.
func (r *redirectListener) sort(c net.Conn) {
	br := bufio.NewReaderSize(c, 4096)
	_ = c.SetReadDeadline(time.Now().Add(peekTimeout))
	first, err := br.Peek(1)
	if err != nil {
		_ = c.Close()
		return
	}
	if first[0] != tlsHandshakeRecord {
		r.redirect(c, br)
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	select {
	case r.conns <- &peekedConn{Conn: c, r: br}:
	case <-r.done:
		_ = c.Close()
	}
}

func (r *redirectListener) redirect(c net.Conn, br *bufio.Reader) {
	defer c.Close()
	req, err := http.ReadRequest(bufio.NewReader(&limitedReader{r: br, n: maxPlainReq}))
	if err != nil {
		return // not HTTP either: nothing sensible to say
	}
	host := req.Host
	if host == "" {
		host = c.LocalAddr().String()
	}
	target := "https://" + host + req.URL.RequestURI()
	body := "This address is HTTPS only: " + target + "\n"
	_ = c.SetWriteDeadline(time.Now().Add(peekTimeout))
	_, err = fmt.Fprintf(c, "HTTP/1.1 301 Moved Permanently\r\nLocation: %s\r\nContent-Type: text/plain; charset=utf-8\r\n"+
		"Content-Length: %d\r\nConnection: close\r\n\r\n%s", target, len(body), body)
	if err != nil {
		r.log.Debug("answering plain HTTP on the HTTPS port", "remote", c.RemoteAddr().String(), "err", err)
	}
}

func (r *redirectListener) Accept() (net.Conn, error) {
	select {
	case c := <-r.conns:
		return c, nil
	case <-r.done:
		if r.err != nil { // set before done was closed
			return nil, r.err
		}
		return nil, net.ErrClosed
	}
}

// closeWith ends Accept with err (nil: net.ErrClosed). Only the first call
// sets it, before done is closed, so Accept reads it after the close.
func (r *redirectListener) closeWith(err error) {
	r.once.Do(func() {
		r.err = err
		close(r.done)
	})
}

func (r *redirectListener) Close() error {
	err := r.Listener.Close()
	r.closeWith(nil)
	return err
}

// peekedConn is a connection whose first bytes were read into r.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// NetConn is the connection under the peek, for wrappers looking through
// (connlimit.Find).
func (c *peekedConn) NetConn() net.Conn { return c.Conn }

// limitedReader stops at n bytes (http.ReadRequest reads a head of any size).
type limitedReader struct {
	r *bufio.Reader
	n int
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, fmt.Errorf("request head over %d bytes", maxPlainReq)
	}
	if len(p) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= n
	return n, err
}
