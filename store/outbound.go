package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The outbound queue's rows (schema SchemaQueue). The rules — when to retry,
// what to tell the sender — are package outbound's; these are its reads and
// writes.

// Outbound is what a submission queues for recipients on other servers.
type Outbound struct {
	Rcpts []string
	// Skip is how many bytes at the top of the stored body stay here (our
	// Return-Path, RFC 5321 4.4); Prefix is prepended on the way out
	// (DKIM-Signature fields).
	Skip       int
	Prefix     []byte
	EightBit   bool // the body has 8-bit bytes: needs 8BITMIME (RFC 6152)
	SMTPUTF8   bool // an address or the header is UTF-8: needs SMTPUTF8 (RFC 6531)
	RequireTLS bool // REQUIRETLS (RFC 8689)
	DSN        bool // a delivery notice: never bounced itself
	// TLSOptional: the message carries "TLS-Required: No" (RFC 8689 5):
	// MTA-STS and DANE are set aside for it.
	TLSOptional bool
	// EnvID and Ret are the sender's ENVID and RET (RFC 3461 4.3, 4.4),
	// xtext-decoded; RcptDSN, when not nil, holds each of Rcpts' NOTIFY
	// and ORCPT, in the same order.
	EnvID   string
	Ret     string
	RcptDSN []RcptDSN
}

// RcptDSN is what a sender asked of notices about one recipient (RFC 3461
// 4.1, 4.2).
type RcptDSN struct {
	// Notify is "NEVER", or some of "SUCCESS", "FAILURE", "DELAY" joined by
	// commas; "" when not given.
	Notify string
	// ORcpt is the original recipient as "type;address", the address
	// xtext-decoded; "" when not given.
	ORcpt string
}

// Queued recipient states.
const (
	QueueQueued    = "queued"
	QueueHeld      = "held"
	QueueDelivered = "delivered"
	QueueFailed    = "failed"
	QueueDeleted   = "deleted"
)

// QueuedMessage is one queued message and its outside recipients.
type QueuedMessage struct {
	ID         int64  `json:"-"`
	QueueID    string `json:"queue_id"`
	MessageID  string `json:"message_id"`
	Subject    string `json:"subject"`
	Sender     string `json:"sender"`
	SenderID   int64  `json:"-"`
	ContentID  int64  `json:"-"`
	Skip       int    `json:"-"`
	Prefix     []byte `json:"-"`
	Size       int64  `json:"size"`
	EightBit   bool   `json:"eight_bit,omitempty"`
	SMTPUTF8   bool   `json:"smtputf8,omitempty"`
	RequireTLS bool   `json:"require_tls,omitempty"`
	DSN        bool   `json:"dsn,omitempty"`
	// TLSOptional: "TLS-Required: No" (RFC 8689 5).
	TLSOptional bool          `json:"tls_optional,omitempty"`
	EnvID       string        `json:"envid,omitempty"`
	Ret         string        `json:"ret,omitempty"`
	CreatedAt   time.Time     `json:"created_at"`
	Rcpts       []*QueuedRcpt `json:"recipients"`
}

// QueuedRcpt is one recipient of a queued message.
type QueuedRcpt struct {
	ID            int64     `json:"id"`
	MsgID         int64     `json:"-"`
	Rcpt          string    `json:"recipient"`
	Domain        string    `json:"domain"`
	State         string    `json:"state"`
	Attempts      int       `json:"attempts"`
	CreatedAt     time.Time `json:"created_at"`
	NextAt        time.Time `json:"next_attempt"`
	LastAt        time.Time `json:"last_attempt"`
	LastCode      int       `json:"last_code,omitempty"`
	LastReply     string    `json:"last_reply,omitempty"`
	MX            string    `json:"mx,omitempty"`
	TLS           string    `json:"tls,omitempty"`
	DelayNotified bool      `json:"delay_notified,omitempty"`
	DoneAt        time.Time `json:"done_at"`
	RemoteDSN     string    `json:"remote_dsn,omitempty"`
	Notify        string    `json:"notify,omitempty"`
	ORcpt         string    `json:"orcpt,omitempty"`
}

// OutboundOutcome is what one attempt did to one recipient.
type OutboundOutcome struct {
	RcptID   int64
	State    string    // QueueQueued (retry), QueueDelivered, QueueFailed
	NextAt   time.Time // when State is QueueQueued
	Attempt  bool      // counts as an attempt (a connection was tried)
	Code     int
	Reply    string
	MX       string
	TLS      string
	Notified bool // a delay notice went with this outcome
}

// DomainOutcome is a destination's back-off after an attempt: zero NextAt
// and Failures when it answered.
type DomainOutcome struct {
	Domain   string
	NextAt   time.Time
	Failures int
	Error    string
}

// OutboundNotice is a notice for a local person (a DSN), delivered in the
// same commit as the outcomes it tells of.
type OutboundNotice struct {
	PersonID int64
	Content  *Content
	Date     time.Time
}

// insertOutbound queues a submission's outside recipients in its own
// transaction, so that "250" means queued.
func insertOutbound(tx *Tx, subID, contentID int64, sub *Submission) error {
	o := sub.Outbound
	if o == nil || len(o.Rcpts) == 0 {
		return nil
	}
	now := tx.s.now().Unix()
	var id int64
	if err := tx.QueryRow(`INSERT INTO outbound_messages (submission_id, queue_id, message_id, subject, sender, sender_id, content_id, skip, prefix, size, eight_bit, smtputf8, require_tls, dsn, created_at, envid, ret, tls_optional)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		subID, sub.QueueID, sub.MessageID, sub.Subject, sub.Sender, sub.SenderID, contentID, o.Skip, o.Prefix,
		sub.Content.Size-int64(o.Skip)+int64(len(o.Prefix)), b2i(o.EightBit), b2i(o.SMTPUTF8), b2i(o.RequireTLS), b2i(o.DSN), now,
		o.EnvID, o.Ret, b2i(o.TLSOptional)).Scan(&id); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, r := range o.Rcpts {
		key := strings.ToLower(r)
		if seen[key] {
			continue
		}
		seen[key] = true
		domain := strings.ToLower(r[strings.LastIndexByte(r, '@')+1:])
		var dsn RcptDSN
		if i < len(o.RcptDSN) {
			dsn = o.RcptDSN[i]
		}
		if _, err := tx.Exec(`INSERT INTO outbound_rcpts (msg_id, rcpt, domain, created_at, next_at, notify, orcpt) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			id, r, domain, now, now, dsn.Notify, dsn.ORcpt); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO outbound_domains (domain) VALUES (?) ON CONFLICT (domain) DO NOTHING`, domain); err != nil {
			return err
		}
	}
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// DueDomains are the destinations out of back-off with a recipient due by
// now: the outbound_domains table and the next-attempt index, never the
// whole queue.
func (s *Store) DueDomains(ctx context.Context, now time.Time, limit int) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT d.domain FROM outbound_domains d WHERE d.next_at <= ?
		AND EXISTS (SELECT 1 FROM outbound_rcpts r WHERE r.domain = d.domain AND r.state = 'queued' AND r.next_at <= ?)
		ORDER BY d.domain LIMIT ?`), now.Unix(), now.Unix(), limit)
	if err != nil {
		return nil, err
	}
	var out []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, d)
	}
	return out, errors.Join(rows.Err(), rows.Close())
}

const queuedMessageCols = `m.id, m.queue_id, m.message_id, m.subject, m.sender, m.sender_id, m.content_id, m.skip, m.prefix, m.size, m.eight_bit, m.smtputf8, m.require_tls, m.dsn, m.created_at, m.envid, m.ret, m.tls_optional`
const queuedRcptCols = `r.id, r.msg_id, r.rcpt, r.domain, r.state, r.attempts, r.created_at, r.next_at, r.last_at, r.last_code, r.last_reply, r.mx, r.tls, r.delay_notified, r.done_at, r.remote_dsn, r.notify, r.orcpt`

func scanQueuedMessage(sc interface{ Scan(...any) error }, m *QueuedMessage, extra ...any) error {
	var created int64
	var eb, u8, rt, dsn, opt int
	dest := append([]any{&m.ID, &m.QueueID, &m.MessageID, &m.Subject, &m.Sender, &m.SenderID, &m.ContentID, &m.Skip, &m.Prefix, &m.Size, &eb, &u8, &rt, &dsn, &created, &m.EnvID, &m.Ret, &opt}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return err
	}
	m.EightBit, m.SMTPUTF8, m.RequireTLS, m.DSN, m.TLSOptional = eb != 0, u8 != 0, rt != 0, dsn != 0, opt != 0
	m.CreatedAt = time.Unix(created, 0).UTC()
	return nil
}

type rcptScan struct {
	r                                     QueuedRcpt
	created, next, last, notified, doneAt int64
}

func (x *rcptScan) dest() []any {
	r := &x.r
	return []any{&r.ID, &r.MsgID, &r.Rcpt, &r.Domain, &r.State, &r.Attempts, &x.created, &x.next, &x.last, &r.LastCode, &r.LastReply, &r.MX, &r.TLS, &x.notified, &x.doneAt, &r.RemoteDSN, &r.Notify, &r.ORcpt}
}

func (x *rcptScan) done() *QueuedRcpt {
	r := x.r
	r.CreatedAt, r.NextAt = time.Unix(x.created, 0).UTC(), time.Unix(x.next, 0).UTC()
	if x.last > 0 {
		r.LastAt = time.Unix(x.last, 0).UTC()
	}
	if x.doneAt > 0 {
		r.DoneAt = time.Unix(x.doneAt, 0).UTC()
	}
	r.DelayNotified = x.notified != 0
	return &r
}

// DueRecipients returns up to limit recipients of a destination due by now,
// grouped by message in queue order.
func (s *Store) DueRecipients(ctx context.Context, domain string, now time.Time, limit int) ([]*QueuedMessage, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+queuedMessageCols+`, `+queuedRcptCols+` FROM outbound_rcpts r JOIN outbound_messages m ON m.id = r.msg_id
		WHERE r.domain = ? AND r.state = 'queued' AND r.next_at <= ? ORDER BY r.next_at, r.msg_id LIMIT ?`), domain, now.Unix(), limit)
	if err != nil {
		return nil, err
	}
	return collectQueued(rows)
}

func collectQueued(rows *sql.Rows) ([]*QueuedMessage, error) {
	byID := map[int64]*QueuedMessage{}
	var out []*QueuedMessage
	for rows.Next() {
		var m QueuedMessage
		var x rcptScan
		if err := scanQueuedMessage(rows, &m, x.dest()...); err != nil {
			rows.Close()
			return nil, err
		}
		have := byID[m.ID]
		if have == nil {
			have = &m
			byID[m.ID] = have
			out = append(out, have)
		}
		have.Rcpts = append(have.Rcpts, x.done())
	}
	return out, errors.Join(rows.Err(), rows.Close())
}

// RecordOutbound commits the outcomes of an attempt, the destination's
// back-off and the notices they cause, in one write.
func (s *Store) RecordOutbound(ctx context.Context, outcomes []OutboundOutcome, dom *DomainOutcome, notices []OutboundNotice) error {
	return s.Write(ctx, func(tx *Tx) error {
		now := tx.s.now().Unix()
		for _, o := range outcomes {
			done := int64(0)
			if o.State != QueueQueued {
				done = now
			}
			attempt := 0
			if o.Attempt {
				attempt = 1
			}
			// Only a recipient still queued changes: an operator's hold or
			// delete made meanwhile wins over the attempt's retry.
			cond := `state = 'queued'`
			if o.State == QueueDelivered || o.State == QueueFailed {
				cond = `state IN ('queued', 'held', 'deleted')`
			}
			if _, err := tx.Exec(`UPDATE outbound_rcpts SET state = ?, attempts = attempts + ?, next_at = ?, last_at = ?, last_code = ?, last_reply = ?,
				mx = CASE WHEN ? = '' THEN mx ELSE ? END, tls = CASE WHEN ? = '' THEN tls ELSE ? END,
				delay_notified = CASE WHEN ? = 1 THEN 1 ELSE delay_notified END, done_at = ? WHERE id = ? AND `+cond,
				o.State, attempt, o.NextAt.Unix(), now, o.Code, truncateText(o.Reply, 1000), o.MX, o.MX, o.TLS, o.TLS, b2i(o.Notified), done, o.RcptID); err != nil {
				return err
			}
		}
		if dom != nil {
			if _, err := tx.Exec(`UPDATE outbound_domains SET next_at = ?, failures = ?, last_at = ?, last_error = ? WHERE domain = ?`,
				dom.NextAt.Unix(), dom.Failures, now, truncateText(dom.Error, 1000), dom.Domain); err != nil {
				return err
			}
		}
		for _, n := range notices {
			cid, err := putContent(tx, n.Content)
			if err != nil {
				return err
			}
			inbox, err := ensureMailboxes(tx, n.PersonID)
			if err != nil {
				return err
			}
			if _, err := appendRow(tx, inbox.ID, cid, 0, "", n.Date); err != nil {
				return err
			}
		}
		return nil
	})
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// DomainBackoff returns a destination's consecutive failures.
func (s *Store) DomainBackoff(ctx context.Context, domain string) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, s.q(`SELECT failures FROM outbound_domains WHERE domain = ?`), domain).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, err
}

// AgedRecipients returns queued recipients created before cutoff (oldest
// first, through the age index): those whose time is up, or those owed a
// delay notice (notified false).
func (s *Store) AgedRecipients(ctx context.Context, cutoff time.Time, unnotifiedOnly bool, limit int) ([]*QueuedMessage, error) {
	cond := ""
	if unnotifiedOnly {
		cond = ` AND r.delay_notified = 0`
	}
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+queuedMessageCols+`, `+queuedRcptCols+` FROM outbound_rcpts r JOIN outbound_messages m ON m.id = r.msg_id
		WHERE r.state = 'queued' AND r.created_at < ?`+cond+` ORDER BY r.created_at LIMIT ?`), cutoff.Unix(), limit)
	if err != nil {
		return nil, err
	}
	return collectQueued(rows)
}

// QueueFilter chooses queued messages for a listing.
type QueueFilter struct {
	Domain string
	State  string // "" is queued and held
	Limit  int
}

// QueueList lists queued messages, oldest first, with their recipients.
func (s *Store) QueueList(ctx context.Context, f QueueFilter) ([]*QueuedMessage, error) {
	where := `r.state IN ('queued', 'held')`
	args := []any{}
	if f.State != "" {
		where = `r.state = ?`
		args = append(args, f.State)
	}
	if f.Domain != "" {
		where += ` AND r.domain = ?`
		args = append(args, strings.ToLower(f.Domain))
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	args = append(args, f.Limit)
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+queuedMessageCols+`, `+queuedRcptCols+` FROM outbound_rcpts r JOIN outbound_messages m ON m.id = r.msg_id
		WHERE `+where+` ORDER BY r.msg_id, r.id LIMIT ?`), args...)
	if err != nil {
		return nil, err
	}
	return collectQueued(rows)
}

// QueueMessage returns one queued message by its queue id, every recipient
// whatever its state.
func (s *Store) QueueMessage(ctx context.Context, queueID string) (*QueuedMessage, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+queuedMessageCols+`, `+queuedRcptCols+` FROM outbound_rcpts r JOIN outbound_messages m ON m.id = r.msg_id
		WHERE m.queue_id = ? ORDER BY r.id`), strings.ToUpper(queueID))
	if err != nil {
		return nil, err
	}
	out, err := collectQueued(rows)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no queued message %s", ErrNotFound, queueID)
	}
	return out[0], nil
}

// QueuedByMessageID returns the queued copies of a message by its
// Message-ID (message trace).
func (s *Store) QueuedByMessageID(ctx context.Context, messageID string) ([]*QueuedMessage, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+queuedMessageCols+`, `+queuedRcptCols+` FROM outbound_rcpts r JOIN outbound_messages m ON m.id = r.msg_id
		WHERE m.message_id = ? ORDER BY r.msg_id, r.id`), messageID)
	if err != nil {
		return nil, err
	}
	return collectQueued(rows)
}

// QueueChange moves the recipients of one queued message (all, or those of
// one domain when domain is set) from one state to another: retry (queued
// or held to queued, due now), hold, release, delete. It returns how many
// changed.
func (s *Store) QueueChange(ctx context.Context, queueID, domain string, from []string, to string) (int64, error) {
	var n int64
	err := s.Write(ctx, func(tx *Tx) error {
		n = 0
		q := `UPDATE outbound_rcpts SET state = ?, next_at = CASE WHEN ? = 'queued' THEN ? ELSE next_at END,
			done_at = CASE WHEN ? = 'deleted' THEN ? ELSE done_at END WHERE state IN (` + placeholders(len(from)) + `)`
		now := tx.s.now().Unix()
		args := []any{to, to, now, to, now}
		for _, f := range from {
			args = append(args, f)
		}
		if queueID != "" {
			q += ` AND msg_id IN (SELECT id FROM outbound_messages WHERE queue_id = ?)`
			args = append(args, strings.ToUpper(queueID))
		}
		if domain != "" {
			q += ` AND domain = ?`
			args = append(args, strings.ToLower(domain))
		}
		r, err := tx.Exec(q, args...)
		if err != nil {
			return err
		}
		n, _ = r.RowsAffected()
		if to == QueueQueued && domain != "" {
			// An operator's retry of a destination ends its back-off too.
			_, err = tx.Exec(`UPDATE outbound_domains SET next_at = 0 WHERE domain = ?`, strings.ToLower(domain))
		} else if to == QueueQueued && queueID != "" {
			_, err = tx.Exec(`UPDATE outbound_domains SET next_at = 0 WHERE domain IN (SELECT r.domain FROM outbound_rcpts r JOIN outbound_messages m ON m.id = r.msg_id WHERE m.queue_id = ?)`,
				strings.ToUpper(queueID))
		}
		return err
	})
	return n, err
}

// QueueDomain is a destination's state for operators.
type QueueDomain struct {
	Domain    string    `json:"domain"`
	Queued    int64     `json:"queued"`
	Held      int64     `json:"held"`
	Deferred  int64     `json:"deferred"` // queued after at least one attempt
	Oldest    time.Time `json:"oldest"`
	NextAt    time.Time `json:"next_attempt"`
	Failures  int       `json:"failures"`
	LastError string    `json:"last_error,omitempty"`
	LastAt    time.Time `json:"last_attempt"`
}

// QueueDomains returns the state of every destination with mail waiting.
func (s *Store) QueueDomains(ctx context.Context) ([]QueueDomain, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT r.domain, SUM(CASE WHEN r.state = 'queued' THEN 1 ELSE 0 END), SUM(CASE WHEN r.state = 'held' THEN 1 ELSE 0 END),
		SUM(CASE WHEN r.state = 'queued' AND r.attempts > 0 THEN 1 ELSE 0 END), MIN(r.created_at),
		COALESCE(MAX(d.next_at), 0), COALESCE(MAX(d.failures), 0), COALESCE(MAX(d.last_error), ''), COALESCE(MAX(d.last_at), 0),
		COALESCE(MAX(CASE WHEN r.state = 'queued' THEN r.last_reply ELSE '' END), '')
		FROM outbound_rcpts r LEFT JOIN outbound_domains d ON d.domain = r.domain
		WHERE r.state IN ('queued', 'held') GROUP BY r.domain ORDER BY r.domain`))
	if err != nil {
		return nil, err
	}
	var out []QueueDomain
	for rows.Next() {
		var d QueueDomain
		var oldest, next, last int64
		var lastReply string
		if err := rows.Scan(&d.Domain, &d.Queued, &d.Held, &d.Deferred, &oldest, &next, &d.Failures, &d.LastError, &last, &lastReply); err != nil {
			rows.Close()
			return nil, err
		}
		d.Oldest, d.NextAt = time.Unix(oldest, 0).UTC(), time.Unix(next, 0).UTC()
		if last > 0 {
			d.LastAt = time.Unix(last, 0).UTC()
		}
		if d.LastError == "" {
			d.LastError = lastReply
		}
		out = append(out, d)
	}
	return out, errors.Join(rows.Err(), rows.Close())
}

// QueueSize returns how many recipients are queued (not held) and when the
// oldest of them was queued, through the age index.
func (s *Store) QueueSize(ctx context.Context) (int64, time.Time, error) {
	var n int64
	var oldest sql.NullInt64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*), MIN(created_at) FROM outbound_rcpts WHERE state = 'queued'`)).Scan(&n, &oldest)
	if err != nil || !oldest.Valid {
		return n, time.Time{}, err
	}
	return n, time.Unix(oldest.Int64, 0).UTC(), nil
}

// RecordRemoteDSN matches a delivery status notification that came back for
// one of our messages (by its Message-ID and the recipient it names) and
// records it on that recipient. It returns false when nothing matched.
func (s *Store) RecordRemoteDSN(ctx context.Context, messageID, rcpt, status string) (bool, error) {
	var matched bool
	err := s.Write(ctx, func(tx *Tx) error {
		r, err := tx.Exec(`UPDATE outbound_rcpts SET remote_dsn = ?, remote_dsn_at = ?
			WHERE lower(rcpt) = lower(?) AND msg_id IN (SELECT id FROM outbound_messages WHERE message_id = ?)`,
			truncateText(status, 1000), tx.s.now().Unix(), rcpt, messageID)
		if err != nil {
			return err
		}
		n, _ := r.RowsAffected()
		matched = n > 0
		return nil
	})
	return matched, err
}

// purgeOutbound withdraws the queued copies of a purged submission that
// have not left yet.
func purgeOutbound(tx *Tx, submissionID int64) (int64, error) {
	r, err := tx.Exec(`UPDATE outbound_rcpts SET state = 'deleted', done_at = ? WHERE state IN ('queued', 'held')
		AND msg_id IN (SELECT id FROM outbound_messages WHERE submission_id = ?)`, tx.s.now().Unix(), submissionID)
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

// traceOutbound adds a traced submission's outside recipients.
func (s *Store) traceOutbound(ctx context.Context, t *Trace) error {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+queuedMessageCols+`, `+queuedRcptCols+` FROM outbound_rcpts r JOIN outbound_messages m ON m.id = r.msg_id
		WHERE m.submission_id = ? ORDER BY r.id`), t.ID)
	if err != nil {
		return err
	}
	ms, err := collectQueued(rows)
	if err != nil {
		return err
	}
	t.Outbound = []*QueuedRcpt{}
	for _, m := range ms {
		t.Outbound = append(t.Outbound, m.Rcpts...)
	}
	return nil
}
