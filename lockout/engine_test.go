package lockout_test

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"wardmail/lockout"
	"wardmail/store/sqlite"
	"wardmail/store/storetest"
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

// After a store fault, failures are excused, but only one threshold's worth
// per source: an attacker who can make the store slow does not get to
// guess for free.
func TestBackendFaultExcusesOneThreshold(t *testing.T) {
	ctx := context.Background()
	st, err := storetest.New(t).OpenErr(storetest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e, err := lockout.New(ctx, lockout.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	e.BackendFailed()
	outcomes := map[string]int{}
	var res lockout.Result
	last := ""
	for i := 0; res.LockedUntil.IsZero() && i < 100; i++ {
		last = fmt.Sprint("guess-", i)
		res = e.Failure(ctx, "amira@nhs.test", "192.0.2.0/24", last)
		outcomes[res.Outcome]++
	}
	if outcomes[lockout.Backend] != 10 || outcomes[lockout.Counted] != 10 {
		t.Errorf("outcomes before the lock: %v, want 10 excused then 10 counted", outcomes)
	}
	if res := e.Failure(ctx, "amira@nhs.test", "192.0.2.0/24", last); res.Outcome != lockout.Repeat {
		t.Errorf("the last wrong password again: %s, want repeat", res.Outcome)
	}
}

// A spray of made-up names cannot grow memory without bound: above
// MaxEntries the oldest counters that never locked go, locks stay.
func TestMaxEntries(t *testing.T) {
	ctx := context.Background()
	st, err := storetest.New(t).OpenErr(storetest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e, err := lockout.New(ctx, lockout.Config{Store: st, Policy: lockout.Policy{MaxEntries: 100, Poll: 10 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e)
	for i := range 10 {
		e.Failure(ctx, "amira@nhs.test", "192.0.2.0/24", fmt.Sprint("guess-", i))
	}
	for i := range 200 {
		e.Failure(ctx, fmt.Sprintf("made-up-%d@nhs.test", i), "192.0.2.0/24", "x")
	}
	// 402 counters (each name and its account-wide budget, and Amira's
	// two): evictions bring them down to 90 whenever more than 100 are
	// held, so between 302 and 312 are evicted in all, depending on how
	// many failures land between two polls (on PostgreSQL each failure is
	// a write). They happen as the engine's writes land: on a busy machine
	// and PostgreSQL that takes more than a few seconds.
	evicted := func() float64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "wardmail_lockout_evicted_total" {
				return mf.GetMetric()[0].GetCounter().GetValue()
			}
		}
		return 0
	}
	deadline := time.Now().Add(30 * time.Second)
	for evicted() < 302 {
		if time.Now().After(deadline) {
			t.Fatalf("%v counters evicted, want 302 to 312", evicted())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := evicted(); n > 312 {
		t.Errorf("%v counters evicted, want 302 to 312", n)
	}
	if _, locked := e.Locked(ctx, "amira@nhs.test", "192.0.2.0/24"); !locked {
		t.Error("a lock was evicted")
	}
}

// The network budget: a spray of one guess at many accounts from one
// network pauses password sign-ins from it to accounts it is unfamiliar to,
// until its window passes; a network busy with successful sign-ins (a
// hospital's shared address where a few people mistype) is not paused.
func TestNetworkBudget(t *testing.T) {
	ctx := context.Background()
	st, err := storetest.New(t).OpenErr(storetest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clk := &clock{t: time.Now()}
	e, err := lockout.New(ctx, lockout.Config{Store: st, Now: clk.now, Policy: lockout.Policy{NetworkThreshold: 5, NetworkWindow: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	const spray, hospital = "203.0.113.0/24", "198.51.100.0/24"
	e.Success("ben@nhs.test", spray) // Ben works there
	for i := range 5 {
		if res := e.Failure(ctx, fmt.Sprintf("person%d@nhs.test", i), spray, "Winter2026!"); res.Outcome != lockout.Counted {
			t.Fatalf("guess %d: %s", i, res.Outcome)
		}
	}
	until, paused := e.NetworkThrottled(ctx, "chloe@nhs.test", spray)
	if !paused || until.Sub(clk.now()) > time.Hour {
		t.Fatalf("after 5 sprayed guesses: paused %v until %v", paused, until)
	}
	if _, paused := e.NetworkThrottled(ctx, "ben@nhs.test", spray); paused {
		t.Error("a familiar account is paused")
	}
	if _, paused := e.NetworkThrottled(ctx, "chloe@nhs.test", hospital); paused {
		t.Error("another network is paused")
	}
	if _, locked := e.Locked(ctx, "person0@nhs.test", spray); locked {
		t.Error("one guess locked an account")
	}
	clk.add(2*time.Hour + time.Second)
	if _, paused := e.NetworkThrottled(ctx, "chloe@nhs.test", spray); paused {
		t.Error("still paused two windows later")
	}

	// The hospital: 40 people sign in, then 6 mistype (each on a new
	// device, so unfamiliar): more successes than failures, not paused.
	for i := range 40 {
		e.Success(fmt.Sprintf("nurse%d@nhs.test", i), hospital)
	}
	for i := range 6 {
		e.Failure(ctx, fmt.Sprintf("new%d@nhs.test", i), hospital, "typo")
	}
	if _, paused := e.NetworkThrottled(ctx, "new.starter@nhs.test", hospital); paused {
		t.Error("a busy network with a few typos is paused")
	}
}
