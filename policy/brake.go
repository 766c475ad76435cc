package policy

import (
	"context"
	"time"

	"wardmail/store"
)

// The early brake (DESIGN section 4): from the BrakeFrom-th large-audience
// reply in a thread's window, the pipeline stores the reply at once but
// holds its list posts (store.BrakeReason) instead of appending them to the
// post logs. ReleaseBraked, run by a server worker, appends them once
// BrakeDelay has passed, unless the thread is blocked by then: those wait
// for the block to end or for an administrator (purge, or approve in the
// held queue). "250 OK" still means durable: the held post is written in
// the same commit as the rest of the message.

// ReleaseBraked releases braked posts whose delay is over. It returns how
// many it released.
func (b *Breaker) ReleaseBraked(ctx context.Context) (int, error) {
	posts, err := b.st.BrakedPosts(ctx)
	if err != nil || len(posts) == 0 {
		return 0, err
	}
	now := b.now()
	blocked := map[string]bool{}
	n := 0
	for _, p := range posts {
		if p.At.Add(b.cfg.BrakeDelay).After(now) {
			continue
		}
		isBlocked, seen := blocked[p.ThreadID]
		if !seen {
			t, err := b.st.StormThread(ctx, p.ThreadID, now.Add(-b.cfg.Window))
			if err == nil {
				isBlocked = t.Blocked(now)
			}
			blocked[p.ThreadID] = isBlocked
		}
		if isBlocked {
			continue
		}
		if _, err := b.st.DecideHeld(ctx, "breaker", p.HeldID, true, "released after the storm brake's delay", 0); err != nil {
			b.log.Warn("releasing a braked post", "held", p.HeldID, "err", err)
			continue
		}
		n++
	}
	b.metrics.Released(n)
	return n, nil
}

// BrakeReason is the held reason for a braked post.
func (b *Breaker) BrakeReason(release time.Time) string {
	return store.BrakeReason + ": many replies to everyone on this conversation; delivery to the list is delayed until " +
		release.UTC().Format("15:04 MST")
}
