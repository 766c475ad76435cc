// Package policy holds the rules that protect the service as a whole rather
// than one mailbox (DESIGN section 4): the reply-all storm breaker and the
// per-sender limits counted after list expansion. The submit pipeline asks
// them before it stores a message; each refusal carries its SMTP reply
// (RFC 5321 4.2, RFC 3463 enhanced codes) and a sentence a person can act on.
//
// The breaker's record (threads, replies, blocks) lives in the store, so it
// survives a restart and the CLI sees and changes the same state as a
// running server; its check-and-count is decided by the database
// (Storage.ReserveStormReply), so servers sharing one database let through
// no more replies between them than one server would.
package policy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"wardmail/store"
)

// Refusal is a "no" with its SMTP reply; the submit pipeline turns it into
// its own error type.
type Refusal struct {
	Code     int
	Enhanced [3]int
	Message  string
}

func (r *Refusal) Error() string {
	return fmt.Sprintf("%d %d.%d.%d %s", r.Code, r.Enhanced[0], r.Enhanced[1], r.Enhanced[2], r.Message)
}

// StormConfig sets the breaker (defaults from Exchange Online's, DESIGN
// section 4).
type StormConfig struct {
	Off         bool          // no breaker at all (the replay's "protection off")
	MinAudience int64         // a reply reaching at least this many people counts (2,500)
	Threshold   int           // this many counted replies within Window block the thread (10)
	Window      time.Duration // the sliding window (60 minutes)
	BlockFor    time.Duration // how long a block lasts (6 hours)
	BrakeFrom   int           // from this counted reply on, delivery to the audience is delayed (3)
	BrakeDelay  time.Duration // by this much (10 minutes; 0 keeps the default, use BrakeFrom 0 to turn the brake off)
}

// DefaultStorm returns the defaults.
func DefaultStorm() StormConfig {
	return StormConfig{MinAudience: 2500, Threshold: 10, Window: time.Hour, BlockFor: 6 * time.Hour, BrakeFrom: 3, BrakeDelay: 10 * time.Minute}
}

// Fill replaces zero fields with the defaults.
func (c *StormConfig) Fill() {
	d := DefaultStorm()
	if c.MinAudience <= 0 {
		c.MinAudience = d.MinAudience
	}
	if c.Threshold <= 0 {
		c.Threshold = d.Threshold
	}
	if c.Window <= 0 {
		c.Window = d.Window
	}
	if c.BlockFor <= 0 {
		c.BlockFor = d.BlockFor
	}
	if c.BrakeFrom < 0 {
		c.BrakeFrom = 0
	} else if c.BrakeFrom == 0 {
		c.BrakeFrom = d.BrakeFrom
	}
	if c.BrakeDelay <= 0 {
		c.BrakeDelay = d.BrakeDelay
	}
}

// Breaker is the reply-all storm breaker.
type Breaker struct {
	st      Storage
	cfg     StormConfig
	now     func() time.Time
	log     *slog.Logger
	metrics *Metrics

	// local is the check-and-count of a process that owns its database
	// (SQLite): nil when the database is shared.
	local *flights
}

// flights makes check-and-count one step in a process that owns its
// database, without a write: two replies arriving together cannot both be
// the 10th. n counts replies let through whose submission is not yet
// stored and recorded.
type flights struct {
	mu sync.Mutex
	n  map[string]int
}

// NewBreaker returns a breaker over a store. now may be nil (time.Now).
func NewBreaker(st Storage, cfg StormConfig, now func() time.Time, log *slog.Logger, m *Metrics) *Breaker {
	cfg.Fill()
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if m == nil {
		m = NewMetrics()
	}
	m.setStorm(cfg)
	b := &Breaker{st: st, cfg: cfg, now: now, log: log, metrics: m}
	if !st.Shared() {
		b.local = &flights{n: map[string]int{}}
	}
	return b
}

// Config returns the breaker's settings.
func (b *Breaker) Config() StormConfig { return b.cfg }

// Reply is a message as the breaker sees it.
type Reply struct {
	ThreadID  string
	MessageID string
	Subject   string
	Sender    string
	IsReply   bool  // it has In-Reply-To or References
	Audience  int64 // distinct people after list expansion, Bcc'd lists included
}

// Ticket is a large-audience reply the breaker let through. The caller
// stores the message, then calls Done with whether that worked.
type Ticket struct {
	b       *Breaker
	r       Reply
	id      int64     // its reservation in the store
	n       int       // its place in the window, counting itself
	Brake   bool      // deliver to the large audience only after BrakeDelay
	Release time.Time // when the brake lets it go
	done    bool
}

// Counts reports whether a reply of this audience is one the breaker
// counts.
func (b *Breaker) Counts(r Reply) bool {
	return !b.cfg.Off && r.IsReply && r.Audience >= b.cfg.MinAudience && r.ThreadID != ""
}

// reserve is ReserveStormReply for a process that owns its database: the
// thread is read and the reply counted under the process's lock.
func (f *flights) reserve(ctx context.Context, st Storage, thread string, windowStart time.Time,
	decide func(t *store.StormThread, inflight int64) error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, err := st.StormThread(ctx, thread, windowStart)
	if errors.Is(err, store.ErrNotFound) {
		t = nil
	} else if err != nil {
		return err
	}
	if err := decide(t, int64(f.n[thread])); err != nil {
		return err
	}
	f.n[thread]++
	return nil
}

// errRefused ends a reservation that the breaker refused.
var errRefused = errors.New("policy: reply refused by the storm breaker")

// Check decides on a reply. It returns a nil Ticket and nil error for a
// message the breaker does not count (not a reply, or a small audience:
// replying to the sender alone always works), a *Refusal for a reply on a
// blocked thread, and otherwise a Ticket to finish with Done.
func (b *Breaker) Check(ctx context.Context, r Reply) (*Ticket, error) {
	if !b.Counts(r) {
		return nil, nil
	}
	now := b.now()
	windowStart := now.Add(-b.cfg.Window)
	var n int
	var until time.Time
	var manual bool
	decide := func(t *store.StormThread, inflight int64) error {
		var inWindow int64
		if t != nil {
			if t.Blocked(now) {
				until, manual = *t.BlockedUntil, t.BlockedBy != "breaker"
				return errRefused
			}
			inWindow = t.InWindow
		}
		n = int(inWindow+inflight) + 1
		if n > b.cfg.Threshold {
			// Only when the reply that reached the threshold is still
			// being stored: it will block the thread when recorded.
			until, manual = now.Add(b.cfg.BlockFor), false
			return errRefused
		}
		return nil
	}
	var id int64
	var err error
	if b.local != nil {
		err = b.local.reserve(ctx, b.st, r.ThreadID, windowStart, decide)
	} else {
		// A blocked thread is refused on a read, so that in a storm the
		// refusals do not queue behind each other's writes.
		var t *store.StormThread
		t, err = b.st.StormThread(ctx, r.ThreadID, windowStart)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if t != nil && t.Blocked(now) {
			return nil, b.refuse(ctx, r, *t.BlockedUntil, t.BlockedBy != "breaker")
		}
		// Otherwise the database counts the window and the replies let
		// through on any server but not yet stored, and reserves a place,
		// in one step.
		id, err = b.st.ReserveStormReply(ctx, r.ThreadID, windowStart, decide)
	}
	if errors.Is(err, errRefused) {
		return nil, b.refuse(ctx, r, until, manual)
	}
	if err != nil {
		return nil, err
	}
	tk := &Ticket{b: b, r: r, id: id, n: n}
	if b.cfg.BrakeFrom > 0 && n >= b.cfg.BrakeFrom {
		tk.Brake, tk.Release = true, now.Add(b.cfg.BrakeDelay)
	}
	return tk, nil
}

// Done finishes a ticket: stored says whether the message was accepted.
// An accepted reply is recorded; the one that brings the thread's window
// to the threshold blocks it. A reply not stored stops counting.
func (t *Ticket) Done(ctx context.Context, stored bool) error {
	if t == nil || t.done {
		return nil
	}
	t.done = true
	b := t.b
	if b.local != nil {
		// Recorded under the lock, before the reply leaves the in-flight
		// count, so that no check sees it in neither or in both.
		b.local.mu.Lock()
		defer b.local.mu.Unlock()
		defer func() {
			if b.local.n[t.r.ThreadID]--; b.local.n[t.r.ThreadID] <= 0 {
				delete(b.local.n, t.r.ThreadID)
			}
		}()
		if !stored {
			return nil
		}
	}
	now := b.now()
	if !stored {
		_, err := b.st.FinishStormReply(ctx, t.r.ThreadID, t.id, nil, now.Add(-b.cfg.Window), b.cfg.Threshold, time.Time{})
		return err
	}
	until := now.Add(b.cfg.BlockFor)
	blocked, err := b.st.FinishStormReply(ctx, t.r.ThreadID, t.id, &store.StormReply{ThreadID: t.r.ThreadID, MessageID: t.r.MessageID,
		Sender: t.r.Sender, Subject: t.r.Subject, Audience: t.r.Audience, Braked: t.Brake, At: now}, now.Add(-b.cfg.Window), b.cfg.Threshold, until)
	if err != nil {
		return err
	}
	outcome := "accepted"
	if t.Brake {
		outcome = "braked"
	}
	b.metrics.replies.WithLabelValues(outcome).Inc()
	if blocked {
		b.metrics.blocks.WithLabelValues("breaker").Inc()
		b.log.Warn("reply-all storm: thread blocked", "thread", t.r.ThreadID, "subject", t.r.Subject, "until", until.UTC(), "replies", t.n)
	}
	return nil
}

func (b *Breaker) refuse(ctx context.Context, r Reply, until time.Time, manual bool) error {
	b.metrics.replies.WithLabelValues("blocked").Inc()
	if err := b.st.RecordStormRefusal(ctx, r.ThreadID, r.Subject); err != nil {
		b.log.Warn("recording a storm refusal", "thread", r.ThreadID, "err", err)
	}
	why := fmt.Sprintf("%d replies to %s or more people within %s", b.cfg.Threshold, thousands(b.cfg.MinAudience), duration(b.cfg.Window))
	if manual {
		why = "an administrator stopped it"
	}
	return &Refusal{Code: 550, Enhanced: [3]int{5, 7, 1}, Message: fmt.Sprintf(
		"Reply-all storm: replies to everyone on the conversation %q are blocked until %s (%s). Replying to the sender alone still works.",
		truncate(r.Subject, 80), until.UTC().Format("2006-01-02 15:04 MST"), why)}
}

// Blocked says whether reply-all is blocked on a thread now, why and until
// when: what the webmail shows beside its reply-all button
// (web.ReplyAllPolicy).
func (b *Breaker) ReplyAllBlocked(ctx context.Context, thread string) (bool, string, time.Time, error) {
	if b.cfg.Off || thread == "" {
		return false, "", time.Time{}, nil
	}
	now := b.now()
	t, err := b.st.StormThread(ctx, thread, now.Add(-b.cfg.Window))
	if err == store.ErrNotFound {
		return false, "", time.Time{}, nil
	}
	if err != nil || !t.Blocked(now) {
		return false, "", time.Time{}, err
	}
	return true, fmt.Sprintf("This conversation had too many replies to everyone (a reply-all storm), so replies to everyone are blocked until %s. You can still reply to the sender alone.",
		t.BlockedUntil.UTC().Format("15:04 MST on 2 January")), *t.BlockedUntil, nil
}

// Board returns the storm board: every thread with a large-audience reply
// in the last `since`, or still blocked, with its state.
func (b *Breaker) Board(ctx context.Context, since time.Duration) ([]store.StormThread, error) {
	now := b.now()
	ts, err := b.st.StormThreads(ctx, now.Add(-b.cfg.Window), now.Add(-since), now, 500)
	if err != nil {
		return nil, err
	}
	for i := range ts {
		ts[i].State = b.state(&ts[i], now)
	}
	return ts, nil
}

// Thread returns one thread of the board.
func (b *Breaker) Thread(ctx context.Context, thread string) (*store.StormThread, error) {
	now := b.now()
	t, err := b.st.StormThread(ctx, thread, now.Add(-b.cfg.Window))
	if err != nil {
		return nil, err
	}
	t.State = b.state(t, now)
	return t, nil
}

func (b *Breaker) state(t *store.StormThread, now time.Time) string {
	switch {
	case t.Blocked(now):
		return "blocked"
	case b.cfg.BrakeFrom > 0 && t.InWindow >= int64(b.cfg.BrakeFrom):
		return "brake"
	}
	return "watch"
}

// Block blocks a thread by hand for d (0: the configured block time);
// Unblock lifts a block and restarts the window. Both are audited.
func (b *Breaker) Block(ctx context.Context, actor, thread string, d time.Duration, reason string) (*store.StormThread, error) {
	if d <= 0 {
		d = b.cfg.BlockFor
	}
	t, err := b.st.SetStormBlock(ctx, actor, thread, b.now().Add(d), reason)
	if err == nil {
		b.metrics.blocks.WithLabelValues("administrator").Inc()
		t.State = b.state(t, b.now())
	}
	return t, err
}

// Unblock lifts a thread's block.
func (b *Breaker) Unblock(ctx context.Context, actor, thread, reason string) (*store.StormThread, error) {
	t, err := b.st.SetStormBlock(ctx, actor, thread, time.Time{}, reason)
	if err == nil {
		b.metrics.unblocks.Inc()
		t.State = b.state(t, b.now())
	}
	return t, err
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	var out []string
	for len(s) > 3 {
		out = append([]string{s[len(s)-3:]}, out...)
		s = s[:len(s)-3]
	}
	return strings.Join(append([]string{s}, out...), ",")
}

func duration(d time.Duration) string {
	if d%time.Hour == 0 && d >= 2*time.Hour {
		return fmt.Sprintf("%d hours", d/time.Hour)
	}
	if d%time.Minute == 0 {
		return fmt.Sprintf("%d minutes", d/time.Minute)
	}
	return d.String()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
