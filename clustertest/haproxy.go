package clustertest

import (
	"testing"

	"wardmail/localcluster"
)

// Balancer is HAProxy in TCP mode in front of the nodes.
type Balancer = localcluster.Balancer

// StartHAProxy starts HAProxy in front of nodes (localcluster.Balancer)
// and stops it when the test ends.
func StartHAProxy(t testing.TB, nodes []*Node) *Balancer {
	t.Helper()
	var lns []*localcluster.Node
	for _, nd := range nodes {
		lns = append(lns, nd.Node)
	}
	b, err := localcluster.StartHAProxy(t.TempDir(), lns)
	check(t, err)
	t.Cleanup(b.Stop)
	return b
}
