package server

import (
	"context"
	"log/slog"
	"time"

	"wardmail/cluster"
	"wardmail/store"
	"wardmail/submit"
)

// Background work that keeps the post log tidy (DESIGN section 3):
//   - the trickle materialises pending list posts while the store's write
//     queue is idle, so mailboxes are ready before people open them;
//   - expired held posts are closed and their senders told.

// The background jobs, by the name their lease goes by.
const (
	JobTrickle    = "post-trickle"
	JobHeldExpiry = "held-expiry"
	JobOutbound   = "outbound-queue" // the outbound queue's scheduler (one node sends, so none sends twice)
	JobWordIndex  = "word-index"     // the word indexer of search (one node reads and indexes each body)
)

// trickleBatch is how many people one idle moment serves: small enough that
// the trickle's time budget is checked often.
const trickleBatch = 25

// trickleMaxSkips bounds how many intervals in a row the trickle leaves to
// readers taking in their own posts (a list flood being read): it then runs
// one interval anyway, so that under steady reading it still gets a tenth
// of its share and the backlog is taken in eventually.
const trickleMaxSkips = 9

// startWorkers runs the workers until the returned stop function is called.
// Each runs on one node of a cluster at a time: the one holding its lease
// (package cluster).
func startWorkers(st *store.Store, pipe *submit.Pipeline, node *cluster.Node, trickleEvery time.Duration, log *slog.Logger) func() error {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() {
		defer func() { done <- struct{}{} }()
		if trickleEvery <= 0 {
			<-ctx.Done()
			return
		}
		t := time.NewTicker(trickleEvery)
		defer t.Stop()
		skipped := 0
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			// Only when nothing else is waiting to be written: deliveries
			// and readers always come first. And for at most a tenth of
			// each interval: after a storm on a large list the backlog is
			// millions of rows, and a trickle running flat out takes the
			// CPU and the writer from mailbox reads and one-to-one mail
			// (docs/decisions.md "Delivery isolation"). People
			// who read meanwhile materialise their own posts.
			if !node.Holds(ctx, JobTrickle) {
				continue
			}
			// Nor while readers are taking in their own posts (the
			// moments after a post to a large list): each of the
			// trickle's writes, its commit and the checkpoint of what
			// it wrote would be in front of their SELECTs, for people
			// who are not reading.
			if time.Since(st.LastTakeIn()) < trickleEvery && skipped < trickleMaxSkips {
				skipped++
				continue
			}
			skipped = 0
			share, cancel := context.WithTimeout(ctx, trickleEvery/10)
			for st.WriteQueueLen() == 0 && share.Err() == nil {
				n, err := st.Trickle(share, trickleBatch)
				if err != nil {
					if ctx.Err() == nil {
						log.Warn("materialising pending posts", "err", err)
					}
					break
				}
				if n == 0 {
					break
				}
			}
			cancel()
		}
	}()
	go func() {
		defer func() { done <- struct{}{} }()
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			if node.Holds(ctx, JobHeldExpiry) {
				expired, err := st.ExpireHeld(ctx)
				if err != nil && ctx.Err() == nil {
					log.Warn("expiring held posts", "err", err)
				}
				for i := range expired {
					pipe.NotifyHeld(ctx, &expired[i])
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() error {
		cancel()
		<-done
		<-done
		return nil
	}
}

// startIndexer runs the store's word indexer on the node holding the
// word-index lease, so that each body is fetched and indexed once across
// the cluster rather than once per node; a search on any node still finds
// the bodies not indexed yet by reading them (mail/search.go). On SQLite
// the store runs its indexer itself, as the only process.
func startIndexer(st *store.Store, node *cluster.Node) func() error {
	stop := st.StartIndexer(0, func(ctx context.Context) bool { return node.Holds(ctx, JobWordIndex) })
	return func() error {
		stop()
		return nil
	}
}
