package auth

import (
	"context"
	"errors"
	"time"

	"wardmail/store"
)

// Fault is a failure injected into sign-in's reads of the directory, for
// tests and `wardmail sim replay lockout`. Nothing in configuration or on
// the command line of `wardmail serve` reaches it.
type Fault int32

// Faults.
const (
	FaultNone Fault = iota
	// FaultStoreDown: every read of people or app passwords fails.
	FaultStoreDown
	// FaultStoreSlow: every read takes longer than the slow-lookup limit,
	// then answers.
	FaultStoreSlow
)

var errInjected = errors.New("injected fault: the credential store is down")

// InjectFault turns a fault on (or off with FaultNone).
func (l *Login) InjectFault(f Fault) { l.fault.Store(int32(f)) }

// backend runs one read of the directory, applying an injected fault, and
// tells lockout when the store failed or was slow: wrong passwords then are
// not counted for a grace period.
func (l *Login) backend(ctx context.Context, read func() error) error {
	start := time.Now()
	switch Fault(l.fault.Load()) {
	case FaultStoreDown:
		l.backendFailed()
		return errInjected
	case FaultStoreSlow:
		t := time.NewTimer(l.cfg.SlowLookup + 10*time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			l.backendFailed()
			return context.Cause(ctx)
		}
	}
	err := read()
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		l.backendFailed()
		return err
	}
	if time.Since(start) > l.cfg.SlowLookup {
		l.backendFailed()
	}
	return err
}

func (l *Login) backendFailed() {
	if l.cfg.Lockout != nil {
		l.cfg.Lockout.BackendFailed()
	}
}
