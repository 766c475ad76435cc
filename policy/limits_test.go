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

// One person's parallel sessions cannot all pass at the edge: messages
// let through but not yet stored count too.
func TestLimitsConcurrentSessions(t *testing.T) {
	ctx := context.Background()
	st, err := storetest.New(t).OpenErr(storetest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l := policy.NewLimits(st, policy.LimitConfig{}, nil, nil)
	var ok, limited atomic.Int64
	var mu sync.Mutex
	var releases []func()
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			release, err := l.Check(ctx, 7, 1)
			var r *policy.Refusal
			switch {
			case err == nil:
				ok.Add(1)
				mu.Lock()
				releases = append(releases, release)
				mu.Unlock()
			case errors.As(err, &r) && r.Code == 450:
				limited.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 30 || limited.Load() != 10 {
		t.Errorf("%d let through, %d limited; want 30 and 10", ok.Load(), limited.Load())
	}
	// Released without being stored (refused later in the pipeline): they
	// no longer count.
	for _, r := range releases {
		r()
		r() // twice is harmless
	}
	if _, err := l.Check(ctx, 7, 1); err != nil {
		t.Errorf("after the releases: %v", err)
	}
	// Recipients a day: one message bigger than the quota is refused for good.
	var r *policy.Refusal
	if _, err := l.Check(ctx, 8, 10001); !errors.As(err, &r) || r.Code != 550 {
		t.Errorf("10,001 recipients at once: %v", err)
	}
}
