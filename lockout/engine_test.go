package lockout_test

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"wardmail/lockout"
	"wardmail/store/sqlite"
)

// clock is a settable time for the engine.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Locks double from 60 s up to the cap, expire by themselves, and survive a
// restart of the server (a new engine on the same store).
func TestLockGrowthAndRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clk := &clock{t: time.Now()}
	cfg := lockout.Config{Store: st, Now: clk.now, Policy: lockout.Policy{LockMax: 5 * time.Minute}}
	e, err := lockout.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	const acct, src = "amira@nhs.test", "192.0.2.0/24"
	var got []time.Duration
	n := 0
	for range 5 {
		var res lockout.Result
		for res.LockedUntil.IsZero() {
			res = e.Failure(ctx, acct, src, fmt.Sprint("guess-", n))
			n++
		}
		got = append(got, res.LockedUntil.Sub(clk.now()))
		if _, locked := e.Locked(ctx, acct, src); !locked {
			t.Fatal("not locked after a lock began")
		}
		clk.add(res.LockedUntil.Sub(clk.now()) + time.Second)
		if _, locked := e.Locked(ctx, acct, src); locked {
			t.Fatal("lock did not expire")
		}
	}
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 5 * time.Minute, 5 * time.Minute}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("lock lengths %v, want %v", got, want)
	}
	if n != 10+4 {
		t.Errorf("%d failures for five locks, want 14 (10, then one per lock)", n)
	}
	// One more lock, then restart.
	e.Failure(ctx, acct, src, "one more")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e2, err := lockout.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	if _, locked := e2.Locked(ctx, acct, src); !locked {
		t.Error("the lock did not survive a restart")
	}
	if _, locked := e2.Locked(ctx, acct, "198.51.100.0/24"); locked {
		t.Error("another source is locked")
	}
}

func TestNetworkSource(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.77":                "192.0.2.0/24",
		"::ffff:192.0.2.77":         "192.0.2.0/24",
		"2001:db8:aa:bbcc:1::1":     "2001:db8:aa:bb00::/56",
		"fe80::1%eth0":              "fe80::/56",
		"2001:db8:aa:bbff:ffff::ff": "2001:db8:aa:bb00::/56",
	} {
		if got := lockout.NetworkSource(mustAddr(t, in)); got != want {
			t.Errorf("NetworkSource(%s) = %s, want %s", in, got, want)
		}
	}
}

func mustAddr(t *testing.T, s string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
