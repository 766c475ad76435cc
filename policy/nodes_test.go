package policy_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"wardmail/policy"
	"wardmail/store/storetest"
)

// One person sending through two nodes at once (two processes' stores on
// one PostgreSQL database): the limit holds across them, as on one node.
func TestLimitsHoldAcrossNodes(t *testing.T) {
	if !storetest.Postgres() {
		t.Skip("several processes share a database only on PostgreSQL: " + storetest.Env + " (make test-postgres)")
	}
	ctx := context.Background()
	be := storetest.New(t)
	var nodes []*policy.Limits
	for range 2 {
		st := be.Open(t, storetest.Options{IndexEvery: -1})
		nodes = append(nodes, policy.NewLimits(st, policy.LimitConfig{PerMinute: 10, RecipientsPerDay: 1000}, nil, nil))
	}
	var ok, limited atomic.Int64
	var wg sync.WaitGroup
	for i := range 30 {
		l := nodes[i%2]
		wg.Go(func() {
			_, err := l.Check(ctx, 7, 1)
			var r *policy.Refusal
			switch {
			case err == nil:
				ok.Add(1)
			case errors.As(err, &r) && r.Code == 450:
				limited.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 10 || limited.Load() != 20 {
		t.Errorf("through two nodes: %d let through, %d limited; want 10 and 20", ok.Load(), limited.Load())
	}
	// Recipients a day: two 600-recipient messages through two nodes at
	// once, on a 1,000 quota: one goes.
	ok.Store(0)
	for i := range 2 {
		l := nodes[i]
		wg.Go(func() {
			if _, err := l.Check(ctx, 8, 600); err == nil {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Errorf("two 600-recipient messages on a 1,000 quota through two nodes: %d let through, want 1", ok.Load())
	}
}
