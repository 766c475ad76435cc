package smtpd

import (
	"github.com/emersion/go-smtp"

	"wardmail/auth"
)

// checkRevoked answers a command of a session whose credentials were
// revoked after it signed in (a disable, a password reset, its app password
// revoked, sign out everywhere): 421 with the reason, and the connection
// closes (RFC 5321 3.8). A command already running when the revocation came
// finished as usual; a message whose DATA was accepted was accepted.
func (s *session) checkRevoked() error {
	if s.creds == nil {
		return nil
	}
	reason, ended := s.creds.Ended()
	if !ended {
		return nil
	}
	s.log.Info("ending the session: the person's credentials were revoked", "reason", reason)
	s.srv.m.closed.WithLabelValues(s.sender.Door, "revoked").Inc()
	return s.end(&smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: auth.RevokedSentence(reason)})
}
