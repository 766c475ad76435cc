package outbound

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"wardmail/store"
)

// client is one SMTP connection to a remote server (RFC 5321), carrying as
// many transactions as the destination has messages for it.
type client struct {
	nc      net.Conn
	br      *bufio.Reader
	bw      *bufio.Writer
	host    string            // the MX host name
	ext     map[string]string // EHLO keywords and their parameters
	tls     *tls.ConnectionState
	timeout time.Duration
	helo    string
}

// dial connects and reads the greeting (RFC 5321 4.3.1). A greeting other
// than 220 is returned as the reply with an error.
func dial(ctx context.Context, d *net.Dialer, addr, host string, timeout time.Duration) (*client, *Reply, error) {
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	c := &client{nc: nc, br: bufio.NewReaderSize(nc, 4096), bw: bufio.NewWriterSize(nc, 32<<10), host: host, timeout: timeout}
	r, err := c.read()
	if err != nil {
		_ = nc.Close()
		return nil, nil, err
	}
	if r.Code != 220 {
		_ = c.close()
		return nil, r, fmt.Errorf("greeting: %s", r)
	}
	return c, r, nil
}

func (c *client) read() (*Reply, error) {
	if err := c.nc.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
		return nil, err
	}
	return readReply(c.br)
}

func (c *client) write(format string, args ...any) error {
	if err := c.nc.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
		return err
	}
	_, err := fmt.Fprintf(c.bw, format+"\r\n", args...)
	return err
}

func (c *client) cmd(format string, args ...any) (*Reply, error) {
	if err := c.write(format, args...); err != nil {
		return nil, err
	}
	if err := c.bw.Flush(); err != nil {
		return nil, err
	}
	return c.read()
}

// hello sends EHLO, and HELO when EHLO is refused (RFC 5321 4.1.4).
func (c *client) hello(name string) (*Reply, error) {
	c.helo = name
	r, err := c.cmd("EHLO %s", name)
	if err != nil {
		return nil, err
	}
	c.ext = map[string]string{}
	if r.Code == 250 {
		for _, l := range r.Lines[1:] {
			k, v, _ := strings.Cut(l, " ")
			c.ext[strings.ToUpper(k)] = v
		}
		return r, nil
	}
	if r.Code >= 500 && r.Code < 600 && r.Code != 554 {
		r, err = c.cmd("HELO %s", name)
		if err != nil {
			return nil, err
		}
		if r.Code == 250 {
			return r, nil
		}
	}
	return r, fmt.Errorf("EHLO: %s", r)
}

func (c *client) has(ext string) bool { _, ok := c.ext[ext]; return ok }

// maxSize is the server's SIZE limit (RFC 1870), 0 when it states none.
func (c *client) maxSize() int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(c.ext["SIZE"]), 10, 64)
	return n
}

// startTLS upgrades the connection (RFC 3207) and says hello again, as the
// server forgets what it knew (4.2).
func (c *client) startTLS(cfg *tls.Config) error {
	r, err := c.cmd("STARTTLS")
	if err != nil {
		return err
	}
	if r.Code != 220 {
		return fmt.Errorf("STARTTLS: %s", r)
	}
	tc := tls.Client(c.nc, cfg)
	if err := tc.SetDeadline(time.Now().Add(c.timeout)); err != nil {
		return err
	}
	if err := tc.Handshake(); err != nil {
		return err
	}
	st := tc.ConnectionState()
	c.nc, c.tls = tc, &st
	c.br.Reset(tc)
	c.bw.Reset(tc)
	_, err = c.hello(c.helo)
	return err
}

// txOptions are the MAIL parameters of one transaction.
type txOptions struct {
	size       int64
	eightBit   bool
	smtputf8   bool
	requireTLS bool
	// The DSN parameters (RFC 3461 4), passed on when the server offers
	// DSN: ENVID and RET, and NOTIFY and ORCPT per recipient (rcptDSN
	// is nil or one per recipient).
	envid   string
	ret     string
	rcptDSN []store.RcptDSN
}

// txResult is what the server said in one transaction.
type txResult struct {
	mail  *Reply
	rcpts []*Reply // one per recipient; nil when the server never answered
	data  *Reply   // the final reply to the message; nil when not reached
	sent  bool     // the whole message was sent: a lost reply may mean it arrived
}

// send runs one mail transaction: MAIL, a RCPT per recipient, DATA and the
// message (prefix, then body), pipelined when the server offers PIPELINING
// (RFC 2920). An error means the connection is no longer usable; the
// replies read before it are in the result.
func (c *client) send(from string, rcpts []string, o txOptions, prefix, body []byte) (*txResult, error) {
	res := &txResult{rcpts: make([]*Reply, len(rcpts))}
	mail := "MAIL FROM:<" + from + ">"
	if c.has("SIZE") && o.size > 0 {
		mail += " SIZE=" + strconv.FormatInt(o.size, 10)
	}
	if o.eightBit && c.has("8BITMIME") {
		mail += " BODY=8BITMIME"
	}
	if o.smtputf8 && c.has("SMTPUTF8") {
		mail += " SMTPUTF8"
	}
	if o.requireTLS && c.has("REQUIRETLS") {
		mail += " REQUIRETLS"
	}
	dsn := c.has("DSN")
	if dsn && o.ret != "" {
		mail += " RET=" + o.ret
	}
	if dsn && o.envid != "" {
		mail += " ENVID=" + XtextEncode(o.envid)
	}
	rcptLine := func(i int) string {
		line := "RCPT TO:<" + rcpts[i] + ">"
		if !dsn || i >= len(o.rcptDSN) {
			return line
		}
		if n := o.rcptDSN[i].Notify; n != "" {
			line += " NOTIFY=" + n
		}
		if typ, addr, ok := strings.Cut(o.rcptDSN[i].ORcpt, ";"); ok {
			line += " ORCPT=" + typ + ";" + XtextEncode(addr)
		}
		return line
	}
	pipelined := c.has("PIPELINING")
	if pipelined {
		if err := c.write("%s", mail); err != nil {
			return res, err
		}
		for i := range rcpts {
			if err := c.write("%s", rcptLine(i)); err != nil {
				return res, err
			}
		}
		if err := c.write("DATA"); err != nil {
			return res, err
		}
		if err := c.bw.Flush(); err != nil {
			return res, err
		}
	}
	next := func(line string) (*Reply, error) {
		if pipelined {
			return c.read()
		}
		return c.cmd("%s", line)
	}
	var err error
	if res.mail, err = next(mail); err != nil {
		return res, err
	}
	accepted := 0
	for i := range rcpts {
		if !pipelined && res.mail.Code != 250 {
			break
		}
		if res.rcpts[i], err = next(rcptLine(i)); err != nil {
			return res, err
		}
		if res.rcpts[i].Code == 250 || res.rcpts[i].Code == 251 {
			accepted++
		}
	}
	if !pipelined && (res.mail.Code != 250 || accepted == 0) {
		return res, c.reset()
	}
	dataReply, err := next("DATA")
	if err != nil {
		return res, err
	}
	if dataReply.Code != 354 {
		if res.mail.Code == 250 && accepted > 0 {
			res.data = dataReply // the server refused the message itself
		}
		return res, c.reset()
	}
	if res.mail.Code != 250 || accepted == 0 {
		// A server that says 354 with nobody to deliver to gets an empty
		// message, which it must refuse (RFC 2920 3.1).
		if _, err := c.cmd("."); err != nil {
			return res, err
		}
		return res, c.reset()
	}
	if err := c.nc.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
		return res, err
	}
	if err := writeDotStuffed(c.bw, prefix, body); err != nil {
		return res, err
	}
	if err := c.bw.Flush(); err != nil {
		return res, err
	}
	res.sent = true
	if err := c.nc.SetReadDeadline(time.Now().Add(2 * c.timeout)); err != nil { // RFC 5321 4.5.3.2.6: 10 minutes
		return res, err
	}
	res.data, err = readReply(c.br)
	return res, err
}

// reset ends a transaction that did not reach the message (RFC 5321 4.1.1.5).
func (c *client) reset() error {
	r, err := c.cmd("RSET")
	if err != nil {
		return err
	}
	if r.Code != 250 {
		return fmt.Errorf("RSET: %s", r)
	}
	return nil
}

// quit says goodbye and closes (RFC 5321 4.1.1.10).
func (c *client) quit() error {
	_, err := c.cmd("QUIT")
	return errors.Join(err, c.close())
}

func (c *client) close() error { return c.nc.Close() }

// writeDotStuffed writes the message with every line that starts with a
// period doubled and the end-of-data line (RFC 5321 4.5.2). The message is
// already CRLF (package submit makes it so).
func writeDotStuffed(w *bufio.Writer, parts ...[]byte) error {
	bol := true
	var last byte = '\n'
	for _, p := range parts {
		for len(p) > 0 {
			if bol && p[0] == '.' {
				if err := w.WriteByte('.'); err != nil {
					return err
				}
			}
			i := bytes.IndexByte(p, '\n')
			var chunk []byte
			if i < 0 {
				chunk, p, bol = p, nil, false
			} else {
				chunk, p, bol = p[:i+1], p[i+1:], true
			}
			if _, err := w.Write(chunk); err != nil {
				return err
			}
			last = chunk[len(chunk)-1]
		}
	}
	if last != '\n' {
		if _, err := w.WriteString("\r\n"); err != nil {
			return err
		}
	}
	_, err := w.WriteString(".\r\n")
	return err
}
