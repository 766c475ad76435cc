package smtpd

import (
	"fmt"
	"strings"

	"github.com/emersion/go-smtp"

	"wardmail/outbound"
	"wardmail/submit"
)

// The DSN parameters of MAIL and RCPT (RFC 3461 4). go-smtp parses them,
// decodes xtext and refuses what is malformed (501); these add the RFC's
// length limits and turn them into what the queue keeps.

const (
	maxEnvID = 100 // RFC 3461 4.4: ENVID at most 100 characters
	maxORcpt = 500 // RFC 3461 4.2: the whole ORCPT value at most 500
)

func dsnError(format string, args ...any) *smtp.SMTPError {
	return &smtp.SMTPError{Code: 501, EnhancedCode: smtp.EnhancedCode{5, 5, 4}, Message: fmt.Sprintf(format, args...)}
}

// mailDSN checks ENVID and RET.
func mailDSN(opts *smtp.MailOptions) (envid, ret string, err *smtp.SMTPError) {
	if n := len(outbound.XtextEncode(opts.EnvelopeID)); n > maxEnvID {
		return "", "", dsnError("ENVID is %d characters long; RFC 3461 allows at most %d", n, maxEnvID)
	}
	return opts.EnvelopeID, string(opts.Return), nil
}

// rcptDSN checks NOTIFY and ORCPT and returns them as the queue keeps
// them: NOTIFY in a fixed order, ORCPT as "type;address".
func rcptDSN(opts *smtp.RcptOptions) (submit.RcptDSN, *smtp.SMTPError) {
	var d submit.RcptDSN
	if len(opts.Notify) > 0 {
		var set []string
		for _, want := range []smtp.DSNNotify{smtp.DSNNotifyNever, smtp.DSNNotifySuccess, smtp.DSNNotifyFailure, smtp.DSNNotifyDelayed} {
			for _, n := range opts.Notify {
				if n == want {
					set = append(set, string(n))
					break
				}
			}
		}
		d.Notify = strings.Join(set, ",")
	}
	if opts.OriginalRecipient != "" {
		typ := strings.ToLower(string(opts.OriginalRecipientType))
		if n := len(typ) + 1 + len(outbound.XtextEncode(opts.OriginalRecipient)); n > maxORcpt {
			return d, dsnError("ORCPT is %d characters long; RFC 3461 allows at most %d", n, maxORcpt)
		}
		d.ORcpt = typ + ";" + opts.OriginalRecipient
	}
	return d, nil
}
