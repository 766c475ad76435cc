package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"wardmail/store/sqlite"
)

// Deliveries that never pause leave the write-ahead log bounded: the
// writer finishes a checkpoint between commits once the log passes its
// limit, so the data folder does not grow by a log that is never reused.
func TestWALBoundedUnderSteadyDeliveries(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	const limit = 1 << 20
	s, err := sqlite.Open(ctx, dir, sqlite.Options{WALLimit: limit, IndexEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var emails []string
	for i := range 2000 {
		emails = append(emails, fmt.Sprintf("p%d@nhs.test", i))
	}
	ids := addPeopleB(t, s, emails)
	body := make([]byte, 2000)
	for i := range body {
		body[i] = 'a' + byte(i%26)
	}
	wal := filepath.Join(dir, "wardmail.db-wal")
	var mu sync.Mutex
	largest := int64(0)
	var wg sync.WaitGroup
	for g := range 20 {
		wg.Go(func() {
			for i := g; i < 4000; i += 20 {
				c, err := s.PrepareContent(ctx, append([]byte(fmt.Sprintf("Subject: %d\r\n\r\n", i)), body...), []byte(`{}`))
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := s.Deliver(ctx, c, []int64{ids[(i*7919)%len(ids)]}, time.Now()); err != nil {
					t.Error(err)
					return
				}
				if fi, err := os.Stat(wal); err == nil {
					mu.Lock()
					largest = max(largest, fi.Size())
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	// A checkpoint that meets the background one tries again 10 ms later:
	// allow for what the commits in between add.
	if largest > 4*limit {
		t.Errorf("the WAL reached %.1f MiB with a limit of %.1f MiB", float64(largest)/(1<<20), float64(limit)/(1<<20))
	}
	t.Logf("largest WAL %.1f MiB", float64(largest)/(1<<20))
}
