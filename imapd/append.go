package imapd

import (
	"errors"
	"strconv"
	"time"

	"wardmail/imapd/wire"
	"wardmail/mail"
	"wardmail/message"
)

// appendMsg is one message of an APPEND command, as the client sent it.
type appendMsg struct {
	flags []string
	date  time.Time
	data  []byte
	cat   []catPart // CATENATE (RFC 4469), when not nil
}

// cmdAppend adds messages to a mailbox (RFC 9051 6.3.12), answering
// APPENDUID (RFC 4315 3). Several messages may follow the mailbox name
// (MULTIAPPEND, RFC 3502 3): they are stored in one transaction, all or
// none, and APPENDUID names their UIDs as a set. Each literal's size was
// checked against APPENDLIMIT before it was read (RFC 7889), and all of them
// together against MaxAppendTotal.
func cmdAppend(c *conn, cmd *wire.Command) error {
	if len(cmd.Args) < 2 {
		return bad("APPEND takes a mailbox and, for each message, optional flags and date and a literal.")
	}
	name, err := c.mailboxArg(cmd.Args[0])
	if err != nil {
		return err
	}
	msgs, err := c.parseAppendMsgs(cmd.Args[1:])
	if err != nil {
		return err
	}
	mb, err := c.appendTarget(name)
	if err != nil {
		return err
	}
	batch := make([]mail.NewMessage, len(msgs))
	for i, m := range msgs {
		if batch[i], err = c.prepareAppend(m); err != nil {
			return err
		}
	}
	uids, err := c.srv.cfg.Mail.AppendAll(c.ctx, mb.ID, batch)
	if err != nil {
		return err
	}
	c.okText = "[APPENDUID " + strconv.FormatUint(uint64(mb.UIDValidity()), 10) + " " +
		formatSet(uids) + "] APPEND completed."
	return nil
}

// parseAppendMsgs reads 1*append-message (RFC 3502 6): each is an optional
// flag list, an optional date-time and the message.
func (c *conn) parseAppendMsgs(args []wire.Arg) ([]appendMsg, error) {
	var out []appendMsg
	for len(args) > 0 {
		m, rest, err := c.parseAppendMsg(args)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
		args = rest
	}
	return out, nil
}

// parseAppendMsg reads one append-message and returns the arguments after it.
func (c *conn) parseAppendMsg(args []wire.Arg) (appendMsg, []wire.Arg, error) {
	m := appendMsg{date: time.Now()}
	var err error
	if len(args) > 0 && args[0].Kind == wire.List {
		if m.flags, err = parseFlags(args[0].List); err != nil {
			return m, nil, err
		}
		args = args[1:]
	}
	if len(args) > 0 && args[0].Kind == wire.Quoted {
		if m.date, err = internalDate(args[0].S); err != nil {
			return m, nil, err
		}
		args = args[1:]
	}
	switch {
	case len(args) == 0:
	case args[0].Kind == wire.Literal:
		m.data = args[0].B
		return m, args[1:], nil
	case args[0].IsAtom("CATENATE"):
		// A message made of literals and parts of stored messages
		// (RFC 4469 5), put together once the whole command is read.
		if len(args) < 2 || args[1].Kind != wire.List {
			return m, nil, bad("CATENATE takes a list of parts.")
		}
		if m.cat, err = parseCatParts(args[1].List); err != nil {
			return m, nil, err
		}
		return m, args[2:], nil
	case args[0].IsAtom("UTF8"):
		// A message whose header fields may be UTF-8 (RFC 6855 4):
		// "UTF8" SP "(" literal8 ")".
		if len(args) < 2 || args[1].Kind != wire.List || len(args[1].List) != 1 ||
			args[1].List[0].Kind != wire.Literal || !args[1].List[0].Literal8 {
			return m, nil, bad("UTF8 takes a literal8 in parentheses: UTF8 (~{n}).")
		}
		m.data = args[1].List[0].B
		return m, args[2:], nil
	}
	return m, nil, bad("Expected flags, a date-time or the message as a literal.")
}

// appendTarget finds the person's mailbox an APPEND writes to; a mailbox
// that does not exist is TRYCREATE (RFC 9051 6.3.12).
func (c *conn) appendTarget(name string) (*mail.Mailbox, error) {
	mb, err := c.srv.cfg.Mail.MailboxNamed(c.ctx, c.person.ID, name)
	if errors.Is(err, mail.ErrNotFound) {
		return nil, no("TRYCREATE", "The mailbox does not exist.")
	}
	return mb, err
}

// prepareAppend turns a message as sent into stored content.
func (c *conn) prepareAppend(m appendMsg) (mail.NewMessage, error) {
	if m.cat != nil {
		var err error
		if m.data, err = c.catenate(m.cat); err != nil {
			return mail.NewMessage{}, err
		}
	}
	body := message.CRLF(m.data) // bare LF line ends stored as CRLF (RFC 5322 2.1)
	if int64(len(body)) > c.lim.MaxLiteral {
		return mail.NewMessage{}, no("TOOBIG", "The message is larger than %d bytes.", c.lim.MaxLiteral)
	}
	sum, err := message.Summarize(body)
	if err != nil {
		return mail.NewMessage{}, no("CANNOT", "The message is empty or cannot be read.")
	}
	// Binary parts (RFC 3516 4.4, sent in a literal8) are stored in base64,
	// so BODY[] never has a NUL to send; BINARY[] decodes them back.
	if conv, changed := message.EncodeBinaryParts(body, sum); changed {
		if sum, err = message.Summarize(conv); err != nil {
			return mail.NewMessage{}, no("CANNOT", "The message is empty or cannot be read.")
		}
		body = conv
	}
	content, err := c.srv.cfg.Mail.PrepareContent(c.ctx, body, sum.Marshal())
	if err != nil {
		return mail.NewMessage{}, err
	}
	return mail.NewMessage{Content: content, Flags: m.flags, Date: m.date}, nil
}
