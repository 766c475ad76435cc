package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
)

// SubmissionReaches reports whether a submission concerns any of the
// organisations: its sender is in one, or it reached (or waits for) someone
// in one, by name or through a list. A local administrator traces only
// the messages that concern their organisations.
func (s *Store) SubmissionReaches(ctx context.Context, submissionID int64, orgs []int64) (bool, error) {
	if len(orgs) == 0 {
		return false, nil
	}
	in := "?" + strings.Repeat(", ?", len(orgs)-1)
	args := []any{submissionID}
	for _, o := range orgs {
		args = append(args, o)
	}
	queries := []string{
		// The sender.
		`SELECT 1 FROM submissions sub JOIN people p ON p.id = sub.sender_id
			WHERE sub.id = ? AND p.org_id IN (` + in + `) LIMIT 1`,
		// A copy in someone's mailbox (delivered by name, or a list post
		// already materialised).
		`SELECT 1 FROM submissions sub JOIN mail m ON m.content_id = sub.content_id
			JOIN mailboxes mb ON mb.id = m.mailbox_id JOIN people p ON p.id = mb.person_id
			WHERE sub.id = ? AND p.org_id IN (` + in + `) LIMIT 1`,
		// A list post pending for a member who was on the list when it was
		// posted.
		`SELECT 1 FROM posts po JOIN memberships ms ON ms.list_id = po.list_id AND ms.pos < po.id
			JOIN people p ON p.id = ms.person_id
			WHERE po.submission_id = ? AND p.org_id IN (` + in + `) LIMIT 1`,
		// A post held for a list's moderators: the list's members.
		`SELECT 1 FROM held h JOIN memberships ms ON ms.list_id = h.list_id
			JOIN people p ON p.id = ms.person_id
			WHERE h.submission_id = ? AND p.org_id IN (` + in + `) LIMIT 1`,
	}
	for _, q := range queries {
		var one int
		err := s.r.QueryRowContext(ctx, s.q(q), args...).Scan(&one)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return false, err
		}
	}
	return false, nil
}
