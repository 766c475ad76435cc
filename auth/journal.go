package auth

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"wardmail/store"
)

// journal batches what sign-in writes: audit entries and app passwords' last
// use. At thousands of sign-ins a second, one group-commit write each would
// queue behind itself; one write every FlushEvery carries them all. What is
// batched when the process dies (at most FlushEvery of it) is lost.
type journal struct {
	st      Storage
	log     *slog.Logger
	every   time.Duration
	metrics *signinMetrics

	mu      sync.Mutex
	audits  []auditRec
	touches map[int64]touchRec
	touched map[int64]touchRec // last queued use per app password
	started bool               // a flusher was started (or Close ran)
	running bool               // a flusher runs
	stop    chan struct{}
	done    chan struct{}
}

type auditRec struct {
	actor, action, target string
	detail                map[string]any
}

type touchRec struct {
	at   time.Time
	from string
}

// event is what an audit entry says about one attempt.
type event struct {
	account     string
	attempt     *Attempt
	source      string
	method      string
	appPassword string
	result      string
}

// maxPending bounds the batch if the store stops taking writes.
const maxPending = 200_000

func newJournal(st Storage, log *slog.Logger, every time.Duration, m *signinMetrics) *journal {
	return &journal{st: st, log: log, every: every, metrics: m, touches: map[int64]touchRec{}, touched: map[int64]touchRec{},
		stop: make(chan struct{}), done: make(chan struct{})}
}

// audit queues one entry. Secrets never go in: the detail holds the
// source, door, method and what lockout did.
func (j *journal) audit(ev event, action string, extra map[string]any) {
	d := map[string]any{"source": ev.source, "protocol": ev.attempt.Protocol, "method": ev.method}
	if ev.attempt.Source.IsValid() {
		d["address"] = ev.attempt.Source.String()
	}
	if ev.appPassword != "" {
		d["app_password"] = ev.appPassword
	}
	for k, v := range extra {
		d[k] = v
	}
	actor := ev.attempt.Protocol
	if actor == "" {
		actor = "signin"
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.start()
	if len(j.audits) >= maxPending {
		j.metrics.dropped.Inc()
		return
	}
	j.audits = append(j.audits, auditRec{actor: actor, action: action, target: ev.account, detail: d})
}

// touch queues an app password's last use, at most once per every.
func (j *journal) touch(id int64, at time.Time, from string, every time.Duration) {
	j.mu.Lock()
	defer j.mu.Unlock()
	// A use from the same network as the last one is written at most once
	// per every; a use from another network is always written, so "last
	// used from" is never stale (whether or not the last one was flushed).
	if last, ok := j.touched[id]; ok && at.Sub(last.at) < every && last.from == from {
		return
	}
	j.start()
	j.touched[id] = touchRec{at: at, from: from}
	if len(j.touched) > maxPending {
		clear(j.touched)
	}
	j.touches[id] = touchRec{at: at, from: from}
}

// start runs the flusher on first use. j.mu is held.
func (j *journal) start() {
	if j.started {
		return
	}
	j.started, j.running = true, true
	go func() {
		defer close(j.done)
		t := time.NewTicker(j.every)
		defer t.Stop()
		for {
			select {
			case <-j.stop:
				return
			case <-t.C:
				if err := j.flush(); err != nil {
					j.log.Warn("sign-in journal: writing", "err", err)
				}
			}
		}
	}()
}

func (j *journal) close() error {
	j.mu.Lock()
	running := j.running
	j.started, j.running = true, false // no flusher starts after this
	j.mu.Unlock()
	if running {
		close(j.stop)
		<-j.done
	}
	return j.flush()
}

// flush writes what is queued in one write (a failed write is dropped and
// counted: the audit of a store outage cannot wait for the store).
func (j *journal) flush() error {
	j.mu.Lock()
	audits, touches := j.audits, j.touches
	j.audits, j.touches = nil, map[int64]touchRec{}
	j.mu.Unlock()
	if len(audits) == 0 && len(touches) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	batch := make([]store.JournalAudit, len(audits))
	for i, a := range audits {
		batch[i] = store.JournalAudit{Actor: a.actor, Action: a.action, Target: a.target, Detail: a.detail}
	}
	uses := make(map[int64]store.AppPasswordUse, len(touches))
	for id, t := range touches {
		uses[id] = store.AppPasswordUse{At: t.at, From: t.from}
	}
	err := j.st.WriteSignInJournal(ctx, batch, uses)
	if err != nil {
		j.metrics.dropped.Add(float64(len(audits)))
		return err
	}
	j.metrics.audited.Add(float64(len(audits)))
	return nil
}
