package imapd

import (
	"wardmail/imapd/wire"
	"wardmail/mail"
	"wardmail/message"
)

// envelopeOnly reads just the envelope of a stored summary, for the common
// FETCH (FLAGS ENVELOPE) of a whole mailbox: decoding the MIME structure of
// every message as well more than doubles the cost.
// Decoded envelopes are kept in the server's cache by content id.
func (c *conn) envelopeOnly(row *mail.Message) (*message.Summary, error) {
	e := c.srv.envs.get(row.ContentID)
	if e == nil {
		var err error
		if e, err = message.UnmarshalEnvelope(row.Summary); err != nil {
			return nil, err
		}
		c.srv.envs.put(row.ContentID, e)
	}
	return &message.Summary{Envelope: *e}, nil
}

// writeEnvelope renders an ENVELOPE from the stored summary, without
// touching the body (RFC 9051 7.5.2):
// (date subject from sender reply-to to cc bcc in-reply-to message-id).
func writeEnvelope(w *wire.Writer, e *message.Envelope) {
	w.Byte('(')
	w.NString(e.Date).SP()
	w.Text(e.Subject).SP()
	writeAddresses(w, e.From)
	w.SP()
	writeAddresses(w, e.Sender)
	w.SP()
	writeAddresses(w, e.ReplyTo)
	w.SP()
	writeAddresses(w, e.To)
	w.SP()
	writeAddresses(w, e.Cc)
	w.SP()
	writeAddresses(w, e.Bcc)
	w.SP()
	w.NString(e.InReplyTo).SP()
	w.NString(e.MessageID)
	w.Byte(')')
}

// writeAddresses writes an address list, or NIL when empty. A group is
// written as RFC 9051 7.5.2 says: (NIL NIL "group" NIL) ... (NIL NIL NIL NIL).
func writeAddresses(w *wire.Writer, list []message.Address) {
	if len(list) == 0 {
		w.NIL()
		return
	}
	w.Byte('(')
	for _, a := range list {
		switch {
		case a.GroupEnd:
			w.Raw("(NIL NIL NIL NIL)")
		case a.Group != "":
			w.Raw("(NIL NIL ").Text(a.Group).Raw(" NIL)")
		default:
			w.Byte('(')
			w.Text(a.Name).SP()
			w.NString(a.Route).SP()
			w.NString(a.Mailbox).SP()
			w.NString(a.Host)
			w.Byte(')')
		}
	}
	w.Byte(')')
}
