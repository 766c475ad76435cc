package auth_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"wardmail/auth"
)

func TestHasherVerify(t *testing.T) {
	h := auth.NewHasher(auth.TestParams(), 2, time.Second)
	ctx := context.Background()
	enc, err := h.Hash(ctx, "secret password")
	if err != nil {
		t.Fatal(err)
	}
	if auth.NeedsRehash(enc, h.Params()) {
		t.Error("a fresh hash needs rehash")
	}
	test := func(encoded, pw string, wantOK bool, wantErr error) {
		t.Helper()
		ok, err := h.Verify(ctx, encoded, pw)
		if ok != wantOK || !errors.Is(err, wantErr) || (wantErr == nil) != (err == nil) {
			t.Errorf("Verify(%q, %q) = %v, %v; want %v, %v", encoded, pw, ok, err, wantOK, wantErr)
		}
	}
	test(enc, "secret password", true, nil)
	test(enc, "wrong password", false, nil)
	test(enc, "", false, nil)
	test("$argon2id$v=19$m=99999999,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA", "x", false, auth.ErrMalformedHash)

	want := `
# HELP wardmail_auth_password_verifications_total Password verifications by result: ok, bad (wrong password), busy (no worker in time), error (malformed stored hash).
# TYPE wardmail_auth_password_verifications_total counter
wardmail_auth_password_verifications_total{result="bad"} 2
wardmail_auth_password_verifications_total{result="busy"} 0
wardmail_auth_password_verifications_total{result="error"} 1
wardmail_auth_password_verifications_total{result="ok"} 1
`
	if err := testutil.CollectAndCompare(h, strings.NewReader(want), "wardmail_auth_password_verifications_total"); err != nil {
		t.Error(err)
	}
}

// TestHasherBusy saturates a one-worker pool by holding its only worker, so
// the outcome does not depend on timing.
func TestHasherBusy(t *testing.T) {
	h := auth.NewHasher(auth.TestParams(), 1, time.Millisecond)
	enc, err := auth.HashPassword(auth.TestParams(), "secret password")
	if err != nil {
		t.Fatal(err)
	}
	release := h.HoldWorker()

	ok, err := h.Verify(context.Background(), enc, "secret password")
	if ok || !errors.Is(err, auth.ErrBusy) {
		t.Errorf("Verify on a saturated pool = %v, %v; want false, ErrBusy", ok, err)
	}
	if _, err := h.Hash(context.Background(), "secret password"); !errors.Is(err, auth.ErrBusy) {
		t.Errorf("Hash on a saturated pool: err = %v, want ErrBusy", err)
	}
	if got := testutil.ToFloat64(gauge(t, h, "wardmail_auth_hasher_busy_workers")); got != 1 {
		t.Errorf("busy workers = %v, want 1", got)
	}

	release()
	ok, err = h.Verify(context.Background(), enc, "secret password")
	if !ok || err != nil {
		t.Errorf("Verify after release = %v, %v; want true, nil", ok, err)
	}
	want := `
# HELP wardmail_auth_password_verifications_total Password verifications by result: ok, bad (wrong password), busy (no worker in time), error (malformed stored hash).
# TYPE wardmail_auth_password_verifications_total counter
wardmail_auth_password_verifications_total{result="bad"} 0
wardmail_auth_password_verifications_total{result="busy"} 1
wardmail_auth_password_verifications_total{result="error"} 0
wardmail_auth_password_verifications_total{result="ok"} 1
`
	if err := testutil.CollectAndCompare(h, strings.NewReader(want), "wardmail_auth_password_verifications_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(h, "wardmail_auth_hasher_wait_seconds"); n != 1 {
		t.Errorf("wait histogram series = %d, want 1", n)
	}
}

func TestHasherNoWait(t *testing.T) {
	h := auth.NewHasher(auth.TestParams(), 1, 0)
	defer h.HoldWorker()()
	if _, err := h.Hash(context.Background(), "secret password"); !errors.Is(err, auth.ErrBusy) {
		t.Errorf("Hash with maxWait 0 on a saturated pool: err = %v, want ErrBusy", err)
	}
}

func TestHasherContextEnds(t *testing.T) {
	h := auth.NewHasher(auth.TestParams(), 1, time.Hour)
	release := h.HoldWorker()
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := h.Verify(ctx, "$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA", "x")
	if !errors.Is(err, auth.ErrBusy) || !errors.Is(err, context.Canceled) {
		t.Errorf("Verify with an ended context: err = %v, want ErrBusy wrapping context.Canceled", err)
	}

	// A context that ends while waiting.
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err = h.Hash(ctx, "secret password")
	if !errors.Is(err, auth.ErrBusy) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Hash with a deadline: err = %v, want ErrBusy wrapping context.DeadlineExceeded", err)
	}
}

// TestHasherWaitsForWorker checks that a caller queued behind a busy worker
// gets it when it frees up within maxWait.
func TestHasherWaitsForWorker(t *testing.T) {
	h := auth.NewHasher(auth.TestParams(), 1, time.Minute)
	release := h.HoldWorker()
	var wg sync.WaitGroup
	var err error
	wg.Go(func() { _, err = h.Hash(context.Background(), "secret password") })
	time.Sleep(5 * time.Millisecond) // usually lets Hash start waiting; passes either way
	release()
	wg.Wait()
	if err != nil {
		t.Errorf("Hash queued behind a worker that freed up: %v", err)
	}
}

// TestHasherConcurrent runs more callers than workers with real hashing; with
// a long maxWait every one must succeed.
func TestHasherConcurrent(t *testing.T) {
	h := auth.NewHasher(auth.TestParams(), 2, time.Minute)
	enc, err := auth.HashPassword(auth.TestParams(), "secret password")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			if ok, err := h.Verify(context.Background(), enc, "secret password"); !ok || err != nil {
				errs <- errors.Join(errors.New("verify failed"), err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := testutil.ToFloat64(gauge(t, h, "wardmail_auth_hasher_busy_workers")); got != 0 {
		t.Errorf("busy workers after all returned = %v, want 0", got)
	}
}

func TestHasherRegisters(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(auth.NewHasher(auth.TestParams(), 0, time.Second)); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) != 5 {
		t.Errorf("gathered %d metric families, want 5", len(mfs))
	}
}

// gauge returns the one metric named name that h collects.
func gauge(t *testing.T, h *auth.Hasher, name string) prometheus.Collector {
	t.Helper()
	ch := make(chan prometheus.Metric, 64)
	h.Collect(ch)
	close(ch)
	for m := range ch {
		if strings.Contains(m.Desc().String(), `"`+name+`"`) {
			return constCollector{m}
		}
	}
	t.Fatalf("no metric %s", name)
	return nil
}

// constCollector collects one fixed metric.
type constCollector struct{ m prometheus.Metric }

func (c constCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.m.Desc() }
func (c constCollector) Collect(ch chan<- prometheus.Metric) { ch <- c.m }
