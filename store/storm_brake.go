package store

import (
	"context"
	"errors"
	"time"
)

// BrakeReason starts the reason of a post held by the storm breaker's early
// brake (rather than by a moderator's policy): the brake worker releases
// these by itself once their delay has passed and their thread is not
// blocked. Moderators see them in the held queue too and may act first.
const BrakeReason = "storm brake"

// BrakedPost is a post held by the early brake.
type BrakedPost struct {
	HeldID   int64
	ThreadID string
	At       time.Time
}

// BrakedPosts returns the posts the early brake holds, oldest first.
func (s *Store) BrakedPosts(ctx context.Context) ([]BrakedPost, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT h.id, s.thread_id, h.created_at FROM held h JOIN submissions s ON s.id = h.submission_id
		WHERE h.state = 'held' AND h.reason >= ? AND h.reason < ? ORDER BY h.id`), BrakeReason, prefixEnd(BrakeReason))
	if err != nil {
		return nil, err
	}
	var out []BrakedPost
	for rows.Next() {
		var b BrakedPost
		var at int64
		if err := rows.Scan(&b.HeldID, &b.ThreadID, &at); err != nil {
			rows.Close()
			return nil, err
		}
		b.At = time.Unix(at, 0).UTC()
		out = append(out, b)
	}
	return out, errors.Join(rows.Err(), rows.Close())
}
