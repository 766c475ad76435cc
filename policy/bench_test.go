package policy_test

import (
	"context"
	"fmt"
	"testing"

	"wardmail/policy"
	"wardmail/store/storetest"
)

// BenchmarkBreakerStorm is a storm on many threads: each thread gets 20
// large-audience replies, of which the breaker lets 10 through (each
// checked, stored and recorded) and refuses 10. One op is one reply.
func BenchmarkBreakerStorm(b *testing.B) {
	ctx := context.Background()
	st := storetest.New(b).Open(b, storetest.Options{IndexEvery: -1})
	br := policy.NewBreaker(st, policy.StormConfig{}, nil, nil, nil)
	b.ResetTimer()
	for i := range b.N {
		tk, err := br.Check(ctx, policy.Reply{ThreadID: fmt.Sprintf("<t%d@x>", i/20), MessageID: fmt.Sprintf("<r%d@x>", i),
			Subject: "RE: everyone", Sender: "a@x", IsReply: true, Audience: 3000})
		if err != nil {
			continue
		}
		if err := tk.Done(ctx, true); err != nil {
			b.Fatal(err)
		}
	}
}
