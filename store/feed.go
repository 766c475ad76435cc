package store

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// ChangeFeed carries the hub's announcements between processes that share
// one database (DESIGN section 6: change notifications cross nodes), so that
// an IDLE session on one node hears of mail delivered through another.
// PostgreSQL's is LISTEN/NOTIFY (store/postgres); SQLite has none, a data
// folder belonging to one process whose hub is the whole story.
type ChangeFeed interface {
	// Announce runs in a write transaction just before it commits, with
	// the hub keys (mailbox ids, negative list ids) the transaction
	// changed: the announcement reaches the other processes if and only if
	// the commit does.
	Announce(ctx context.Context, tx Execer, keys []int64) error
	// Listen calls publish with the keys other processes announce until
	// ctx ends. Each time it starts listening, the first time included,
	// it calls publish with nil: announcements made before (while the
	// store was opening, or while a dropped connection was made again)
	// were not heard, so anything may have changed.
	Listen(ctx context.Context, publish func(keys []int64))
}

// Execer runs a statement in a write transaction: a *sql.Tx, or what
// queues it to go out with the batch's COMMIT (pipeline.go).
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// execer runs a write function's statements: the transaction's *sql.Tx, or
// on a pipelining dialect the writer's *sql.Conn with the transaction begun
// by a statement.
type execer interface {
	Execer
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// feed runs a ChangeFeed's listener for the store's lifetime.
type feed struct {
	ChangeFeed
	cancel context.CancelFunc
	done   sync.WaitGroup
}

func (s *Store) startFeed(f ChangeFeed) {
	ctx, cancel := context.WithCancel(context.Background())
	s.feed = &feed{ChangeFeed: f, cancel: cancel}
	s.feed.done.Add(1)
	listening := make(chan struct{})
	var once sync.Once
	go func() {
		defer s.feed.done.Done()
		f.Listen(ctx, func(keys []int64) {
			if keys == nil {
				once.Do(func() { close(listening) })
				s.hub.publishAll()
				return
			}
			s.hub.Publish(keys...)
		})
	}()
	// The store serves once it hears other processes' announcements, so
	// that a session's wait for new mail cannot begin in a gap where they
	// are lost; the first publish(nil) wakes any that did.
	select {
	case <-listening:
	case <-time.After(feedStartWait):
		s.log.Warn("store: not yet listening to other processes' changes; serving meanwhile")
	}
}

// feedStartWait bounds how long opening the store waits for the change
// feed's first connection.
const feedStartWait = 5 * time.Second

func (s *Store) stopFeed() {
	if s.feed != nil {
		s.feed.cancel()
		s.feed.done.Wait()
	}
}

// announce tells the other processes what a batch changed, inside its
// transaction.
func (s *Store) announce(ctx context.Context, tx Execer, batch []*writeReq, errs []error) error {
	if s.feed == nil {
		return nil
	}
	seen := map[int64]bool{}
	var keys []int64
	for i, r := range batch {
		if errs[i] != nil {
			continue
		}
		for _, k := range r.changed {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	if len(keys) == 0 {
		return nil
	}
	return s.feed.Announce(ctx, tx, keys)
}
