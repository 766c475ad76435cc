package sim_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"wardmail/clustertest"
	"wardmail/sim"
)

// `wardmail sim cluster` on two nodes, a throwaway PostgreSQL and the S3
// gateway: every phase's operations succeed, both nodes take their share,
// and the costs an operator sizes a cluster from are there: a delivery
// writes its body to the object store once and commits to the database,
// reading a body gets it from the object store, a password sign-in costs
// more CPU than an app password, an idle IMAP session has a memory size.
func TestClusterSim(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	clustertest.Enabled(t)
	res, err := sim.RunCluster(context.Background(), sim.ClusterConfig{
		Nodes: 2, S3: true, Binary: clustertest.Binary(t),
		People: 1500, Orgs: 5, Readers: 20, Ops: 60, SignIns: 12, Clients: 4, ListSize: 40, ListPosts: 3, IdleSessions: 40,
		Settle: 2 * time.Second, Out: testWriter{t},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + res.String())
	by := map[string]sim.PhaseResult{}
	for _, p := range res.Phases {
		by[p.Name] = p
		if p.Errors > 0 || p.Ops == 0 {
			t.Errorf("%s: %d operations, %d errors (%s)", p.Name, p.Ops, p.Errors, p.FirstErr)
		}
		if p.Name == "idle" || p.Name == "list-post" {
			continue
		}
		for _, n := range p.Nodes {
			if n.Ops == 0 {
				t.Errorf("%s: %s took no operations", p.Name, n.Name)
			}
		}
	}
	if d := by["deliver"].PerOp; d.S3Puts < 0.9 || d.S3Puts > 1.1 || d.WALBytes <= 0 || d.Commits <= 0 {
		t.Errorf("a delivery: %.2f object-store PUTs, %.0f WAL bytes, %.2f commits", d.S3Puts, d.WALBytes, d.Commits)
	}
	if f := by["fetch-body"].PerOp; f.S3Gets < 0.9 || f.S3GetBytes < float64(res.BodyBytes) {
		t.Errorf("FETCH BODY[]: %.2f object-store GETs of %.0f bytes", f.S3Gets, f.S3GetBytes)
	}
	if a, p := by["signin-apppass"].PerOp.NodeCPUms, by["signin-password"].PerOp.NodeCPUms; p <= a {
		t.Errorf("a password sign-in cost %.2f ms of CPU, an app password %.2f ms", p, a)
	}
	if by["idle"].GoPerSession <= 0 || res.PersonDB <= 0 || res.MessageDB <= 0 {
		t.Errorf("sizes missing: %.0f bytes per idle session, %.0f per person, %.0f per message", by["idle"].GoPerSession, res.PersonDB, res.MessageDB)
	}
	if !strings.Contains(res.String(), "materialise/reader-post") {
		t.Error("the report has no materialisation cost per reader and post")
	}
}

// Through HAProxy every client's sign-in succeeds, and the report has a
// column for the balancer's CPU. Forty sign-ins cost HAProxy, and each
// node, less than the 10 ms tick of /proc's CPU times above the idle
// baseline, so neither figure is asserted here (TestClusterSim asserts the
// costs on a larger phase; clustertest proves the balancing).
func TestClusterSimThroughHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	clustertest.Enabled(t)
	res, err := sim.RunCluster(context.Background(), sim.ClusterConfig{
		Nodes: 2, S3: true, HAProxy: true, Binary: clustertest.Binary(t), Phases: []string{"signin-apppass"},
		People: 300, Orgs: 3, Readers: 10, SignIns: 40, Clients: 4, ListSize: 10, Settle: time.Second, Out: testWriter{t},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + res.String())
	p := res.Phases[0]
	if p.Ops != 40 || p.Errors > 0 || p.PerOp.LBCPUms < 0 || !strings.Contains(res.String(), "lb cpu") {
		t.Errorf("%d sign-ins through HAProxy, %d errors (%s), %.3f ms of HAProxy CPU each", p.Ops, p.Errors, p.FirstErr, p.PerOp.LBCPUms)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
