package imapd

import (
	"errors"
	"strconv"
	"time"

	"wardmail/imapd/wire"
	"wardmail/message"
	"wardmail/store"
)

// cmdAppend adds a message to a mailbox (RFC 9051 6.3.12), answering
// APPENDUID (RFC 4315 3). The literal's size was checked against
// APPENDLIMIT before it was read (RFC 7889).
func cmdAppend(c *conn, cmd *wire.Command) error {
	args := cmd.Args
	if len(args) < 2 || len(args) > 4 {
		return bad("APPEND takes a mailbox, optional flags and date, and a message literal.")
	}
	name, err := c.mailboxArg(args[0])
	if err != nil {
		return err
	}
	lit := args[len(args)-1]
	if lit.Kind != wire.Literal {
		return bad("The message must be sent as a literal.")
	}
	var flags []string
	date := time.Now()
	for _, a := range args[1 : len(args)-1] {
		switch {
		case a.Kind == wire.List && flags == nil:
			if flags, err = parseFlags(a.List); err != nil {
				return err
			}
			if flags == nil {
				flags = []string{}
			}
		case a.Kind == wire.Quoted:
			if date, err = internalDate(a.S); err != nil {
				return err
			}
		default:
			return bad("Expected flags or a date-time.")
		}
	}
	body := message.CRLF(lit.B) // bare LF line ends stored as CRLF (RFC 5322 2.1)
	if int64(len(body)) > c.lim.MaxLiteral {
		return no("TOOBIG", "The message is larger than %d bytes.", c.lim.MaxLiteral)
	}
	mb, err := c.srv.cfg.Store.MailboxByName(c.ctx, c.person.ID, name)
	if errors.Is(err, store.ErrNotFound) {
		return no("TRYCREATE", "The mailbox does not exist.")
	}
	if err != nil {
		return err
	}
	if mb.PersonID != c.person.ID {
		return no("TRYCREATE", "The mailbox does not exist.")
	}
	sum, err := message.Summarize(body)
	if err != nil {
		return no("CANNOT", "The message is empty or cannot be read.")
	}
	// Binary parts (RFC 3516 4.4, sent in a literal8) are stored in base64,
	// so BODY[] never has a NUL to send; BINARY[] decodes them back.
	if conv, changed := message.EncodeBinaryParts(body, sum); changed {
		if sum, err = message.Summarize(conv); err != nil {
			return no("CANNOT", "The message is empty or cannot be read.")
		}
		body = conv
	}
	content, err := c.srv.cfg.Store.PrepareContent(c.ctx, body, sum.Marshal())
	if err != nil {
		return err
	}
	uid, err := c.srv.cfg.Store.Append(c.ctx, mb.ID, content, flags, date)
	if err != nil {
		return err
	}
	c.okText = "[APPENDUID " + strconv.FormatUint(uint64(mb.UIDValidity()), 10) + " " +
		strconv.FormatUint(uint64(uid), 10) + "] APPEND completed."
	return nil
}
