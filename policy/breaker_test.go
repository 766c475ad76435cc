package policy_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"wardmail/policy"
	"wardmail/store/storetest"
)

// Fifty reply-alls at once on one thread: exactly ten get through, whatever
// the interleaving, and the thread ends blocked.
func TestBreakerConcurrentRepliesAtMostThreshold(t *testing.T) {
	ctx := context.Background()
	st, err := storetest.New(t).OpenErr(storetest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b := policy.NewBreaker(st, policy.StormConfig{}, nil, nil, nil)
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			tk, err := b.Check(ctx, policy.Reply{ThreadID: "<t@x>", MessageID: fmt.Sprintf("<r%d@x>", i), Subject: "RE: t",
				Sender: "a@x", IsReply: true, Audience: 3000})
			if err != nil {
				refused.Add(1)
				return
			}
			time.Sleep(time.Millisecond) // storing the message
			if err := tk.Done(ctx, true); err != nil {
				t.Error(err)
			}
			ok.Add(1)
		})
	}
	wg.Wait()
	if ok.Load() != 10 || refused.Load() != 40 {
		t.Errorf("%d accepted, %d refused; want 10 and 40", ok.Load(), refused.Load())
	}
	th, err := b.Thread(ctx, "<t@x>")
	if err != nil || th.State != "blocked" || th.Replies != 10 || th.Braked != 8 || th.Refused != 40 {
		t.Errorf("thread: %+v %v", th, err)
	}
}

// A reply whose submission failed does not count; small audiences and
// messages that are not replies are not the breaker's business.
func TestBreakerCountsOnlyStoredLargeReplies(t *testing.T) {
	ctx := context.Background()
	st, err := storetest.New(t).OpenErr(storetest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b := policy.NewBreaker(st, policy.StormConfig{Threshold: 2}, nil, nil, nil)
	check := func(r policy.Reply) *policy.Ticket {
		t.Helper()
		tk, err := b.Check(ctx, r)
		if err != nil {
			t.Fatalf("%+v: %v", r, err)
		}
		return tk
	}
	r := policy.Reply{ThreadID: "<t@x>", IsReply: true, Audience: 2500}
	if tk := check(policy.Reply{ThreadID: "<t@x>", IsReply: true, Audience: 2499}); tk != nil {
		t.Error("an audience of 2,499 was counted")
	}
	if tk := check(policy.Reply{ThreadID: "<t@x>", IsReply: false, Audience: 1e6}); tk != nil {
		t.Error("a post that is not a reply was counted")
	}
	if err := check(r).Done(ctx, false); err != nil { // the store failed
		t.Fatal(err)
	}
	for range 2 {
		if err := check(r).Done(ctx, true); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Check(ctx, r); err == nil {
		t.Error("the third counted reply with a threshold of 2 was let through")
	}
}
