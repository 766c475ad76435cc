package s3blob_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"wardmail/blob"
	"wardmail/blob/s3blob"
	"wardmail/blob/s3blob/s3test"
)

// Bodies go into a real S3 gateway named by content, come back the same,
// and are gone after Delete; a missing body is blob.ErrNotFound.
func TestBodiesRoundTrip(t *testing.T) {
	g := s3test.Start(t)
	ctx := context.Background()
	st, err := s3blob.Open(ctx, g.Config("bodies"), nil)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("From: amira.khan@nhs.test\r\nSubject: Rota\r\n\r\nNights next week.\r\n")
	h := blob.Hash(body)
	if err := st.Put(ctx, h, body); err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, h, body); err != nil {
		t.Fatalf("putting the same body twice: %v", err)
	}
	// The gateway keeps it as an object named by its hash.
	if onDisk, err := os.ReadFile(filepath.Join(g.Dir, "bodies", h[:2], h)); err != nil || !bytes.Equal(onDisk, body) {
		t.Fatalf("object %s/%s in the gateway's folder: %v", h[:2], h, err)
	}
	got, err := st.Get(ctx, h)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if err := st.Delete(ctx, h); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get(ctx, h); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
	}
	if err := st.Delete(ctx, h); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	if err := st.Put(ctx, "../../etc/passwd", body); err == nil {
		t.Fatal("a name that is not a hash was accepted")
	}
}

// With a key, what the object store holds is sealed: the gateway's folder
// has no clear text, and the store reads it back.
func TestSealedBodies(t *testing.T) {
	g := s3test.Start(t)
	ctx := context.Background()
	key := filepath.Join(t.TempDir(), "body.key")
	if err := blob.GenerateKeyFile(key); err != nil {
		t.Fatal(err)
	}
	sealer, err := blob.LoadKeyFile(key)
	if err != nil {
		t.Fatal(err)
	}
	st, err := s3blob.Open(ctx, g.Config("sealed"), sealer)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("Patient: 943 476 5919, bloods due Tuesday")
	h := blob.Hash(body)
	if err := st.Put(ctx, h, body); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(g.Dir, "sealed", h[:2], h))
	if err != nil || bytes.Contains(raw, []byte("943 476 5919")) || !blob.IsSealed(raw) {
		t.Fatalf("object in the gateway is not sealed (%v): %q", err, raw)
	}
	if got, err := st.Get(ctx, h); err != nil || !bytes.Equal(got, body) {
		t.Fatalf("Get = %q, %v", got, err)
	}
	// Without the key the store refuses to hand out ciphertext as a body.
	plain, err := s3blob.Open(ctx, g.Config("sealed"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Get(ctx, h); err == nil {
		t.Fatal("a sealed body was read without its key")
	}
}

// The gateway checks request signatures: a wrong secret is refused, and a
// missing bucket is named.
func TestOpenChecksCredentialsAndBucket(t *testing.T) {
	g := s3test.Start(t)
	ctx := context.Background()
	bad := g.Config("bodies")
	bad.SecretKey = "not-the-secret"
	if _, err := s3blob.Open(ctx, bad, nil); err == nil {
		t.Fatal("a wrong secret key was accepted")
	}
	cfg := g.Config("bodies")
	cfg.Bucket = "nobucket"
	if _, err := s3blob.Open(ctx, cfg, nil); err == nil || !bytes.Contains([]byte(err.Error()), []byte("nobucket")) {
		t.Fatalf("missing bucket: %v", err)
	}
	cfg.Create = true
	if _, err := s3blob.Open(ctx, cfg, nil); err != nil {
		t.Fatalf("Create: %v", err)
	}
}

// While the object store is down, Put fails (nothing is acknowledged that
// is not stored) and it works again once the store is back.
func TestStoreDown(t *testing.T) {
	g := s3test.Start(t)
	ctx := context.Background()
	st, err := s3blob.Open(ctx, g.Config("bodies"), nil)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("written while the store is away")
	g.Stop()
	if err := st.Put(ctx, blob.Hash(body), body); err == nil {
		t.Fatal("Put succeeded with the object store down")
	}
	g.Restart()
	if err := st.Put(ctx, blob.Hash(body), body); err != nil {
		t.Fatalf("Put after the store came back: %v", err)
	}
}

// What the node asked of the object store is on its metrics: requests by
// operation and outcome, and the bytes each way.
func TestMetricsCountRequestsAndBytes(t *testing.T) {
	g := s3test.Start(t)
	ctx := context.Background()
	st, err := s3blob.Open(ctx, g.Config("bodies"), nil)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(st); err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("ward round notes "), 100)
	h := blob.Hash(body)
	if err := st.Put(ctx, h, body); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := st.Get(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	missing := blob.Hash([]byte("never stored"))
	if _, err := st.Get(ctx, missing); !errors.Is(err, blob.ErrNotFound) {
		t.Fatal(err)
	}
	if err := st.Delete(ctx, h); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`
# HELP wardmail_s3_bytes_total Body bytes sent to (put) and read from (get) the object store.
# TYPE wardmail_s3_bytes_total counter
wardmail_s3_bytes_total{op="get"} %d
wardmail_s3_bytes_total{op="put"} %d
# HELP wardmail_s3_requests_total Requests to the object store by operation (put, get, delete, head) and outcome (ok, missing, error).
# TYPE wardmail_s3_requests_total counter
wardmail_s3_requests_total{op="delete",outcome="ok"} 1
wardmail_s3_requests_total{op="get",outcome="missing"} 1
wardmail_s3_requests_total{op="get",outcome="ok"} 2
wardmail_s3_requests_total{op="put",outcome="ok"} 1
`, 2*len(body), len(body))
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}
