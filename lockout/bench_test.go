package lockout_test

import (
	"context"
	"fmt"
	"testing"

	"wardmail/lockout"
	"wardmail/store/storetest"
)

// BenchmarkFailure counts wrong passwords: one op is one failure, spread
// over 1,000 accounts and 50 networks (a spray), locks included.
func BenchmarkFailure(b *testing.B) {
	ctx := context.Background()
	st := storetest.New(b).Open(b, storetest.Options{IndexEvery: -1})
	e, err := lockout.New(ctx, lockout.Config{Store: st, Policy: lockout.Policy{NetworkThreshold: 1 << 30}})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	b.ResetTimer()
	for i := range b.N {
		e.Failure(ctx, fmt.Sprintf("p%d@nhs.test", i%1000), fmt.Sprintf("10.0.%d.0/24", i%50), fmt.Sprint("guess-", i))
	}
}

// BenchmarkSignInChecks is what lockout adds to a right password sign-in:
// the lock and network checks before it, the success after. One op is one
// sign-in, over 1,000 accounts on 50 networks.
func BenchmarkSignInChecks(b *testing.B) {
	ctx := context.Background()
	st := storetest.New(b).Open(b, storetest.Options{IndexEvery: -1})
	e, err := lockout.New(ctx, lockout.Config{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	b.ResetTimer()
	for i := range b.N {
		acct, src := fmt.Sprintf("p%d@nhs.test", i%1000), fmt.Sprintf("10.0.%d.0/24", i%50)
		if _, locked := e.Locked(ctx, acct, src); locked {
			b.Fatal("locked")
		}
		if _, paused := e.NetworkThrottled(ctx, acct, src); paused {
			b.Fatal("paused")
		}
		e.Success(acct, src)
	}
}
