package sqlite

import (
	"context"
	"database/sql"
	"os"
	"sync/atomic"
	"time"
)

// The WAL under a steady stream of deliveries.
//
// Checkpoints run on a connection of their own (PASSIVE: they never block
// the writer or a reader), copying committed pages into the database. But
// SQLite starts the WAL again from its beginning only when a write begins
// after a checkpoint has copied every frame, and while commits keep coming
// a checkpoint running beside the writer never catches up with it: the WAL
// grew to 1.5 GB over 60,000 deliveries and 6.4 GB over 200,000. A long WAL
// makes every page read slower (a reader searches one hash table per 4,096
// frames), and the folder grows by a log that is never reused.
//
// So once the WAL holds more than Options.WALLimit, the writer itself, between
// two group commits, finishes the checkpoint: nothing can be appended while
// it runs, so it copies the last frames (those since the background
// checkpoint, a fraction of a second's worth) and the next commit starts the
// WAL from the beginning; journal_size_limit then gives the disk space back.

// DefaultWALLimit is the default Options.WALLimit: 64 MiB.
const DefaultWALLimit = 64 << 20

type walGuard struct {
	cp, w *sql.DB
	path  string // the -wal file
	// limit is the bound in bytes. journal_size_limit is the same, so the
	// file is longer than limit exactly when more frames than that are in
	// use: one stat after each commit tells the writer.
	limit int64
	// retry is when the writer may try again after a checkpoint that
	// could not copy every frame.
	retry time.Time
	// restarts counts the writer's checkpoints that let the WAL restart.
	restarts atomic.Int64
}

// background is the periodic checkpoint on its own connection.
func (g *walGuard) background(ctx context.Context) error {
	_, _, _, err := walCheckpoint(ctx, g.cp)
	return err
}

// betweenBatches runs on the writer goroutine after a commit.
func (g *walGuard) betweenBatches(ctx context.Context) error {
	// A reader that holds an old snapshot, or the background checkpoint
	// running at that moment, keeps the WAL from restarting; the writer
	// then tries again after 10 ms.
	if !g.retry.IsZero() && time.Now().Before(g.retry) {
		return nil
	}
	fi, err := os.Stat(g.path)
	if err != nil || fi.Size() <= g.limit {
		return nil
	}
	busy, logFrames, done, err := walCheckpoint(ctx, g.w)
	if err != nil {
		return err
	}
	if busy == 0 && logFrames == done {
		// Every frame is in the database: the next commit starts the WAL
		// again and cuts the file back to the limit.
		g.restarts.Add(1)
		g.retry = time.Time{}
	} else {
		g.retry = time.Now().Add(10 * time.Millisecond)
	}
	return nil
}

func walCheckpoint(ctx context.Context, db *sql.DB) (busy, logFrames, done int64, err error) {
	err = db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logFrames, &done)
	return busy, logFrames, done, err
}
