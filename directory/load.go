package directory

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"

	"wardmail/auth"
	"wardmail/store"
)

// ImportStats says what an import did.
type ImportStats struct {
	Rows, Added, Updated, Passwords int
}

// importBatch is how many people go to the database at a time.
const importBatch = 5000

// Import reads a directory CSV file into the store: all rows or none. Rows
// without a password cost one row each, which is what lets 1.2 million people
// import in seconds. Rows with a password pay for argon2id (about 20 ms each
// per core with the default parameters), so a national import leaves the
// password column empty and people set theirs through the web, or arrive
// with app passwords. Re-importing updates people in place.
func Import(ctx context.Context, st ImportStore, r io.Reader, filename string, params auth.Params) (ImportStats, error) {
	var stats ImportStats
	im, err := st.BeginImport(ctx)
	if err != nil {
		return stats, err
	}
	batch := make([]Entry, 0, importBatch)
	var dbErr error
	flush := func() {
		if dbErr != nil || len(batch) == 0 {
			batch = batch[:0]
			return
		}
		recs, n, err := toRecords(ctx, batch, params)
		stats.Passwords += n
		if err == nil {
			err = im.Add(recs)
		}
		dbErr = err
		batch = batch[:0]
	}
	parseErr := ParseCSV(r, filename, func(e Entry) error {
		stats.Rows++
		batch = append(batch, e)
		if len(batch) == importBatch {
			flush()
		}
		return ctx.Err()
	})
	flush()
	if err := firstErr(parseErr, dbErr); err != nil {
		_ = im.Rollback()
		return ImportStats{}, err
	}
	if stats.Added, stats.Updated, err = im.Commit(); err != nil {
		return stats, err
	}
	// People may have joined or left organisations, roles and sites: bring
	// dynamic lists up to date (members who leave keep what was posted
	// while they were members).
	return stats, st.SyncDynamicLists(ctx)
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// toRecords hashes the passwords of a batch on every core.
func toRecords(ctx context.Context, batch []Entry, params auth.Params) ([]store.PersonRecord, int, error) {
	recs := make([]store.PersonRecord, len(batch))
	var work []int
	for i, e := range batch {
		recs[i] = store.PersonRecord{Email: e.Email, Name: e.Name, Org: e.Org, Role: e.Role, Site: e.Site}
		if e.Password != "" {
			work = append(work, i)
		}
	}
	if len(work) == 0 {
		return recs, 0, nil
	}
	jobs := make(chan int)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for w := 0; w < runtime.NumCPU(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				h, err := auth.HashPassword(params, batch[i].Password)
				if err != nil {
					select {
					case errs <- fmt.Errorf("line %d: hashing the password: %w", batch[i].Line, err):
					default:
					}
					continue
				}
				recs[i].PasswordHash = h
			}
		}()
	}
	for _, i := range work {
		if ctx.Err() != nil {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errs:
		return nil, 0, err
	default:
	}
	return recs, len(work), ctx.Err()
}
