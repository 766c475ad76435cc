package cluster

import (
	"context"
	"time"

	"wardmail/store"
)

// NodeStatus is a node as `wardmail cluster status` shows it.
type NodeStatus struct {
	store.NodeRow
	// Alive: it beat within three heartbeats.
	Alive bool
	// Jobs are the background jobs it holds a live lease on.
	Jobs []string
}

// Status is the cluster as the database sees it now.
type Status struct {
	Nodes []NodeStatus
	// Unheld are jobs whose lease has lapsed and that no node runs now.
	Unheld []string
}

// Read reads the cluster's state.
func Read(ctx context.Context, st Storage, now time.Time) (*Status, error) {
	nodes, err := st.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	leases, err := st.Leases(ctx)
	if err != nil {
		return nil, err
	}
	s := &Status{}
	idx := map[string]int{}
	for _, n := range nodes {
		idx[n.Name] = len(s.Nodes)
		s.Nodes = append(s.Nodes, NodeStatus{NodeRow: n, Alive: now.Sub(n.Seen) <= store.NodeAliveWithin})
	}
	for _, l := range leases {
		i, ok := idx[l.Holder]
		if !ok || l.Until.Before(now) {
			s.Unheld = append(s.Unheld, l.Job)
			continue
		}
		s.Nodes[i].Jobs = append(s.Nodes[i].Jobs, l.Job)
	}
	return s, nil
}
