package imapd

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"wardmail/auth"
	"wardmail/imapd/wire"
	"wardmail/quickack"
)

// cmdStartTLS upgrades the connection (RFC 9051 6.2.1).
func cmdStartTLS(c *conn, cmd *wire.Command) error {
	if len(cmd.Args) != 0 {
		return bad("STARTTLS takes no arguments.")
	}
	if c.tls || c.srv.cfg.TLS == nil {
		return bad("TLS is not available on this connection.")
	}
	// Bytes sent after STARTTLS but before the handshake would be
	// injected into the protected session (CVE-2011-0411 and kin).
	if c.r.Buffered() > 0 {
		c.tagged(cmd.Tag, "BAD", "", "Data after STARTTLS; closing.")
		c.bye("Protocol error.")
		return errClosed
	}
	c.tagged(cmd.Tag, "OK", "", "Begin TLS negotiation now.")
	if err := c.w.Flush(); err != nil {
		return errClosed
	}
	tc := tls.Server(c.nc, c.srv.cfg.TLS)
	_ = tc.SetDeadline(time.Now().Add(c.readTimeout()))
	if err := tc.HandshakeContext(c.ctx); err != nil {
		c.log.Info("STARTTLS handshake failed", "err", err)
		return errClosed
	}
	_ = tc.SetDeadline(time.Time{})
	// The client's Finished ends the handshake and the server has nothing
	// to send: acknowledge it now, or a client with Nagle's algorithm holds
	// its next command for the delayed ACK (package quickack).
	quickack.Ack(c.nc)
	c.mu.Lock()
	c.nc = tc
	c.mu.Unlock()
	c.tls = true
	c.setStreams(tc)
	return errAnswered
}

// cmdLogin signs in with a user name and password (RFC 9051 6.2.3).
func cmdLogin(c *conn, cmd *wire.Command) error {
	if len(cmd.Args) != 2 {
		return bad("LOGIN takes a user name and a password.")
	}
	user, ok1 := cmd.Args[0].AString()
	pass, ok2 := cmd.Args[1].AString()
	if !ok1 || !ok2 {
		return bad("LOGIN takes a user name and a password.")
	}
	if !c.tls {
		return no("PRIVACYREQUIRED", "Sign-in needs TLS: use STARTTLS first.")
	}
	return c.signIn(user, pass)
}

// cmdAuthenticate runs SASL PLAIN (RFC 9051 6.2.2, RFC 4616), with an initial
// response (RFC 4959 SASL-IR) or after a continuation request.
func cmdAuthenticate(c *conn, cmd *wire.Command) error {
	if len(cmd.Args) < 1 || len(cmd.Args) > 2 || cmd.Args[0].Kind != wire.Atom {
		return bad("AUTHENTICATE takes a mechanism and an optional initial response.")
	}
	if !strings.EqualFold(cmd.Args[0].S, "PLAIN") {
		return no("CANNOT", "Only the PLAIN mechanism is supported.")
	}
	if !c.tls {
		return no("PRIVACYREQUIRED", "Sign-in needs TLS: use STARTTLS first.")
	}
	var resp string
	if len(cmd.Args) == 2 {
		ir, ok := cmd.Args[1].AString()
		if !ok {
			return bad("Invalid initial response.")
		}
		resp = ir
		if resp == "=" { // RFC 4959 3: an empty initial response
			resp = ""
		}
	} else {
		c.w.Raw("+ \r\n")
		if err := c.w.Flush(); err != nil {
			return errClosed
		}
		if !c.armRead(c.readTimeout()) {
			return errClosed
		}
		line, err := c.r.ReadLine()
		if err != nil {
			var we *wire.Error
			if errors.As(err, &we) {
				return bad("%s", we.Msg)
			}
			return errClosed
		}
		if line == "*" {
			return bad("Authentication cancelled.")
		}
		resp = line
	}
	raw, err := base64.StdEncoding.DecodeString(resp)
	if err != nil {
		return bad("The response is not valid base64.")
	}
	parts := bytes.Split(raw, []byte{0})
	if len(parts) != 3 {
		return bad("The PLAIN response must hold three fields.")
	}
	authz, user, pass := string(parts[0]), string(parts[1]), string(parts[2])
	if authz != "" && !strings.EqualFold(authz, user) {
		return no("AUTHORIZATIONFAILED", "Acting as another person is not allowed.")
	}
	return c.signIn(user, pass)
}

// signIn checks the credentials and enters the authenticated state. Neither
// the password nor the reason for a failure beyond "bad credentials" or
// "unavailable" is logged or told.
func (c *conn) signIn(user, pass string) error {
	p, err := c.srv.cfg.Auth.Authenticate(auth.WithClient(c.ctx, c.nc.RemoteAddr(), auth.ProtoIMAP), user, pass)
	var locked *auth.LockedError
	switch {
	case err == nil:
	case errors.As(err, &locked):
		c.srv.metrics.logins.WithLabelValues("unavailable").Inc()
		c.log.Info("sign-in locked", "until", locked.Until)
		return no("UNAVAILABLE", "Too many failed sign-ins from your network: try again after %s.", locked.Until.UTC().Format("15:04:05 UTC"))
	case errors.Is(err, auth.ErrAppPasswordRequired):
		c.srv.metrics.logins.WithLabelValues("failed").Inc()
		c.log.Info("sign-in refused: an app password is needed")
		return no("AUTHENTICATIONFAILED", "%s", auth.AppPasswordSentence)
	case errors.Is(err, auth.ErrBadCredentials):
		c.srv.metrics.logins.WithLabelValues("failed").Inc()
		c.log.Info("sign-in failed")
		return no("AUTHENTICATIONFAILED", "Invalid user name or password.")
	default:
		c.srv.metrics.logins.WithLabelValues("unavailable").Inc()
		c.log.Warn("sign-in unavailable", "err", err)
		return no("UNAVAILABLE", "Sign-in is temporarily unavailable; try again later.")
	}
	if err := c.srv.cfg.Mail.EnsureMailboxes(c.ctx, p.ID); err != nil {
		c.srv.metrics.logins.WithLabelValues("unavailable").Inc()
		c.log.Warn("preparing mailboxes", "person", p.Email, "err", err)
		return no("UNAVAILABLE", "Your mailbox is temporarily unavailable; try again later.")
	}
	// The INBOX's waiting list posts are taken in now, while the answer
	// goes out and the client sends its SELECT, which then waits for what
	// is left of the write instead of starting it (mail/takein.go).
	c.takeIn = c.srv.cfg.Mail.TakeInAhead(c.ctx, p.ID)
	c.srv.metrics.logins.WithLabelValues("ok").Inc()
	// Revoking these credentials ends the session (disable, password reset,
	// the app password revoked, sign out everywhere).
	c.creds = c.srv.cfg.Revocations.Watch(p, "imap", c.revoke)
	c.person = p
	c.state = stateAuth
	c.log = c.log.With("person", p.Email)
	c.log.Info("signed in")
	c.okText = "[CAPABILITY " + c.capabilities() + "] Signed in."
	return nil
}

// cmdUnauthenticate signs out without closing the connection (RFC 8437 3):
// the mailbox is left without expunging, enabled extensions are turned off
// and the credentials' revocation watch ends; TLS stays. The client may
// then sign in again, as the same person or another.
func cmdUnauthenticate(c *conn, cmd *wire.Command) error {
	if len(cmd.Args) != 0 {
		return bad("UNAUTHENTICATE takes no arguments.")
	}
	if c.sel != nil {
		c.sel.close()
		c.sel = nil
	}
	c.stopNotify()
	c.takeIn = nil // it completes by itself; the next person's is their own
	if c.creds != nil {
		c.creds.Close()
		c.creds = nil
	}
	c.log.Info("signed out")
	c.person = nil
	c.state = stateNotAuth
	c.condstore, c.qresync, c.rev2, c.utf8Accept = false, false, false, false
	c.w.UTF8 = false
	c.preAuthCmds = 0
	c.log = c.srv.log.With("cid", c.cid)
	c.okText = "UNAUTHENTICATE completed; sign in again or log out."
	return nil
}
