// Package s3test starts a real S3-compatible server for tests: Versity's S3
// gateway over a folder (`versitygw posix`, run by localcluster.S3Gateway),
// which checks every request's AWS Signature V4 as a production object store
// does. Install it with scripts/s3-deps.sh (go install from the Go module
// proxy).
//
// Tests that need it call Start; without the program they are skipped, or
// fail when WARDMAIL_S3=require (what CI sets).
package s3test

import (
	"os"
	"testing"
	"time"

	"wardmail/blob/s3blob"
	"wardmail/localcluster"
)

// Gateway is a running versitygw that fails its test instead of returning
// errors.
type Gateway struct {
	*localcluster.S3Gateway
	t testing.TB
}

// Required reports whether missing programs fail the test instead of
// skipping it.
func Required() bool { return os.Getenv("WARDMAIL_S3") == "require" }

// Start runs a gateway on a free loopback port and stops it when the test
// ends.
func Start(t testing.TB) *Gateway {
	t.Helper()
	if _, err := localcluster.S3Binary(); err != nil {
		if Required() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	g, err := localcluster.StartS3(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Stop)
	return &Gateway{S3Gateway: g, t: t}
}

// Config is an s3blob.Config for bucket on this gateway (the bucket's
// folder is made if missing).
func (g *Gateway) Config(bucket string) s3blob.Config {
	if err := g.Bucket(bucket); err != nil {
		g.t.Fatal(err)
	}
	return s3blob.Config{Endpoint: g.Addr, Bucket: bucket, AccessKey: g.AccessKey, SecretKey: g.SecretKey,
		Insecure: true, Timeout: 5 * time.Second}
}

// Restart starts the gateway again on the same address and folder.
func (g *Gateway) Restart() {
	g.t.Helper()
	if err := g.S3Gateway.Restart(); err != nil {
		g.t.Fatal(err)
	}
}
