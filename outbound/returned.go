package outbound

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/textproto"
	"strings"
)

// Limits on a returned notice.
const (
	maxDSNBytes = 1 << 20
	maxDSNParts = 10
	maxDSNRcpts = 100
)

// ReturnedDSN is a delivery status notification (RFC 3464) that another
// server sent back about one of our messages.
type ReturnedDSN struct {
	MessageID  string // of the original message, from its returned header
	EnvelopeID string
	Rcpts      []ReturnedRcpt
}

// ReturnedRcpt is one recipient's block of a notice.
type ReturnedRcpt struct {
	Recipient  string // Final-Recipient (or Original-Recipient)
	Action     string // failed, delayed, delivered, relayed, expanded
	Status     string // 5.1.1
	Diagnostic string
	RemoteMTA  string
}

var errNotDSN = errors.New("not a delivery status notification")

// ParseDSN reads a multipart/report; report-type=delivery-status message
// (RFC 6522, RFC 3464): the per-recipient fields, and the Message-ID of the
// original from its returned header (text/rfc822-headers or message/rfc822).
func ParseDSN(msg []byte) (*ReturnedDSN, error) {
	if len(msg) > maxDSNBytes {
		msg = msg[:maxDSNBytes]
	}
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(msg)))
	hdr, err := tp.ReadMIMEHeader()
	if err != nil && len(hdr) == 0 {
		return nil, err
	}
	mt, params, err := mime.ParseMediaType(hdr.Get("Content-Type"))
	if err != nil || mt != "multipart/report" || !strings.EqualFold(params["report-type"], "delivery-status") || params["boundary"] == "" {
		return nil, errNotDSN
	}
	body := tp.R
	mr := multipart.NewReader(body, params["boundary"])
	d := &ReturnedDSN{}
	for i := 0; i < maxDSNParts; i++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return d, err
		}
		pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		data, err := io.ReadAll(io.LimitReader(p, maxDSNBytes))
		if err != nil {
			return d, err
		}
		switch pt {
		case "message/delivery-status", "message/global-delivery-status":
			d.readStatus(data)
		case "text/rfc822-headers", "message/rfc822", "message/global-headers", "message/global":
			r := textproto.NewReader(bufio.NewReader(bytes.NewReader(data)))
			if h, _ := r.ReadMIMEHeader(); h != nil && d.MessageID == "" {
				d.MessageID = strings.TrimSpace(h.Get("Message-Id"))
			}
		}
	}
	if len(d.Rcpts) == 0 {
		return d, errNotDSN
	}
	return d, nil
}

// readStatus reads the per-message block and the per-recipient blocks
// (RFC 3464 2.2, 2.3): groups of header-style fields separated by blank
// lines.
func (d *ReturnedDSN) readStatus(data []byte) {
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(data)))
	for first := true; ; first = false {
		h, err := r.ReadMIMEHeader()
		if len(h) > 0 {
			if first {
				d.EnvelopeID = strings.TrimSpace(h.Get("Original-Envelope-Id"))
			}
			if rc := addressField(h.Get("Final-Recipient")); rc != "" || h.Get("Action") != "" {
				if rc == "" {
					rc = addressField(h.Get("Original-Recipient"))
				}
				if len(d.Rcpts) < maxDSNRcpts {
					d.Rcpts = append(d.Rcpts, ReturnedRcpt{Recipient: rc, Action: strings.ToLower(strings.TrimSpace(h.Get("Action"))),
						Status: strings.TrimSpace(h.Get("Status")), Diagnostic: strings.TrimSpace(h.Get("Diagnostic-Code")),
						RemoteMTA: addressField(h.Get("Remote-Mta"))})
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// addressField takes the address of a "type; address" field.
func addressField(v string) string {
	if _, a, ok := strings.Cut(v, ";"); ok {
		v = a
	}
	return strings.Trim(strings.TrimSpace(v), "<>")
}

// Returned matches a notice that came back from another server to our
// queue: each recipient it names is recorded on that recipient of the
// original message, for message trace. It reports how many matched.
func (q *Queue) Returned(ctx context.Context, msg []byte) int {
	d, err := ParseDSN(msg)
	if err != nil || d.MessageID == "" {
		return 0
	}
	n := 0
	for _, r := range d.Rcpts {
		text := strings.TrimSpace(r.Action + " " + r.Status + " " + r.Diagnostic)
		if r.RemoteMTA != "" {
			text += " (" + r.RemoteMTA + ")"
		}
		ok, err := q.cfg.Store.RecordRemoteDSN(ctx, d.MessageID, r.Recipient, text)
		if err != nil {
			q.cfg.Logger.Error("outbound: recording a returned notice", "err", err)
			continue
		}
		if ok {
			n++
			q.metrics.returned.WithLabelValues(r.Action).Inc()
		}
	}
	return n
}
