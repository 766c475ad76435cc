package bench

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// stressConn is a line-level IMAP client for the stress run: it sees every
// byte the server sends, so it can count what a library would hide (a BAD,
// an untagged response after BYE).
type stressConn struct {
	nc  net.Conn
	br  *bufio.Reader
	tag int
	// exists is the message count of the selected mailbox as the server
	// last said (EXISTS, less each EXPUNGE).
	exists int
	// Protocol errors seen on this connection.
	bad, afterBye int
	lastErr       string
}

// stressReply is a command's untagged lines and its tagged status.
type stressReply struct {
	untagged []string
	status   string // OK, NO or BAD
	text     string
}

func dialStress(addr string) (*stressConn, error) {
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	c := &stressConn{nc: nc, br: bufio.NewReaderSize(nc, 64<<10)}
	if _, err := c.line(); err != nil { // the greeting
		nc.Close()
		return nil, err
	}
	return c, nil
}

// line reads one response line with its literals inline.
func (c *stressConn) line() (string, error) {
	_ = c.nc.SetReadDeadline(time.Now().Add(60 * time.Second))
	l, err := c.br.ReadString('\n')
	if err != nil {
		return "", err
	}
	l = strings.TrimRight(l, "\r\n")
	for strings.HasSuffix(l, "}") {
		i := strings.LastIndexByte(l, '{')
		if i < 0 {
			break
		}
		n, err := strconv.Atoi(strings.TrimSuffix(l[i+1:len(l)-1], "+"))
		if err != nil || n < 0 || n > 64<<20 {
			break
		}
		if _, err := io.CopyN(io.Discard, c.br, int64(n)); err != nil {
			return "", err
		}
		rest, err := c.br.ReadString('\n')
		if err != nil {
			return "", err
		}
		l = l[:i] + "{literal}" + strings.TrimRight(rest, "\r\n")
	}
	return l, nil
}

// cmd sends a command and reads to its tagged answer, tracking EXISTS and
// EXPUNGE and counting protocol errors.
func (c *stressConn) cmd(format string, a ...any) (*stressReply, error) {
	c.tag++
	tag := "s" + strconv.Itoa(c.tag)
	_ = c.nc.SetWriteDeadline(time.Now().Add(60 * time.Second))
	if _, err := fmt.Fprintf(c.nc, "%s %s\r\n", tag, fmt.Sprintf(format, a...)); err != nil {
		return nil, err
	}
	return c.read(tag)
}

// appendMsg sends APPEND with a synchronising literal.
func (c *stressConn) appendMsg(mailbox string, msg []byte) (*stressReply, error) {
	c.tag++
	tag := "s" + strconv.Itoa(c.tag)
	_ = c.nc.SetWriteDeadline(time.Now().Add(60 * time.Second))
	if _, err := fmt.Fprintf(c.nc, "%s APPEND %s {%d}\r\n", tag, mailbox, len(msg)); err != nil {
		return nil, err
	}
	l, err := c.line()
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(l, "+") {
		return c.finish(tag, l, &stressReply{})
	}
	if _, err := c.nc.Write(append(msg, '\r', '\n')); err != nil {
		return nil, err
	}
	return c.read(tag)
}

func (c *stressConn) read(tag string) (*stressReply, error) {
	r := &stressReply{}
	for {
		l, err := c.line()
		if err != nil {
			return nil, err
		}
		if done, err := c.finish(tag, l, r); done != nil || err != nil {
			return done, err
		}
	}
}

// finish takes one line of an answer; it returns the reply once the tagged
// line is read.
func (c *stressConn) finish(tag, l string, r *stressReply) (*stressReply, error) {
	if strings.HasPrefix(l, "* ") {
		r.untagged = append(r.untagged, l)
		f := strings.Fields(l)
		if len(f) >= 3 {
			switch strings.ToUpper(f[2]) {
			case "EXISTS":
				c.exists, _ = strconv.Atoi(f[1])
			case "EXPUNGE":
				c.exists--
			}
		}
		return nil, nil
	}
	if !strings.HasPrefix(l, tag+" ") {
		return nil, nil // a continuation or another tag: not ours
	}
	st, text, _ := strings.Cut(l[len(tag)+1:], " ")
	r.status, r.text = strings.ToUpper(st), text
	if r.status == "BAD" {
		c.bad++
		c.lastErr = l
	}
	return r, nil
}

// startTLS upgrades the connection (both servers are asked the same way).
func (c *stressConn) startTLS() error {
	r, err := c.cmd("STARTTLS")
	if err != nil {
		return err
	}
	if r.status != "OK" {
		return fmt.Errorf("STARTTLS: %s %s", r.status, r.text)
	}
	tc := tls.Client(c.nc, &tls.Config{InsecureSkipVerify: true}) // both servers use a self-signed test certificate
	if err := tc.Handshake(); err != nil {
		return err
	}
	c.nc, c.br = tc, bufio.NewReaderSize(tc, 64<<10)
	return nil
}

// logout says LOGOUT and counts anything but the tagged OK after the BYE
// (RFC 9051 7.1.5).
func (c *stressConn) logout() error {
	defer c.nc.Close()
	c.tag++
	tag := "s" + strconv.Itoa(c.tag)
	if _, err := fmt.Fprintf(c.nc, "%s LOGOUT\r\n", tag); err != nil {
		return err
	}
	bye := false
	for {
		l, err := c.line()
		if err != nil {
			if bye && err == io.EOF {
				return nil
			}
			return err
		}
		switch {
		case strings.HasPrefix(l, "* BYE"):
			bye = true
		case strings.HasPrefix(l, tag+" "):
			if !strings.HasPrefix(l, tag+" OK") {
				c.bad++
				c.lastErr = l
			}
			return nil
		case bye:
			c.afterBye++
			c.lastErr = "after BYE: " + l
		}
	}
}
