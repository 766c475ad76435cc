package outbound

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"

	"wardmail/message"
	"wardmail/store"
)

// Enqueue queues a message Wardmail writes itself (DMARC and TLS aggregate
// reports) for recipients on other servers: signed like any other message,
// stored once, delivered and retried by the queue. msg is a whole RFC 5322
// message with its own From, Date and Message-ID.
func (q *Queue) Enqueue(ctx context.Context, from string, to []string, msg []byte) error {
	if len(to) == 0 {
		return errors.New("outbound: a message with no recipient")
	}
	msg = message.CRLF(msg)
	sum, err := message.Summarize(msg)
	if err != nil {
		return err
	}
	content, err := q.cfg.Store.PrepareContent(ctx, msg, sum.Marshal())
	if err != nil {
		return err
	}
	o, err := Prepare(ctx, q.cfg.Signer, from, to, msg)
	if err != nil {
		return err
	}
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	msgID := sum.Envelope.MessageID
	sub := &store.Submission{QueueID: strings.ToUpper(hex.EncodeToString(id)), MessageID: msgID, ThreadID: msgID,
		Subject: sum.Envelope.Subject, Sender: from, Date: q.cfg.Now(), Content: content, Outbound: o}
	if _, err := q.cfg.Store.Submit(ctx, sub); err != nil {
		return err
	}
	q.Wake()
	return nil
}
