package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"wardmail/store"
	"wardmail/store/storetest"
)

// A background job's lease goes to one node at a time: of many asking at
// once (on PostgreSQL, through two stores as two nodes would) exactly one
// gets it; the holder renews it; another takes it only once it has lapsed.
func TestLeaseGoesToOneNode(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	var clock atomic.Int64
	clock.Store(now.Unix())
	opt := storetest.Options{Now: func() time.Time { return time.Unix(clock.Load(), 0) }}
	b := storetest.New(t)
	a := b.Open(t, opt)
	other := a
	if storetest.Postgres() {
		other = b.Open(t, opt) // a second node on the same database
	}

	var won atomic.Int32
	var wg sync.WaitGroup
	for i := range 16 {
		st := a
		if i%2 == 1 {
			st = other
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := st.TakeLease(ctx, "post-trickle", []string{"node-a", "node-b", "node-c", "node-d"}[i%4], time.Minute)
			if err != nil {
				t.Error(err)
			}
			if ok {
				won.Add(1)
			}
		}()
	}
	wg.Wait()
	leases, err := a.Leases(ctx)
	if err != nil || len(leases) != 1 {
		t.Fatalf("leases: %v %+v", err, leases)
	}
	holder := leases[0].Holder
	// Each of the four names asked four times; only the first winner's
	// later asks are renewals, so the winners are all one name.
	if w := won.Load(); w < 1 || w > 4 {
		t.Fatalf("%d grants among 16 asks, want the one holder's (1 to 4)", w)
	}

	if ok, err := other.TakeLease(ctx, "post-trickle", holder, time.Minute); !ok || err != nil {
		t.Fatalf("the holder could not renew: %v %v", ok, err)
	}
	if ok, _ := other.TakeLease(ctx, "post-trickle", "node-z", time.Minute); ok {
		t.Fatal("another node took a lease that has not lapsed")
	}
	clock.Add(61)
	if ok, err := other.TakeLease(ctx, "post-trickle", "node-z", time.Minute); !ok || err != nil {
		t.Fatalf("a lapsed lease was not taken over: %v %v", ok, err)
	}
	if leases, _ := a.Leases(ctx); len(leases) != 1 || leases[0].Holder != "node-z" {
		t.Fatalf("after the takeover: %+v", leases)
	}
}

// Nodes beat, are listed, and leave with their leases when they stop.
func TestNodeHeartbeats(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t, storetest.Options{})
	started := time.Now().Add(-time.Hour).Truncate(time.Second)
	for _, n := range []string{"mx1", "mx2"} {
		if err := st.Heartbeat(ctx, store.NodeRow{Name: n, Version: "v1", Doors: "smtp 0.0.0.0:25", Started: started}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Heartbeat(ctx, store.NodeRow{Name: "mx1", Version: "v2", Doors: "smtp 0.0.0.0:25", Started: started}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.TakeLease(ctx, "held-expiry", "mx1", time.Minute); err != nil {
		t.Fatal(err)
	}
	nodes, err := st.Nodes(ctx)
	if err != nil || len(nodes) != 2 {
		t.Fatalf("nodes: %v %+v", err, nodes)
	}
	for _, n := range nodes {
		if n.Name == "mx1" && (n.Version != "v2" || !n.Started.Equal(started)) {
			t.Errorf("mx1 after its second beat: %+v", n)
		}
	}
	if err := st.ForgetNode(ctx, "mx1"); err != nil {
		t.Fatal(err)
	}
	if nodes, _ := st.Nodes(ctx); len(nodes) != 1 || nodes[0].Name != "mx2" {
		t.Errorf("after mx1 stopped: %+v", nodes)
	}
	if leases, _ := st.Leases(ctx); len(leases) != 0 {
		t.Errorf("mx1's lease outlived it: %+v", leases)
	}
}
