package lockout_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"wardmail/lockout"
	"wardmail/store/storetest"
)

// twoNodes starts two engines on two stores opened on one PostgreSQL
// database, as two servers sharing it run them (with one sign-in key).
func twoNodes(t *testing.T, pol lockout.Policy) (a, b *lockout.Engine) {
	t.Helper()
	if !storetest.Postgres() {
		t.Skip("several processes share a database only on PostgreSQL: " + storetest.Env + " (make test-postgres)")
	}
	be := storetest.New(t)
	key := []byte("0123456789abcdef0123456789abcdef")
	var es []*lockout.Engine
	for range 2 {
		st := be.Open(t, storetest.Options{IndexEvery: -1})
		e, err := lockout.New(context.Background(), lockout.Config{Store: st, Policy: pol, Key: key})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = e.Close() })
		es = append(es, e)
	}
	return es[0], es[1]
}

// Failures from one attacker through two servers count together: the
// source locks at the same failure as on one server, whichever server the
// guesses arrive at and however they interleave; the lock holds through
// the other server on the very next attempt; an unlock through either
// holds on both.
func TestLockoutAcrossNodes(t *testing.T) {
	ctx := context.Background()
	a, b := twoNodes(t, lockout.Policy{Threshold: 10})
	nodes := []*lockout.Engine{a, b}
	const acct, src = "amira@nhs.test", "203.0.113.0/24"

	// Nine guesses alternating between the servers: not locked.
	for i := range 9 {
		if res := nodes[i%2].Failure(ctx, acct, src, fmt.Sprint("guess-", i)); res.Outcome != lockout.Counted || !res.LockedUntil.IsZero() {
			t.Fatalf("guess %d: %+v", i, res)
		}
	}
	for i, e := range nodes {
		if _, locked := e.Locked(ctx, acct, src); locked {
			t.Fatalf("locked through server %d after 9 guesses (threshold 10)", i)
		}
	}
	// The tenth, through A, locks; B refuses the next attempt at once.
	if res := a.Failure(ctx, acct, src, "guess-9"); res.LockedUntil.IsZero() || res.Failures != 9 {
		t.Fatalf("the tenth guess did not lock: %+v", res)
	}
	if _, locked := b.Locked(ctx, acct, src); !locked {
		t.Fatal("a lock set through server A did not hold through server B")
	}
	if _, locked := b.Locked(ctx, acct, "198.51.100.0/24"); locked {
		t.Error("another network is locked")
	}
	// An administrator unlocks through B: both accept.
	if _, err := b.Unlock(ctx, "admin@nhs.test", []string{acct}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	for i, e := range nodes {
		if _, locked := e.Locked(ctx, acct, src); locked {
			t.Errorf("still locked through server %d after an unlock", i)
		}
	}

	// Twenty guesses at once, ten through each server: exactly one lock
	// begins, and both servers hold it.
	const acct2 = "ben@nhs.test"
	var mu sync.Mutex
	locks := 0
	var wg sync.WaitGroup
	for i := range 20 {
		e := nodes[i%2]
		wg.Go(func() {
			res := e.Failure(ctx, acct2, src, fmt.Sprint("try-", i))
			if res.LockSource == src {
				mu.Lock()
				locks++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if locks != 1 {
		t.Errorf("20 guesses at once through two servers began %d locks of the source, want 1", locks)
	}
	for i, e := range nodes {
		if _, locked := e.Locked(ctx, acct2, src); !locked {
			t.Errorf("not locked through server %d", i)
		}
	}
}

// A device's stale saved password arriving through two servers counts
// once: the fingerprints are shared.
func TestStalePasswordThroughTwoNodesCountsOnce(t *testing.T) {
	ctx := context.Background()
	a, b := twoNodes(t, lockout.Policy{})
	const acct, src = "chloe@nhs.test", "192.0.2.0/24"
	if res := a.Failure(ctx, acct, src, "Summer2025!"); res.Outcome != lockout.Counted {
		t.Fatalf("first: %s", res.Outcome)
	}
	for i, e := range []*lockout.Engine{b, a, b} {
		if res := e.Failure(ctx, acct, src, "Summer2025!"); res.Outcome != lockout.Repeat || res.Failures != 1 {
			t.Errorf("again (%d): %s with %d failures, want repeat with 1", i, res.Outcome, res.Failures)
		}
	}
}

// A password spray through two servers: one guess at each of many
// accounts from one network pauses that network through both servers at
// the same count as through one.
func TestNetworkBudgetAcrossNodes(t *testing.T) {
	ctx := context.Background()
	a, b := twoNodes(t, lockout.Policy{NetworkThreshold: 10, NetworkWindow: time.Hour})
	nodes := []*lockout.Engine{a, b}
	const spray = "203.0.113.0/24"
	for i := range 9 {
		if res := nodes[i%2].Failure(ctx, fmt.Sprintf("person%d@nhs.test", i), spray, "Winter2026!"); res.Outcome != lockout.Counted {
			t.Fatalf("guess %d: %s", i, res.Outcome)
		}
	}
	for i, e := range nodes {
		if _, paused := e.NetworkThrottled(ctx, "someone@nhs.test", spray); paused {
			t.Fatalf("paused through server %d after 9 sprayed guesses (threshold 10)", i)
		}
	}
	a.Failure(ctx, "person9@nhs.test", spray, "Winter2026!")
	for i, e := range nodes {
		if _, paused := e.NetworkThrottled(ctx, "someone@nhs.test", spray); !paused {
			t.Errorf("not paused through server %d after 10 sprayed guesses through both", i)
		}
	}
}
