// Package cluster is what a node knows of the other nodes on the same
// database: each node beats (a row rewritten every few seconds with its
// doors and version), and each background job (the post-log trickle, the
// expiry of held posts, …) runs on one node at a time, the one holding its
// lease. A node that dies stops renewing; its leases lapse and another node
// takes its jobs within one lease period. No consensus of our own: the
// database's row locks decide who holds a lease (store.TakeLease).
//
// On SQLite there is one node, and it holds every lease.
package cluster

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"wardmail/store"
)

// Storage is what the cluster needs of the store.
type Storage interface {
	Heartbeat(ctx context.Context, n store.NodeRow) error
	ForgetNode(ctx context.Context, name string) error
	Nodes(ctx context.Context) ([]store.NodeRow, error)
	TakeLease(ctx context.Context, job, holder string, ttl time.Duration) (bool, error)
	Leases(ctx context.Context) ([]store.LeaseRow, error)
}

// Defaults.
const (
	// HeartbeatEvery is how often a node rewrites its row; a node that has
	// not for store.NodeAliveWithin (three beats) counts as gone.
	HeartbeatEvery = store.NodeAliveWithin / 3
	// LeaseFor is how long a lease lasts without renewal: after a node
	// dies, its jobs wait at most this long for another node.
	LeaseFor = 15 * time.Second
)

// Info describes this node.
type Info struct {
	Name    string // unique in the cluster (node_name; default: the host name)
	Version string
	Doors   string
}

// Node is this process's membership of the cluster.
type Node struct {
	info    Info
	started time.Time
	st      Storage
	log     *slog.Logger

	mu    sync.Mutex
	until map[string]time.Time // leases held, by job: when they end
}

// Join records the node and keeps beating until ctx ends; call Leave on a
// clean stop so that another node takes its jobs at once.
func Join(ctx context.Context, st Storage, info Info, log *slog.Logger) (*Node, error) {
	n := &Node{info: info, started: time.Now(), st: st, log: log, until: map[string]time.Time{}}
	if err := n.beat(ctx); err != nil {
		return nil, err
	}
	go func() {
		t := time.NewTicker(HeartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := n.beat(ctx); err != nil && ctx.Err() == nil {
					log.Warn("cluster heartbeat", "err", err)
				}
			}
		}
	}()
	return n, nil
}

func (n *Node) beat(ctx context.Context) error {
	n.mu.Lock()
	doors := n.info.Doors
	n.mu.Unlock()
	return n.st.Heartbeat(ctx, store.NodeRow{Name: n.info.Name, Version: n.info.Version, Doors: doors, Started: n.started})
}

// SetDoors records the doors once they listen (their ports may have been
// chosen by the system) and beats at once with them.
func (n *Node) SetDoors(ctx context.Context, doors string) error {
	n.mu.Lock()
	n.info.Doors = doors
	n.mu.Unlock()
	return n.beat(ctx)
}

// Name is the node's name.
func (n *Node) Name() string { return n.info.Name }

// Leave removes the node and its leases.
func (n *Node) Leave(ctx context.Context) error { return n.st.ForgetNode(ctx, n.info.Name) }

// Holds reports whether this node runs job now, taking or renewing its
// lease as needed: a renewal is written only once half the lease has gone,
// so a job that asks every second costs a write every few seconds.
func (n *Node) Holds(ctx context.Context, job string) bool {
	now := time.Now()
	n.mu.Lock()
	until, held := n.until[job]
	n.mu.Unlock()
	if held && now.Before(until.Add(-LeaseFor/2)) {
		return true
	}
	ok, err := n.st.TakeLease(ctx, job, n.info.Name, LeaseFor)
	if err != nil {
		if ctx.Err() == nil {
			n.log.Warn("taking a job's lease", "job", job, "err", err)
		}
		ok = false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if !ok {
		delete(n.until, job)
		return false
	}
	if !held {
		n.log.Info("running a background job for the cluster", "job", job)
	}
	n.until[job] = now.Add(LeaseFor)
	return true
}
