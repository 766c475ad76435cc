package smtpd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"wardmail/auth"
	"wardmail/connlimit"
	"wardmail/quickack"
	"wardmail/submit"
)

// Authenticator checks a person's credentials (auth.Login does).
type Authenticator interface {
	Authenticate(ctx context.Context, username, password string) (*auth.Person, error)
}

// session is one SMTP connection's transaction state.
type session struct {
	srv    *Server
	conn   *smtp.Conn
	log    *slog.Logger
	sender submit.Sender
	from   string
	rcpts  []submit.Recipient
	bad    int
	ended  bool // a 421 closed the session; pipelined commands get no work
	// creds ends the session when the person's credentials are revoked
	// after it signed in (revoke.go).
	creds *auth.CredWatch
}

var (
	errAuthUnavailable = &smtp.SMTPError{Code: 454, EnhancedCode: smtp.EnhancedCode{4, 7, 0},
		Message: "Sign-in is temporarily unavailable; your password was not counted as wrong, please try again shortly"}
	errInternal = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
		Message: "Internal error; please try again later"}
)

func (s *session) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.srv.cfg.ReadTimeout)
}

// Reset implements smtp.Session.
func (s *session) Reset() {
	s.from = ""
	s.rcpts = nil
	s.sender.RequireTLS = false
	s.sender.EnvID, s.sender.Ret = "", ""
}

// Logout implements smtp.Session. go-smtp also ends the plain session right
// after a STARTTLS handshake (RFC 3207 4.2: the client starts again with
// EHLO); the client's Finished then waits for an ACK that the server, with
// nothing to send, would delay, holding back the EHLO of a client with
// Nagle's algorithm (package quickack). Sending it at the end of a session
// over TLS costs at most one segment.
func (s *session) Logout() error {
	if _, isTLS := s.conn.TLSConnectionState(); isTLS {
		quickack.Ack(s.conn.Conn())
	}
	if s.creds != nil {
		s.creds.Close()
	}
	return nil
}

// AuthMechanisms implements smtp.AuthSession: only the submission door
// offers AUTH.
func (s *session) AuthMechanisms() []string {
	if !s.srv.cfg.Submission {
		return nil
	}
	return []string{sasl.Plain, sasl.Login}
}

// Auth implements smtp.AuthSession.
func (s *session) Auth(mech string) (sasl.Server, error) {
	if !s.srv.cfg.Submission {
		return nil, smtp.ErrAuthUnsupported
	}
	check := func(identity, username, password string) error {
		if identity != "" && identity != username {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Acting for another person is not supported"}
		}
		return s.authenticate(username, password)
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(check), nil
	case sasl.Login:
		return newLoginServer(func(u, p string) error { return check("", u, p) }), nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *session) authenticate(username, password string) (err error) {
	defer s.recover(&err)
	ctx, cancel := s.ctx()
	defer cancel()
	p, err := s.srv.cfg.Auth.Authenticate(auth.WithClient(ctx, s.conn.Conn().RemoteAddr(), auth.ProtoSMTP), username, password)
	var locked *auth.LockedError
	switch {
	case errors.As(err, &locked):
		s.log.Info("sign-in locked", "until", locked.Until)
		s.srv.m.auth.WithLabelValues(s.sender.Door, "unavailable").Inc()
		return &smtp.SMTPError{Code: 454, EnhancedCode: smtp.EnhancedCode{4, 7, 0},
			Message: "Too many failed sign-ins from your network: try again after " + locked.Until.UTC().Format("15:04:05 UTC")}
	case err == nil:
		if r := s.srv.cfg.Revocations; r != nil {
			s.creds = r.Watch(p, s.sender.Door, nil)
		}
		s.sender.Person = p
		connlimit.Lift(s.conn.Conn()) // signed in: no pre-auth session deadline
		s.log = s.log.With("person", p.Email)
		s.log.Info("signed in")
		s.srv.m.auth.WithLabelValues(s.sender.Door, "ok").Inc()
		return nil
	case errors.Is(err, auth.ErrAppPasswordRequired):
		s.log.Info("sign-in refused: an app password is needed")
		s.srv.m.auth.WithLabelValues(s.sender.Door, "failed").Inc()
		return s.refused(&smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: auth.AppPasswordSentence})
	case errors.Is(err, auth.ErrUnavailable):
		s.log.Warn("sign-in unavailable", "err", err)
		s.srv.m.auth.WithLabelValues(s.sender.Door, "unavailable").Inc()
		return errAuthUnavailable
	default:
		s.log.Info("sign-in failed")
		s.srv.m.auth.WithLabelValues(s.sender.Door, "failed").Inc()
		return s.refused(smtp.ErrAuthFailed)
	}
}

// Mail implements smtp.Session.
func (s *session) Mail(from string, opts *smtp.MailOptions) (err error) {
	defer s.recover(&err)
	if s.ended {
		return errEnded
	}
	if err := s.checkRevoked(); err != nil {
		return err
	}
	if s.srv.cfg.Submission && s.sender.Person == nil {
		return s.refused(&smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0},
			Message: "Sign in first: this is the submission port (AUTH after STARTTLS)"})
	}
	ctx, cancel := s.ctx()
	defer cancel()
	if err := s.srv.cfg.Pipeline.CheckFrom(ctx, &s.sender, from); err != nil {
		return s.refused(toSMTP(err))
	}
	if opts != nil && opts.Size > s.srv.cfg.Pipeline.MaxMessageBytes() {
		return s.refused(&smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4},
			Message: fmt.Sprintf("The message is %d bytes; the limit is %d", opts.Size, s.srv.cfg.Pipeline.MaxMessageBytes())})
	}
	if opts != nil && opts.RequireTLS {
		// RFC 8689 4.1: only a session that is itself over TLS may ask
		// for TLS onwards (go-smtp takes the parameter either way).
		if _, ok := s.conn.TLSConnectionState(); !ok {
			return s.refused(&smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 10},
				Message: "REQUIRETLS needs this session to be over TLS first (STARTTLS)"})
		}
	}
	if opts != nil {
		envid, ret, err := mailDSN(opts)
		if err != nil {
			return s.refused(err)
		}
		s.sender.EnvID, s.sender.Ret = envid, ret
	}
	s.sender.RequireTLS = opts != nil && opts.RequireTLS
	s.from = from
	return nil
}

// Rcpt implements smtp.Session.
func (s *session) Rcpt(to string, opts *smtp.RcptOptions) (err error) {
	defer s.recover(&err)
	if s.ended {
		return errEnded
	}
	if err := s.checkRevoked(); err != nil {
		return err
	}
	if len(s.rcpts) >= s.srv.cfg.Pipeline.MaxRecipients() {
		return toSMTP(submit.ErrTooManyRecipients)
	}
	ctx, cancel := s.ctx()
	defer cancel()
	var dsn submit.RcptDSN
	if opts != nil {
		var derr *smtp.SMTPError
		if dsn, derr = rcptDSN(opts); derr != nil {
			return s.refused(derr)
		}
	}
	r, err := s.srv.cfg.Pipeline.CheckRecipient(ctx, &s.sender, to)
	if err != nil {
		return s.refused(toSMTP(err))
	}
	r.DSN = dsn
	s.rcpts = append(s.rcpts, r)
	return nil
}

// Data implements smtp.Session.
func (s *session) Data(r io.Reader) (err error) {
	defer s.recover(&err)
	if s.ended {
		return errEnded
	}
	start := time.Now()
	// go-smtp enforces MaxMessageBytes on r; the extra byte tells us it did.
	rr := &rateReader{r: r, nc: s.conn.Conn(), start: start, grace: s.srv.cfg.DataTimeout, rate: s.srv.cfg.DataMinRate}
	body, err := io.ReadAll(io.LimitReader(rr, s.srv.cfg.Pipeline.MaxMessageBytes()+1))
	if err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			return se
		}
		if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() && time.Now().Before(rr.deadline) {
			// Not the message's own deadline: the session's (see New).
			s.srv.m.closed.WithLabelValues(s.sender.Door, "session_limit").Inc()
			return s.end(&smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2},
				Message: "This session has lasted as long as it may; closing the connection"})
		} else if ne != nil && ne.Timeout() {
			s.log.Info("closing: the message arrived too slowly", "bytes", rr.n)
			s.srv.m.closed.WithLabelValues(s.sender.Door, "data_too_slow").Inc()
			return s.end(&smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2},
				Message: fmt.Sprintf("The message arrived too slowly (under %d bytes a second); closing the connection", s.srv.cfg.DataMinRate)})
		}
		if errors.Is(err, smtp.ErrTooLongLine) {
			return &smtp.SMTPError{Code: 500, EnhancedCode: smtp.EnhancedCode{5, 5, 6},
				Message: fmt.Sprintf("A line of the message is longer than %d bytes; wrap it or send it as an attachment", s.srv.cfg.MaxLineLength)}
		}
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "The connection broke while reading the message"}
	}
	// A revocation during the transfer refuses the message: the person
	// who sent it may no longer send.
	if err := s.checkRevoked(); err != nil {
		return err
	}
	ctx, cancel := s.ctx()
	defer cancel()
	res, err := s.srv.cfg.Pipeline.Submit(ctx, &s.sender, s.from, s.rcpts, body)
	if err != nil {
		return toSMTP(err)
	}
	s.srv.m.dataSeconds.WithLabelValues(s.sender.Door).Observe(time.Since(start).Seconds())
	return &smtp.SMTPError{Code: 250, EnhancedCode: smtp.EnhancedCode{2, 0, 0}, Message: "OK: queued as " + res.ID}
}

// refused counts a refused command; too many before any mail is accepted
// closes the session (CONVENTIONS: strict before authentication).
func (s *session) refused(err *smtp.SMTPError) error {
	s.bad++
	if s.bad >= s.srv.cfg.MaxBadCommands {
		s.log.Info("closing after too many refused commands", "count", s.bad)
		s.srv.m.closed.WithLabelValues(s.sender.Door, "too_many_errors").Inc()
		return s.end(&smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: err.Message + "; too many errors, closing the connection"})
	}
	return err
}

// recover turns a panic in our code into a 451 reply, logged with its stack
// and counted.
func (s *session) recover(err *error) {
	if p := recover(); p != nil {
		s.log.Error("panic in SMTP session", "panic", p, "stack", string(debug.Stack()))
		s.srv.m.panicked()
		*err = errInternal
	}
}

// toSMTP maps the pipeline's refusals to SMTP replies; anything else is an
// internal error (logged where it happened).
func toSMTP(err error) *smtp.SMTPError {
	var e *submit.Error
	if errors.As(err, &e) {
		return &smtp.SMTPError{Code: e.Code, EnhancedCode: smtp.EnhancedCode{e.Enhanced[0], e.Enhanced[1], e.Enhanced[2]}, Message: e.Message}
	}
	return errInternal
}
