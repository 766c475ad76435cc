package admin

import (
	"context"
	"errors"
	"strings"

	"wardmail/privilege"
	"wardmail/store"
)

// Trace follows every submission with a Message-ID. A local administrator
// sees the ones that concern their organisations (sent by, delivered to or
// waiting for someone in them); the rest are as if they did not exist.
func (s *Service) Trace(ctx context.Context, actor privilege.Principal, messageID string) ([]store.Trace, error) {
	if err := actor.May(privilege.Trace); err != nil {
		return nil, err
	}
	if strings.TrimSpace(messageID) == "" {
		return nil, invalid("message_id", "Give the message_id to trace.")
	}
	traces, err := s.st.TraceMessage(ctx, messageID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &Error{Kind: NotFound, Sentence: err.Error()}
	} else if err != nil {
		return nil, err
	}
	if actor.IsNational() {
		return traces, nil
	}
	mine := traces[:0]
	for _, t := range traces {
		if ok, err := s.st.SubmissionReaches(ctx, t.ID, actor.Orgs); err != nil {
			return nil, err
		} else if ok {
			mine = append(mine, t)
		}
	}
	if len(mine) == 0 {
		return nil, &privilege.Denied{Action: privilege.Trace, NotFound: true,
			Sentence: "No message with Message-ID " + messageID + " concerns the organisations you administer."}
	}
	return mine, nil
}

// Purge removes a message (or a whole thread) from every mailbox, pending
// list posts and held posts included, and the senders' own copies; dryRun
// counts what it would remove and removes nothing.
func (s *Service) Purge(ctx context.Context, actor privilege.Principal, id string, thread, dryRun bool) (*store.PurgeResult, error) {
	if err := actor.May(privilege.Purge); err != nil {
		return nil, err
	}
	var res *store.PurgeResult
	var err error
	if dryRun {
		res, err = s.st.PurgePreview(ctx, id, thread)
	} else {
		res, err = s.st.Purge(ctx, actor.Email, id, thread)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, &Error{Kind: NotFound, Sentence: err.Error()}
	}
	return res, err
}
