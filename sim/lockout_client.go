package sim

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Verdicts of one sign-in as a client sees it (VerdictOK: signed in).
const (
	VerdictOK          = iota
	verdictBad         // IMAP NO [AUTHENTICATIONFAILED], SMTP 535
	verdictTemporary   // IMAP NO [UNAVAILABLE], SMTP 454: unavailable or locked
	verdictLocked      // a temporary failure whose text says locked
	verdictClientError // the connection failed
)

// SignInOnce connects from a local address, does STARTTLS and signs in over
// IMAP (LOGIN) or SMTP submission (AUTH PLAIN), then hangs up. It returns the
// verdict and how long the sign-in command took (not the connection and TLS
// handshake, which total reports).
func SignInOnce(proto, addr, from, user, secret string, tlsc *tls.Config) (verdict int, login, total time.Duration, err error) {
	start := time.Now()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 30 * time.Second}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return verdictClientError, 0, 0, err
	}
	_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
	switch proto {
	case "imap":
		c, err := imapclient.NewStartTLS(conn, &imapclient.Options{TLSConfig: tlsc})
		if err != nil {
			conn.Close()
			return verdictClientError, 0, 0, err
		}
		t := time.Now()
		err = c.Login(user, secret).Wait()
		login = time.Since(t)
		_ = c.Close()
		total = time.Since(start)
		var ie *imap.Error
		switch {
		case err == nil:
			return VerdictOK, login, total, nil
		case errors.As(err, &ie) && ie.Code == imap.ResponseCodeAuthenticationFailed:
			return verdictBad, login, total, nil
		case errors.As(err, &ie) && ie.Code == imap.ResponseCodeUnavailable:
			if len(ie.Text) >= 8 && ie.Text[:8] == "Too many" {
				return verdictLocked, login, total, nil
			}
			return verdictTemporary, login, total, nil
		}
		return verdictClientError, login, total, err
	default:
		c, err := smtp.NewClientStartTLS(conn, tlsc)
		if err != nil {
			conn.Close()
			return verdictClientError, 0, 0, err
		}
		t := time.Now()
		err = c.Auth(sasl.NewPlainClient("", user, secret))
		login = time.Since(t)
		_ = c.Close()
		total = time.Since(start)
		var se *smtp.SMTPError
		switch {
		case err == nil:
			return VerdictOK, login, total, nil
		case errors.As(err, &se) && se.Code == 535:
			return verdictBad, login, total, nil
		case errors.As(err, &se) && se.Code == 454:
			if len(se.Message) >= 8 && se.Message[:8] == "Too many" {
				return verdictLocked, login, total, nil
			}
			return verdictTemporary, login, total, nil
		}
		return verdictClientError, login, total, fmt.Errorf("smtp: %w", err)
	}
}

// BenchEmail is person k's address in `wardmail bench signin`.
func BenchEmail(k int) string { return fmt.Sprintf("d%06d@bench.nhs.test", k) }
