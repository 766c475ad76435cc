package server

import (
	"context"
	"log/slog"
	"time"

	"wardmail/policy"
	"wardmail/store"
)

// newPolicy makes the storm breaker and the sender limits from the config.
func newPolicy(st *store.Store, cfg Config, log *slog.Logger) (*policy.Metrics, *policy.Breaker, *policy.Limits) {
	m := policy.NewMetrics()
	b := policy.NewBreaker(st, policy.StormConfig{Off: cfg.StormOff, MinAudience: cfg.StormMinAudience, Threshold: cfg.StormReplies,
		Window: cfg.StormWindow, BlockFor: cfg.StormBlock, BrakeFrom: cfg.StormBrakeFrom, BrakeDelay: cfg.StormBrakeDelay}, cfg.Now, log, m)
	l := policy.NewLimits(st, policy.LimitConfig{Off: cfg.SenderLimitsOff, PerMinute: cfg.SenderPerMinute, RecipientsPerDay: cfg.SenderPerDay}, cfg.Now, m)
	return m, b, l
}

// startBrakeWorker releases posts held by the storm breaker's early brake
// once their delay is over (policy.Breaker.ReleaseBraked).
func startBrakeWorker(b *policy.Breaker, every time.Duration, log *slog.Logger) func() error {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			n, err := b.ReleaseBraked(ctx)
			if err != nil && ctx.Err() == nil {
				log.Warn("releasing braked posts", "err", err)
			}
			if n > 0 {
				log.Info("storm brake: posts released to their lists", "posts", n)
			}
		}
	}()
	return func() error {
		cancel()
		<-done
		return nil
	}
}

var _ policy.Storage = (*store.Store)(nil)
