package clustertest

import (
	"errors"
	"os"
	"testing"

	"wardmail/localcluster"
)

// Required reports whether a missing program fails the test.
func Required() bool { return os.Getenv("WARDMAIL_CLUSTER") == "require" }

// Enabled skips the test unless WARDMAIL_CLUSTER is set (`make
// test-cluster`): a cluster takes tens of seconds to start and run, so
// these tests run in a target of their own, beside the others in CI.
func Enabled(t testing.TB) {
	t.Helper()
	if os.Getenv("WARDMAIL_CLUSTER") == "" {
		t.Skip("cluster tests run with WARDMAIL_CLUSTER=require (make test-cluster)")
	}
}

// check fails the test on err, but skips it when a program is missing
// and the cluster tests are not required.
func check(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var m *localcluster.Missing
	if errors.As(err, &m) && !Required() {
		t.Skip("clustertest: " + err.Error())
	}
	t.Fatal(err)
}
