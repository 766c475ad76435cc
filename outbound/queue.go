package outbound

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"time"

	"wardmail/store"
)

// Defaults (RFC 5321 4.5.4.1 asks for at least 4–5 days before giving up;
// Postfix's minimal and maximal back-off are 300 s and 4000 s).
const (
	DefaultLifetime    = 5 * 24 * time.Hour
	DefaultDelayNotice = 4 * time.Hour
	DefaultRetryBase   = 5 * time.Minute
	DefaultRetryMax    = time.Hour
	DefaultMaxConns    = 100
	DefaultDomainConns = 10
	DefaultPerConn     = 100
	DefaultTimeout     = 5 * time.Minute // RFC 5321 4.5.3.2
	DefaultTick        = time.Second
	dueBatch           = 500
)

// Storage is what the queue needs from the store (implemented by
// *store.Store, store/outbound.go).
type Storage interface {
	DueDomains(ctx context.Context, now time.Time, limit int) ([]string, error)
	DueRecipients(ctx context.Context, domain string, now time.Time, limit int) ([]*store.QueuedMessage, error)
	RecordOutbound(ctx context.Context, outcomes []store.OutboundOutcome, dom *store.DomainOutcome, notices []store.OutboundNotice) error
	DomainBackoff(ctx context.Context, domain string) (int, error)
	AgedRecipients(ctx context.Context, cutoff time.Time, unnotifiedOnly bool, limit int) ([]*store.QueuedMessage, error)
	Body(ctx context.Context, contentID int64) ([]byte, error)
	PrepareContent(ctx context.Context, body, summary []byte) (*store.Content, error)
	QueueSize(ctx context.Context) (int64, time.Time, error)
	QueueList(ctx context.Context, f store.QueueFilter) ([]*store.QueuedMessage, error)
	QueueMessage(ctx context.Context, queueID string) (*store.QueuedMessage, error)
	QueueChange(ctx context.Context, queueID, domain string, from []string, to string) (int64, error)
	QueueDomains(ctx context.Context) ([]store.QueueDomain, error)
	RecordRemoteDSN(ctx context.Context, messageID, rcpt, status string) (bool, error)
	Audit(ctx context.Context, actor, action, target string, detail any) error
	Submit(ctx context.Context, sub *store.Submission) (*store.SubmitResult, error)
}

// Config is what a Queue needs. Zero values take the defaults above.
type Config struct {
	Store    Storage
	Resolver *net.Resolver // netdns.Resolver(cfg.DNSResolver)
	Hostname string        // EHLO name, Reporting-MTA of DSNs
	Security Security      // nil: Opportunistic
	Signer   Signer        // nil: NoSigner
	// Runs reports whether this node runs the queue now: of several nodes
	// sharing a database, one schedules deliveries (the one holding the
	// cluster's lease), so no recipient is sent to twice. nil: always.
	Runs func(ctx context.Context) bool
	// Port is the remote SMTP port: 25, except on a test internet without
	// root.
	Port        int
	Lifetime    time.Duration // give up after this long
	DelayNotice time.Duration // tell the sender once a message has waited this long
	RetryBase   time.Duration // first retry; doubles per attempt
	RetryMax    time.Duration // longest wait between attempts
	MaxConns    int           // connections to all destinations together
	DomainConns int           // connections to one destination
	// DomainRate is the most messages a second sent to one destination
	// (0: no limit).
	DomainRate float64
	// PerConn is how many messages one connection carries before it is
	// closed and another opened.
	PerConn int
	Timeout time.Duration // per command (RFC 5321 4.5.3.2)
	Tick    time.Duration // how often the scheduler looks for due destinations
	Dialer  *net.Dialer
	// Routes send a domain's mail to a fixed host:port instead of its MX,
	// as Postfix's transport_maps do: a smarthost for one partner, a
	// benchmark's sink.
	Routes map[string]string
	Logger *slog.Logger
	Now    func() time.Time
}

// Queue delivers queued mail. Start runs it; Close stops it (what is in
// flight finishes its current transaction or is retried after restart).
type Queue struct {
	cfg     Config
	metrics *Metrics
	sem     chan struct{} // MaxConns
	wake    chan struct{}

	mu     sync.Mutex
	active map[string]bool // destinations being delivered to now

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a Queue with the defaults filled in. It does not start.
func New(cfg Config) *Queue {
	if cfg.Security == nil {
		cfg.Security = Opportunistic{}
	}
	if cfg.Signer == nil {
		cfg.Signer = NoSigner{}
	}
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	if cfg.Port == 0 {
		cfg.Port = 25
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.Lifetime, DefaultLifetime)
	def(&cfg.DelayNotice, DefaultDelayNotice)
	def(&cfg.RetryBase, DefaultRetryBase)
	def(&cfg.RetryMax, DefaultRetryMax)
	def(&cfg.Timeout, DefaultTimeout)
	def(&cfg.Tick, DefaultTick)
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.DomainConns <= 0 {
		cfg.DomainConns = DefaultDomainConns
	}
	if cfg.PerConn <= 0 {
		cfg.PerConn = DefaultPerConn
	}
	if cfg.Dialer == nil {
		cfg.Dialer = &net.Dialer{Timeout: 30 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Hostname == "" {
		cfg.Hostname = "localhost"
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Queue{cfg: cfg, metrics: newMetrics(), sem: make(chan struct{}, cfg.MaxConns), wake: make(chan struct{}, 1),
		active: map[string]bool{}, ctx: ctx, cancel: cancel}
}

// Signer is the signer messages are signed with before they are queued.
func (q *Queue) Signer() Signer { return q.cfg.Signer }

// Start runs the scheduler until Close.
func (q *Queue) Start() {
	q.wg.Add(1)
	go q.run()
}

// Close stops the scheduler and waits for the deliveries in flight.
func (q *Queue) Close() error {
	q.cancel()
	q.wg.Wait()
	return nil
}

// Wake tells the scheduler that mail was queued, so it looks now rather
// than at its next tick.
func (q *Queue) Wake() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *Queue) run() {
	defer q.wg.Done()
	tick := time.NewTicker(q.cfg.Tick)
	defer tick.Stop()
	var lastSweep, lastGauge time.Time
	for {
		now := q.cfg.Now()
		if q.cfg.Runs == nil || q.cfg.Runs(q.ctx) {
			q.schedule(now)
			if time.Since(lastSweep) >= time.Minute || lastSweep.IsZero() {
				q.sweep(now)
				lastSweep = time.Now()
			}
		}
		if time.Since(lastGauge) >= 15*time.Second || lastGauge.IsZero() {
			q.updateGauges()
			lastGauge = time.Now()
		}
		select {
		case <-q.ctx.Done():
			return
		case <-tick.C:
		case <-q.wake:
		}
	}
}

// schedule starts a delivery run for each destination that is due and not
// already being delivered to.
func (q *Queue) schedule(now time.Time) {
	domains, err := q.cfg.Store.DueDomains(q.ctx, now, 1000)
	if err != nil {
		if q.ctx.Err() == nil {
			q.cfg.Logger.Error("outbound: reading due destinations", "err", err)
		}
		return
	}
	for _, d := range domains {
		q.mu.Lock()
		busy := q.active[d]
		if !busy {
			q.active[d] = true
		}
		q.mu.Unlock()
		if busy {
			continue
		}
		q.wg.Add(1)
		go func(domain string) {
			defer q.wg.Done()
			defer func() {
				if p := recover(); p != nil {
					q.metrics.panics.Inc()
					q.cfg.Logger.Error("outbound: panic delivering", "domain", domain, "panic", p)
				}
				q.mu.Lock()
				delete(q.active, domain)
				q.mu.Unlock()
			}()
			q.deliverDomain(domain)
		}(d)
	}
}

func (q *Queue) updateGauges() {
	n, oldest, err := q.cfg.Store.QueueSize(q.ctx)
	if err != nil {
		return
	}
	q.metrics.size.Set(float64(n))
	if oldest.IsZero() {
		q.metrics.age.Set(0)
	} else {
		q.metrics.age.Set(q.cfg.Now().Sub(oldest).Seconds())
	}
}

// backoff is the wait before the attempt after `attempts` attempts:
// RetryBase doubled per attempt, at most RetryMax.
func (q *Queue) backoff(attempts int) time.Duration {
	d := q.cfg.RetryBase
	for i := 1; i < attempts && d < q.cfg.RetryMax; i++ {
		d *= 2
	}
	return min(d, q.cfg.RetryMax)
}
