package imapd

import (
	"encoding/json"

	"wardmail/imapd/wire"
	"wardmail/message"
)

// envelopeOnly reads just the envelope of a stored summary, for the common
// FETCH (FLAGS ENVELOPE) of a whole mailbox: decoding the MIME structure of
// every message as well more than doubles the cost. It depends on the
// stored form being JSON with the envelope under "e" (message/json.go).
func envelopeOnly(b []byte) (*message.Summary, error) {
	var v struct {
		Envelope message.Envelope `json:"e"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	return &message.Summary{Envelope: v.Envelope}, nil
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
			w.Text(a.Name).Raw(" NIL ")
			w.NString(a.Mailbox).SP()
			w.NString(a.Host)
			w.Byte(')')
		}
	}
	w.Byte(')')
}
