package scan

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Action is what a verdict asks the pipeline to do.
type Action int

const (
	Deliver    Action = iota // to the recipients' INBOX
	Junk                     // to the recipients' Junk folder
	Quarantine               // held for administrators to release or delete
	Reject                   // 550 5.7.1 at DATA
	TempFail                 // 451 4.7.0: the sender tries again later
)

func (a Action) String() string {
	return [...]string{"deliver", "junk", "quarantine", "reject", "tempfail"}[a]
}

// ParseAction reads a setting's value.
func ParseAction(s string) (Action, error) {
	for a := Deliver; a <= TempFail; a++ {
		if strings.EqualFold(strings.TrimSpace(s), a.String()) {
			return a, nil
		}
	}
	return 0, fmt.Errorf("%q is not one of deliver, junk, quarantine, reject, tempfail", s)
}

// Verdict is the scanner's decision about one message.
type Verdict struct {
	Action Action
	// Kind says which rule decided: "blocked", "malware", "spam",
	// "unscanned" or "" (nothing found).
	Kind string
	// Reason is a sentence for the sender's reply (Reject, TempFail) or
	// the quarantine view.
	Reason string
	// Header is the value of the X-Wardmail-Scan field to add (RFC 5322
	// 3.6.8 optional field): what was scanned and what was found.
	Header string
}

// HeaderName is the field the scanner's summary travels in. One arriving
// from outside is removed first: only this server writes it.
const HeaderName = "X-Wardmail-Scan"

// Fallback is what happens to a message when an engine does not answer.
type Fallback int

const (
	// FallbackDefault is the engine's default: tempfail for clamd, accept
	// for Rspamd.
	FallbackDefault Fallback = iota
	// FallbackTempFail refuses with 451 4.7.0: the sending server retries.
	FallbackTempFail
	// FallbackAccept delivers the message with a header saying it was not
	// scanned.
	FallbackAccept
)

// ParseFallback reads "tempfail" or "accept".
func ParseFallback(s string) (Fallback, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "tempfail", "451":
		return FallbackTempFail, nil
	case "accept":
		return FallbackAccept, nil
	}
	return 0, fmt.Errorf("%q is not tempfail or accept", s)
}

func (f Fallback) String() string {
	if f == FallbackAccept {
		return "accept"
	}
	return "tempfail"
}

// Config says which engines run and what their findings mean.
type Config struct {
	Rspamd *Rspamd // nil: no spam scoring
	Clamd  *Clamd  // nil: no malware scanning
	// Blocked are the refused file extensions; nil is DefaultBlocked, an
	// empty non-nil slice refuses none.
	Blocked []string
	// Spam scores from Rspamd: at or above JunkScore the message goes to
	// Junk, at or above QuarantineScore to the quarantine, at or above
	// RejectScore it is refused (0 turns a threshold off).
	JunkScore, QuarantineScore, RejectScore float64
	// Malware is what a clamd finding does: Reject (default) or Quarantine.
	Malware Action
	// ClamdDown and RspamdDown: what an engine that is down or slow does.
	// FallbackDefault is 451 for malware and accept with a header for spam.
	ClamdDown, RspamdDown Fallback
	Logger                *slog.Logger
	Now                   func() time.Time
}

// Defaults for the spam thresholds, Rspamd's own "add header" and
// "reject" scores.
const (
	DefaultJunkScore       = 6
	DefaultQuarantineScore = 15
)

// Scanner runs the configured engines. It is safe for concurrent use.
type Scanner struct {
	cfg     Config
	blocked []string
	metrics *metrics

	mu     sync.Mutex
	health map[string]*EngineHealth
}

// EngineHealth is what /healthz shows about one engine.
type EngineHealth struct {
	Engine string    `json:"engine"` // "clamd", "rspamd"
	Up     bool      `json:"up"`
	Since  time.Time `json:"since"` // when it last changed
	Error  string    `json:"error,omitempty"`
	// Fallback is what mail gets while the engine is down.
	Fallback string `json:"while_down"`
}

// New returns a Scanner, filling in defaults.
func New(cfg Config) *Scanner {
	if cfg.JunkScore == 0 {
		cfg.JunkScore = DefaultJunkScore
	}
	if cfg.QuarantineScore == 0 {
		cfg.QuarantineScore = DefaultQuarantineScore
	}
	if cfg.Malware != Quarantine {
		cfg.Malware = Reject
	}
	if cfg.ClamdDown == FallbackDefault {
		cfg.ClamdDown = FallbackTempFail
	}
	if cfg.RspamdDown == FallbackDefault {
		cfg.RspamdDown = FallbackAccept
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	blocked := cfg.Blocked
	if blocked == nil {
		blocked = DefaultBlocked
	}
	s := &Scanner{cfg: cfg, blocked: blocked, metrics: newMetrics(), health: map[string]*EngineHealth{}}
	now := cfg.Now()
	if cfg.Clamd != nil {
		s.health["clamd"] = &EngineHealth{Engine: "clamd", Up: true, Since: now, Fallback: cfg.ClamdDown.String()}
		s.metrics.up.WithLabelValues("clamd").Set(1)
	}
	if cfg.Rspamd != nil {
		s.health["rspamd"] = &EngineHealth{Engine: "rspamd", Up: true, Since: now, Fallback: cfg.RspamdDown.String()}
		s.metrics.up.WithLabelValues("rspamd").Set(1)
	}
	return s
}

// Scan decides what happens to a message. fromOutside is true for mail
// from other servers: only that is scored for spam (people signed in are
// held to account by their limits); every message is checked for blocked
// attachments and, with clamd, for malware.
func (s *Scanner) Scan(ctx context.Context, env Envelope, body []byte, fromOutside bool) Verdict {
	v := s.scan(ctx, env, body, fromOutside)
	s.metrics.verdicts.WithLabelValues(v.Action.String(), v.Kind).Inc()
	return v
}

func (s *Scanner) scan(ctx context.Context, env Envelope, body []byte, fromOutside bool) Verdict {
	start := time.Now()
	b := FindBlocked(body, s.blocked)
	s.metrics.seconds.WithLabelValues("attachments").Observe(time.Since(start).Seconds())
	if b != nil {
		return Verdict{Action: Reject, Kind: "blocked",
			Reason: fmt.Sprintf("The attachment %q is %s, a type this service does not accept; send it another way, for example as a link to a shared folder", b.Name, b.Reason)}
	}

	// Both engines at once: the added latency is the slower one's.
	var (
		wg       sync.WaitGroup
		virus    string
		clamErr  error
		spam     *SpamResult
		spamErr  error
		runClamd = s.cfg.Clamd != nil
		runSpam  = s.cfg.Rspamd != nil && fromOutside
	)
	if runClamd {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.Now()
			virus, clamErr = s.cfg.Clamd.Scan(ctx, body)
			s.metrics.seconds.WithLabelValues("clamd").Observe(time.Since(t).Seconds())
			if errors.Is(clamErr, errClamdLimit) {
				// clamd answered: the message is longer than its
				// StreamMaxLength (make that at least max_message_bytes).
				// Unscanned, so the fallback decides, but clamd is up.
				s.record("clamd", nil)
			} else {
				s.record("clamd", clamErr)
			}
		}()
	}
	if runSpam {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.Now()
			spam, spamErr = s.cfg.Rspamd.Check(ctx, env, body)
			s.metrics.seconds.WithLabelValues("rspamd").Observe(time.Since(t).Seconds())
			s.record("rspamd", spamErr)
		}()
	}
	wg.Wait()

	var notes []string
	if runClamd {
		switch {
		case clamErr == nil && virus != "":
			s.cfg.Logger.Warn("malware found", "queue_id", env.QueueID, "signature", virus)
			reason := fmt.Sprintf("The message contains malware (%s) and was not delivered", virus)
			return Verdict{Action: s.cfg.Malware, Kind: "malware", Reason: reason,
				Header: "malware found: " + virus}
		case clamErr != nil:
			s.metrics.unavailable.WithLabelValues("clamd", s.cfg.ClamdDown.String()).Inc()
			s.cfg.Logger.Warn("malware scanner unavailable", "queue_id", env.QueueID, "err", clamErr, "fallback", s.cfg.ClamdDown.String())
			if s.cfg.ClamdDown == FallbackTempFail {
				return Verdict{Action: TempFail, Kind: "unscanned",
					Reason: "The message could not be checked for malware just now; please try again later"}
			}
			notes = append(notes, "not scanned for malware (scanner unavailable)")
		default:
			notes = append(notes, "no malware found")
		}
	}
	if runSpam {
		if spamErr != nil {
			s.metrics.unavailable.WithLabelValues("rspamd", s.cfg.RspamdDown.String()).Inc()
			s.cfg.Logger.Warn("spam scanner unavailable", "queue_id", env.QueueID, "err", spamErr, "fallback", s.cfg.RspamdDown.String())
			if s.cfg.RspamdDown == FallbackTempFail {
				return Verdict{Action: TempFail, Kind: "unscanned",
					Reason: "The message could not be checked for spam just now; please try again later"}
			}
			notes = append(notes, "not scanned for spam (scanner unavailable)")
		} else {
			v := s.spamVerdict(spam)
			v.Header = strings.Join(append(notes, v.Header), "; ")
			return v
		}
	}
	return Verdict{Action: Deliver, Header: strings.Join(notes, "; ")}
}

// spamVerdict applies the thresholds to Rspamd's score.
func (s *Scanner) spamVerdict(r *SpamResult) Verdict {
	syms := r.TopSymbols(5)
	header := fmt.Sprintf("spam score %.1f", r.Score)
	if len(syms) > 0 {
		header += " (" + strings.Join(syms, ", ") + ")"
	}
	reason := fmt.Sprintf("The message looks like spam (score %.1f", r.Score)
	if len(syms) > 0 {
		reason += ": " + strings.Join(syms, ", ")
	}
	reason += ")"
	switch {
	case s.cfg.RejectScore > 0 && r.Score >= s.cfg.RejectScore:
		return Verdict{Action: Reject, Kind: "spam", Reason: reason + " and was refused", Header: header}
	case s.cfg.QuarantineScore > 0 && r.Score >= s.cfg.QuarantineScore:
		return Verdict{Action: Quarantine, Kind: "spam", Reason: reason, Header: header}
	case s.cfg.JunkScore > 0 && r.Score >= s.cfg.JunkScore:
		return Verdict{Action: Junk, Kind: "spam", Reason: reason, Header: header}
	}
	return Verdict{Action: Deliver, Header: header}
}

// record keeps an engine's state for Health and its gauge.
func (s *Scanner) record(engine string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.health[engine]
	if h == nil {
		return
	}
	up := err == nil
	if h.Up != up {
		h.Up, h.Since = up, s.cfg.Now()
	}
	h.Error = ""
	if err != nil {
		h.Error = err.Error()
	}
	v := 0.0
	if up {
		v = 1
	}
	s.metrics.up.WithLabelValues(engine).Set(v)
}

// Health asks each engine whether it answers now (a PING, at most a second
// each) and returns their states, for /healthz.
func (s *Scanner) Health(ctx context.Context) []EngineHealth {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if s.cfg.Clamd != nil {
		s.record("clamd", s.cfg.Clamd.Ping(ctx))
	}
	if s.cfg.Rspamd != nil {
		s.record("rspamd", s.cfg.Rspamd.Ping(ctx))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []EngineHealth
	for _, e := range []string{"clamd", "rspamd"} {
		if h := s.health[e]; h != nil {
			out = append(out, *h)
		}
	}
	return out
}
