package policy

import (
	"context"
	"time"

	"wardmail/store"
)

// Storage is what the storm breaker and the sender limits need from a
// storage backend; *store.Store implements it (asserted in server wiring).
// Check-and-count steps (ReserveStormReply, ReserveSending) are decided by
// the database in one write, so servers sharing it decide together.
type Storage interface {
	// Shared says whether other processes share the database: then the
	// database decides the breaker's check-and-count; otherwise this
	// process does, without a write.
	Shared() bool

	// The storm breaker's record.
	StormThread(ctx context.Context, thread string, windowStart time.Time) (*store.StormThread, error)
	StormThreads(ctx context.Context, windowStart, since, now time.Time, limit int) ([]store.StormThread, error)
	ReserveStormReply(ctx context.Context, thread string, windowStart time.Time,
		decide func(t *store.StormThread, inflight int64) error) (id int64, err error)
	FinishStormReply(ctx context.Context, thread string, id int64, r *store.StormReply, windowStart time.Time,
		threshold int, blockUntil time.Time) (blocked bool, err error)
	RecordStormRefusal(ctx context.Context, thread, replySubject string) error
	SetStormBlock(ctx context.Context, actor, thread string, until time.Time, reason string) (*store.StormThread, error)

	// The early brake's held posts.
	BrakedPosts(ctx context.Context) ([]store.BrakedPost, error)
	DecideHeld(ctx context.Context, actor string, id int64, approve bool, reason string, byPerson int64) (*store.Held, error)

	// Sender limits.
	BroadcastQuota(ctx context.Context, personID int64) (perDay int64, ok bool, err error)
	ReserveSending(ctx context.Context, senderID, recipients int64, minuteStart, dayStart time.Time,
		decide func(messages, recipients int64) error) (release func(), err error)
}
