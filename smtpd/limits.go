package smtpd

import (
	"io"
	"net"
	"time"

	"github.com/emersion/go-smtp"

	"wardmail/connlimit"
)

// errEnded answers what a client pipelined after a 421; it is never sent,
// as the connection is closed by then.
var errEnded = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Closing the connection"}

// end makes reply (a 421) the session's last: the connection closes as
// soon as go-smtp has written it (RFC 5321 3.8), and nothing the client
// pipelined after it is answered.
func (s *session) end(reply *smtp.SMTPError) error {
	s.ended = true
	if !connlimit.CloseAfterReply(s.conn.Conn()) {
		go func() {
			time.Sleep(50 * time.Millisecond) // not a counted connection: let go-smtp write the reply first
			_ = s.conn.Close()
		}()
	}
	return reply
}

// rateReader cuts a message that arrives too slowly: it must arrive within
// grace plus one second per rate bytes, a read deadline that moves on with
// every byte received.
type rateReader struct {
	r     io.Reader
	nc    net.Conn
	start time.Time
	grace time.Duration
	rate  int64
	n     int64

	deadline time.Time
}

func (d *rateReader) Read(b []byte) (int, error) {
	d.deadline = d.start.Add(d.grace + time.Duration(d.n*int64(time.Second)/d.rate))
	_ = d.nc.SetReadDeadline(d.deadline)
	n, err := d.r.Read(b)
	d.n += int64(n)
	return n, err
}
