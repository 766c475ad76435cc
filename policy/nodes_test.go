package policy_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

// Reply-alls to one thread through two nodes at once (two processes'
// stores on one PostgreSQL database), with the breaker letting 10 through:
// exactly 10 pass between the two, the rest are refused, and the thread
// ends blocked with 10 replies recorded.
func TestBreakerHoldsAcrossNodes(t *testing.T) {
	if !storetest.Postgres() {
		t.Skip("several processes share a database only on PostgreSQL: " + storetest.Env + " (make test-postgres)")
	}
	ctx := context.Background()
	be := storetest.New(t)
	var nodes []*policy.Breaker
	for range 2 {
		st := be.Open(t, storetest.Options{IndexEvery: -1})
		nodes = append(nodes, policy.NewBreaker(st, policy.StormConfig{Threshold: 10}, nil, nil, nil))
	}
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	for i := range 40 {
		b := nodes[i%2]
		wg.Go(func() {
			tk, err := b.Check(ctx, policy.Reply{ThreadID: "<storm@nhs.test>", MessageID: fmt.Sprintf("<r%d@nhs.test>", i),
				Subject: "RE: everyone", Sender: fmt.Sprintf("p%d@nhs.test", i), IsReply: true, Audience: 5000})
			var r *policy.Refusal
			switch {
			case err == nil:
				time.Sleep(5 * time.Millisecond) // the message being stored
				if err := tk.Done(ctx, true); err != nil {
					t.Error(err)
				}
				ok.Add(1)
			case errors.As(err, &r) && r.Code == 550:
				refused.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 10 || refused.Load() != 30 {
		t.Errorf("through two nodes: %d reply-alls passed, %d refused; want 10 and 30", ok.Load(), refused.Load())
	}
	for i, b := range nodes {
		th, err := b.Thread(ctx, "<storm@nhs.test>")
		if err != nil || th.State != "blocked" || th.Replies != 10 {
			t.Errorf("node %d sees the thread as %+v (%v); want blocked with 10 replies", i, th, err)
		}
	}
	// A reply whose message failed to store frees its place for another
	// node's.
	th := "<second@nhs.test>"
	r := policy.Reply{ThreadID: th, Subject: "RE: two", IsReply: true, Audience: 5000}
	small := policy.NewBreaker(be.Open(t, storetest.Options{IndexEvery: -1}), policy.StormConfig{Threshold: 1}, nil, nil, nil)
	other := policy.NewBreaker(be.Open(t, storetest.Options{IndexEvery: -1}), policy.StormConfig{Threshold: 1}, nil, nil, nil)
	tk, err := small.Check(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Check(ctx, r); err == nil {
		t.Error("a second reply passed on the other node while the first was being stored (threshold 1)")
	}
	if err := tk.Done(ctx, false); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Check(ctx, r); err != nil {
		t.Errorf("after the first failed to store, the other node refused: %v", err)
	}
}
