package sim

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// worker is one client of a phase: it holds its connection and does one
// operation at a time.
type worker interface {
	do(k int) error
	close()
}

// phaseSpec is one phase: how many operations, by how many clients, and
// how a client is made (client c talks to the door addresses addr gives).
type phaseSpec struct {
	name    string
	ops     int
	clients int
	open    func(c int, addr func(door string) string) (worker, error)
}

// run does a phase and reads what it cost: it waits cfg.Settle after the
// last operation so that PostgreSQL's statistics include it, and removes
// what the idle cluster costs over the same time (the baseline).
func (sc *simCluster) runPhase(ctx context.Context, spec phaseSpec, baseline Rates) (PhaseResult, error) {
	pr := PhaseResult{Name: spec.name}
	n := len(sc.nodes)
	before, err := sc.snap(ctx)
	if err != nil {
		return pr, err
	}
	clients := min(spec.clients, spec.ops)
	workers := make([]worker, clients)
	nodeOf := make([]int, clients)
	for c := range clients {
		nodeOf[c] = -1
		w, err := spec.open(c, func(door string) string {
			a, node := sc.addr(c, door)
			nodeOf[c] = node
			return a
		})
		if err != nil {
			for _, w := range workers[:c] {
				w.close()
			}
			return pr, fmt.Errorf("%s: client %d: %w", spec.name, c, err)
		}
		workers[c] = w
	}
	var next atomic.Int64
	var mu sync.Mutex
	all := []time.Duration{}
	byNode := make([][]time.Duration, n)
	var errs atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for c, w := range workers {
		wg.Go(func() {
			for {
				k := int(next.Add(1) - 1)
				if k >= spec.ops || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				err := w.do(k)
				d := time.Since(t0)
				if err != nil {
					if errs.Add(1) == 1 {
						mu.Lock()
						pr.FirstErr = err.Error()
						mu.Unlock()
					}
					continue
				}
				mu.Lock()
				all = append(all, d)
				if nd := nodeOf[c]; nd >= 0 {
					byNode[nd] = append(byNode[nd], d)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)
	for _, w := range workers {
		w.close()
	}
	sc.quiesce(ctx)
	time.Sleep(sc.cfg.Settle)
	after, err := sc.snap(ctx)
	if err != nil {
		return pr, err
	}
	pr.Ops, pr.Errors = len(all), int(errs.Load())
	pr.WallSec = wall.Seconds()
	pr.OpsPerSec = float64(pr.Ops) / wall.Seconds()
	pr.P50ms, pr.P99ms = PercentileMs(all, 50), PercentileMs(all, 99)
	pr.dbGrowth, pr.objGrowth = after.pg.DBBytes-before.pg.DBBytes, after.objects-before.objects
	elapsed := after.at.Sub(before.at).Seconds()
	total := diff(before, after).minus(baseline.scaled(elapsed))
	if pr.Ops > 0 {
		pr.PerOp = total.scaled(1 / float64(pr.Ops))
	}
	for i, nd := range sc.nodes {
		np := NodePhase{Name: nd.Name, Ops: len(byNode[i]), P50ms: PercentileMs(byNode[i], 50), P99ms: PercentileMs(byNode[i], 99),
			RSSMB: float64(after.nodeRSS[i]) / (1 << 20)}
		np.OpsPerSec = float64(np.Ops) / wall.Seconds()
		np.CPUSec = max(0, after.nodeCPU[i]-before.nodeCPU[i]-baseline.NodeCPUms/1000/float64(n)*elapsed)
		ops := np.Ops
		if sc.lb != nil {
			ops = pr.Ops / n // unknown behind the balancer: an even share
		}
		if ops > 0 {
			np.CPUPerOpMs = np.CPUSec * 1000 / float64(ops)
		}
		pr.Nodes = append(pr.Nodes, np)
	}
	return pr, nil
}

// quiesce waits until the nodes' word indexers have caught up with what
// the phase stored (their count has not moved for three seconds), so that
// a phase's cost includes the indexing it caused, not the next phase's.
func (sc *simCluster) quiesce(ctx context.Context) {
	last, still := -1.0, 0
	for deadline := time.Now().Add(10 * time.Minute); still < 3 && time.Now().Before(deadline) && ctx.Err() == nil; {
		total := 0.0
		for _, nd := range sc.nodes {
			if m, err := scrapeMetrics(nd.Addrs["http"], sc.tlsc); err == nil {
				total += m["words_indexed"]
			}
		}
		if total == last {
			still++
		} else {
			last, still = total, 0
		}
		time.Sleep(time.Second)
	}
}

// run is the whole measurement: preparation, baseline, the phases.
func (sc *simCluster) run(ctx context.Context, res *ClusterResult) error {
	cfg := sc.cfg
	cp, err := sc.prepare(ctx, res)
	if err != nil {
		return err
	}
	sc.logf("baseline: the idle cluster for %s...", 2*cfg.Settle)
	time.Sleep(cfg.Settle)
	b0, err := sc.snap(ctx)
	if err != nil {
		return err
	}
	time.Sleep(2 * cfg.Settle)
	b1, err := sc.snap(ctx)
	if err != nil {
		return err
	}
	res.Baseline = diff(b0, b1).scaled(1 / b1.at.Sub(b0.at).Seconds())
	want := map[string]bool{}
	for _, p := range cfg.Phases {
		want[p] = true
	}
	for _, spec := range sc.phases(cp) {
		if !want[spec.name] {
			continue
		}
		sc.logf("%s: %d operations by %d clients...", spec.name, spec.ops, min(spec.clients, spec.ops))
		var pr PhaseResult
		if spec.name == "idle" {
			pr, err = sc.runIdle(ctx, cp, res.Baseline)
		} else {
			pr, err = sc.runPhase(ctx, spec, res.Baseline)
		}
		if err != nil {
			return err
		}
		res.Phases = append(res.Phases, pr)
		sc.logf("%s", strings.TrimSpace(pr.line()))
		if spec.name == "deliver" && pr.Ops > 0 {
			// Bytes per message: the database and the object store grew
			// by this over the deliveries (with the WAL, not counted).
			res.MessageDB, res.ObjectDisk = pr.dbGrowth/float64(pr.Ops), pr.objGrowth/float64(pr.Ops)
		}
	}
	res.Tables, err = sc.db.LargestTables(ctx, 10)
	return err
}
