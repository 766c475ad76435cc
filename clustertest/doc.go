// Package clustertest runs Wardmail as several nodes on one machine for tests,
// with the real parts an operator would run: PostgreSQL from Debian (a primary
// and, when asked, a synchronous streaming standby), Versity's S3 gateway for
// the bodies (blob/s3blob/s3test), HAProxy from Debian in front, and each node a
// `wardmail serve` process of its own that a test can kill with SIGKILL.
// The processes are localcluster's (which `wardmail sim cluster` uses too);
// this package turns their errors into test failures and stops them with
// the test.
//
// Nothing in the binary imports it. Tests skip when a program is missing,
// or fail when WARDMAIL_CLUSTER=require (what `make test-cluster` sets);
// scripts/cluster-deps.sh installs the programs.
package clustertest
