package bench

import (
	"fmt"
	"io"

	"github.com/prometheus/client_golang/prometheus"
)

// WriterStats is what the store's group-commit writer did during a load:
// how many commits, how many writes each carried, how long each took, and
// how long a write waited from queueing to durable. It tells whether the
// one writer was the limit (busy near 100%) or the doors were.
type WriterStats struct {
	Commits      int     `json:"commits"`
	MeanBatch    float64 `json:"mean_batch"`
	MeanCommitMs float64 `json:"mean_commit_ms"`
	MeanWaitMs   float64 `json:"mean_write_wait_ms"`
	BusyPercent  float64 `json:"writer_busy_percent"`
}

// writerCounters reads the writer's histograms' sums and counts.
type writerCounters struct {
	batchSum, commitSum, waitSum    float64
	batchCount, commitCount, waitCt uint64
}

func readWriterCounters(g prometheus.Gatherer) writerCounters {
	var c writerCounters
	families, err := g.Gather()
	if err != nil {
		return c
	}
	for _, f := range families {
		if len(f.GetMetric()) == 0 || f.GetMetric()[0].GetHistogram() == nil {
			continue
		}
		h := f.GetMetric()[0].GetHistogram()
		switch f.GetName() {
		case "wardmail_store_commit_batch_size":
			c.batchSum, c.batchCount = h.GetSampleSum(), h.GetSampleCount()
		case "wardmail_store_commit_seconds":
			c.commitSum, c.commitCount = h.GetSampleSum(), h.GetSampleCount()
		case "wardmail_store_write_seconds":
			c.waitSum, c.waitCt = h.GetSampleSum(), h.GetSampleCount()
		}
	}
	return c
}

// writerStats is the difference between two readings over seconds of load.
func writerStats(before, after writerCounters, seconds float64) WriterStats {
	var w WriterStats
	commits := after.commitCount - before.commitCount
	w.Commits = int(commits)
	if n := after.batchCount - before.batchCount; n > 0 {
		w.MeanBatch = (after.batchSum - before.batchSum) / float64(n)
	}
	if commits > 0 {
		w.MeanCommitMs = (after.commitSum - before.commitSum) / float64(commits) * 1000
	}
	if n := after.waitCt - before.waitCt; n > 0 {
		w.MeanWaitMs = (after.waitSum - before.waitSum) / float64(n) * 1000
	}
	if seconds > 0 {
		w.BusyPercent = (after.commitSum - before.commitSum) / seconds * 100
	}
	return w
}

// print writes the writer's line of a result.
func (w WriterStats) print(out io.Writer) {
	fmt.Fprintf(out, "store writer: %d commits, %.1f writes each, %.2f ms each, busy %.0f%% of the load; a write waited %.2f ms\n",
		w.Commits, w.MeanBatch, w.MeanCommitMs, w.BusyPercent, w.MeanWaitMs)
}
