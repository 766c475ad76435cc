// Package localcluster runs the processes of a Wardmail cluster on one
// machine: a throwaway PostgreSQL from Debian (a primary and, when asked, a
// synchronous streaming standby), Versity's S3 gateway for the bodies,
// HAProxy in TCP mode in front, and several `wardmail serve` nodes, each a
// process of its own on loopback ports.
//
// The cluster tests (clustertest) and `wardmail sim cluster` both start
// their clusters with it. Every child dies with the process that started
// it (Pdeathsig on Linux), so an interrupted run leaves nothing holding
// ports. Functions return errors; callers decide whether that fails a test
// or a command.
package localcluster
