package lockout

import (
	"context"
	"time"

	"wardmail/store"
)

// Storage is what the lockout engine needs from a storage backend;
// *store.Store implements it (asserted in server wiring).
type Storage interface {
	// Shared says whether other processes share the database: then every
	// decision is read from it and every counted failure is written to it
	// at once, the engine's memory only a cache.
	Shared() bool

	LockoutState(ctx context.Context, since time.Time) ([]store.LockoutRow, error)
	LockoutRowsFor(ctx context.Context, account string, sources ...string) ([]store.LockoutRow, error)
	Lockouts(ctx context.Context) ([]store.LockoutRow, error)
	UpdateLockout(ctx context.Context, account string, sources []string, network string, now time.Time,
		fn func(rows []store.LockoutRow, n *store.NetworkRow) error) error
	SaveLockoutBatch(ctx context.Context, b store.LockoutBatch) error
	ForgetLockouts(ctx context.Context, before, now, networksBefore time.Time) error
	SignInNetwork(ctx context.Context, network string) (*store.NetworkRow, error)
	SignInKeyCheck(ctx context.Context, check string, replace bool) (previous string, err error)

	LastSuccess(ctx context.Context, account, source string) (time.Time, error)

	Unlock(ctx context.Context, actor string, accounts []string, lockedSince time.Time) ([]store.LockoutRow, error)
	UnlocksAfter(ctx context.Context, after int64) ([]store.UnlockEvent, error)
	LastUnlockID(ctx context.Context) (int64, error)
	SignInControl(ctx context.Context, key string) (string, error)
	SetSignInControl(ctx context.Context, actor, key, value string) error
}
