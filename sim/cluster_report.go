package sim

import (
	"fmt"
	"strings"
)

// line is one phase's figures on one line, for the progress log.
func (p PhaseResult) line() string {
	return fmt.Sprintf("%-16s %6d ops %4d err %8.1f/s p50 %7.1f ms p99 %7.1f ms | node %6.2f ms/op pg %6.2f ms/op s3 %5.2f ms/op | %5.2f commits %7.0f WAL B %6.2f PUT %6.2f GET /op",
		p.Name, p.Ops, p.Errors, p.OpsPerSec, p.P50ms, p.P99ms, p.PerOp.NodeCPUms, p.PerOp.PGCPUms, p.PerOp.S3CPUms,
		p.PerOp.Commits, p.PerOp.WALBytes, p.PerOp.S3Puts, p.PerOp.S3Gets)
}

// phase returns the named phase, or nil.
func (r *ClusterResult) phase(name string) *PhaseResult {
	for i := range r.Phases {
		if r.Phases[i].Name == name {
			return &r.Phases[i]
		}
	}
	return nil
}

// MaterialisePerReaderPost is what materialising one list post into one
// member's INBOX cost, by difference: a member's sign-in and SELECT with
// posts pending, less the same with none pending, over the posts. It is
// zero when either phase did not run.
func (r *ClusterResult) MaterialisePerReaderPost() (Rates, int) {
	m, o := r.phase("materialise"), r.phase("open")
	if m == nil || o == nil || m.Ops == 0 {
		return Rates{}, 0
	}
	posts := 0
	if lp := r.phase("list-post"); lp != nil {
		posts = lp.Ops
	}
	if posts == 0 {
		return Rates{}, 0
	}
	return m.PerOp.minus(o.PerOp).scaled(1 / float64(posts)), posts
}

// String formats the result for docs/capacity.md.
func (r *ClusterResult) String() string {
	var b strings.Builder
	via := "round robin over the nodes"
	if r.HAProxy {
		via = "through HAProxy"
	}
	s3 := "node folders"
	if r.S3 {
		s3 = "Versity S3 gateway"
	}
	pg := "one PostgreSQL"
	if r.Standby {
		pg = "one PostgreSQL with a synchronous standby"
	}
	fmt.Fprintf(&b, "%d nodes on %s, bodies in %s, clients %s; %d people; %d-byte messages; %d CPUs; load before %s, after %s\n",
		r.Nodes, pg, s3, via, r.People, r.BodyBytes, r.CPUs, r.Load, r.LoadAfter)
	fmt.Fprintf(&b, "database: %.0f bytes empty, %.0f bytes per person imported, %.0f bytes per delivered message; object store %.0f bytes per delivered message\n",
		r.DBStart, r.PersonDB, r.MessageDB, r.ObjectDisk)
	fmt.Fprintf(&b, "idle cluster per second (subtracted below): node CPU %.1f ms, PostgreSQL CPU %.1f ms, %.2f commits, %.0f WAL bytes\n",
		r.Baseline.NodeCPUms, r.Baseline.PGCPUms, r.Baseline.Commits, r.Baseline.WALBytes)
	b.WriteString("\nper operation (CPU in ms; PostgreSQL's counters; object-store requests and bytes):\n")
	fmt.Fprintf(&b, "%-16s %6s %4s %8s %8s %8s | %8s %8s %7s %7s | %7s %8s %6s %8s %8s | %5s %5s %8s %8s\n",
		"phase", "ops", "err", "ops/s", "p50 ms", "p99 ms", "node cpu", "pg cpu", "s3 cpu", "lb cpu", "commits", "WAL B", "syncs", "blk read", "blk hit", "PUT", "GET", "PUT B", "GET B")
	for _, p := range r.Phases {
		o := p.PerOp
		fmt.Fprintf(&b, "%-16s %6d %4d %8.1f %8.1f %8.1f | %8.2f %8.2f %7.2f %7.2f | %7.2f %8.0f %6.2f %8.2f %8.1f | %5.2f %5.2f %8.0f %8.0f\n",
			p.Name, p.Ops, p.Errors, p.OpsPerSec, p.P50ms, p.P99ms, o.NodeCPUms, o.PGCPUms, o.S3CPUms, o.LBCPUms,
			o.Commits, o.WALBytes, o.WALSyncs, o.BlksRead, o.BlksHit, o.S3Puts, o.S3Gets, o.S3PutBytes, o.S3GetBytes)
	}
	if m, posts := r.MaterialisePerReaderPost(); posts > 0 {
		fmt.Fprintf(&b, "%-16s %6s %4s %8s %8s %8s | %8.3f %8.3f %7.3f %7.3f | %7.3f %8.0f %6.3f %8.3f %8.1f | %5.2f %5.2f %8.0f %8.0f\n",
			"  materialise/reader-post", "", "", "", "", "", m.NodeCPUms, m.PGCPUms, m.S3CPUms, m.LBCPUms, m.Commits, m.WALBytes, m.WALSyncs,
			m.BlksRead, m.BlksHit, m.S3Puts, m.S3Gets, m.S3PutBytes, m.S3GetBytes)
	}
	b.WriteString("\nper node:\n")
	for _, p := range r.Phases {
		for _, n := range p.Nodes {
			fmt.Fprintf(&b, "%-16s %-6s %6d ops %8.1f/s p50 %7.1f ms p99 %7.1f ms  cpu %6.2f s  %7.2f ms/op  rss %6.1f MB\n",
				p.Name, n.Name, n.Ops, n.OpsPerSec, n.P50ms, n.P99ms, n.CPUSec, n.CPUPerOpMs, n.RSSMB)
		}
	}
	for _, p := range r.Phases {
		if p.RSSPerSession > 0 {
			fmt.Fprintf(&b, "\nIMAP sessions in IDLE: %d, resident memory %.1f KiB per session (Go heap and stacks in use %.1f KiB)\n",
				p.Ops, p.RSSPerSession/1024, p.GoPerSession/1024)
		}
		if p.Errors > 0 {
			fmt.Fprintf(&b, "%s: %d errors, first: %s\n", p.Name, p.Errors, p.FirstErr)
		}
	}
	if len(r.Tables) > 0 {
		b.WriteString("\nlargest tables (with indexes and TOAST):\n")
		for _, t := range r.Tables {
			per := 0.0
			if t.Rows > 0 {
				per = t.Bytes / t.Rows
			}
			fmt.Fprintf(&b, "  %-28s %10.1f MB %10.0f rows %8.0f B/row\n", t.Name, t.Bytes/(1<<20), t.Rows, per)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	return b.String()
}
