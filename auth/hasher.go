package auth

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"
)

// ErrBusy means no hashing worker became free in time. It is a temporary
// failure, never a wrong password: doors answer IMAP NO [UNAVAILABLE],
// SMTP 454 4.7.0 or HTTP 503, and lockout must not count it.
var ErrBusy = errors.New("password hashing is busy, try again later")

// Hasher runs argon2id work on a bounded number of workers. argon2id is
// deliberately expensive in memory and CPU, so a reconnect storm must queue,
// briefly, and then be turned away rather than exhaust the machine: at most
// workers hashes run at once, each using Params.Memory KiB.
//
// A Hasher is a prometheus.Collector; the caller registers it.
type Hasher struct {
	params  Params
	maxWait time.Duration
	slots   chan struct{} // one token per running hash
	metrics *metrics
}

// NewHasher returns a Hasher that hashes new passwords with p and runs at
// most workers hashes at once (runtime.NumCPU() when workers <= 0). A caller
// that finds every worker busy waits at most maxWait for one; with maxWait
// <= 0 it does not wait at all.
func NewHasher(p Params, workers int, maxWait time.Duration) *Hasher {
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	h := &Hasher{params: p, maxWait: maxWait, slots: make(chan struct{}, workers)}
	h.metrics = newMetrics(h)
	return h
}

// Params returns the parameters h hashes new passwords with, for NeedsRehash.
func (h *Hasher) Params() Params { return h.params }

// Verify is VerifyPassword on one of h's workers. It returns an error wrapping
// ErrBusy when no worker frees up within the Hasher's maxWait or before ctx
// ends (the error then also wraps ctx's cause). A malformed encoded hash is
// reported without taking a worker.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (bool, error) {
	ph, err := parseHash(encoded)
	if err != nil {
		h.metrics.verify(resultError)
		return false, err
	}
	if err := h.acquire(ctx); err != nil {
		h.metrics.verify(resultBusy)
		return false, err
	}
	defer h.release()
	if !ph.matches(password) {
		h.metrics.verify(resultBad)
		return false, nil
	}
	h.metrics.verify(resultOK)
	return true, nil
}

// Hash is HashPassword with h's parameters on one of h's workers. It returns
// an error wrapping ErrBusy as Verify does.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		h.metrics.hash(resultBusy)
		return "", err
	}
	defer h.release()
	s, err := HashPassword(h.params, password)
	if err != nil {
		h.metrics.hash(resultError)
		return "", err
	}
	h.metrics.hash(resultOK)
	return s, nil
}

// acquire takes a worker slot, waiting at most maxWait.
func (h *Hasher) acquire(ctx context.Context) error {
	start := time.Now()
	if ctx.Err() != nil {
		return fmt.Errorf("%w: %w", ErrBusy, context.Cause(ctx))
	}
	select {
	case h.slots <- struct{}{}:
		h.metrics.waited(0)
		return nil
	default:
	}
	if h.maxWait <= 0 {
		h.metrics.waited(0)
		return ErrBusy
	}
	timer := time.NewTimer(h.maxWait)
	defer timer.Stop()
	select {
	case h.slots <- struct{}{}:
		h.metrics.waited(time.Since(start))
		return nil
	case <-timer.C:
		h.metrics.waited(time.Since(start))
		return ErrBusy
	case <-ctx.Done():
		h.metrics.waited(time.Since(start))
		return fmt.Errorf("%w: %w", ErrBusy, context.Cause(ctx))
	}
}

// release gives back the slot taken by acquire.
func (h *Hasher) release() { <-h.slots }
