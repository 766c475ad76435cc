package store

import (
	"context"
	"strings"
	"time"
)

// DMARC aggregate reporting (RFC 7489 7.2): results are counted per day,
// author domain, source address and outcome; a day's report is built once
// the day is over and put in the outbox.

// DMARCPolicy is a domain's DMARC record as published on a day, for a
// domain that asked for aggregate reports.
type DMARCPolicy struct {
	Day    int64 // Unix day (UTC): seconds / 86400
	Domain string
	ADKIM  string
	ASPF   string
	P      string
	SP     string
	Pct    int
	RUA    string // the rua= URIs, comma-separated, as published
}

// DMARCRow is one source's results of a day, counted.
type DMARCRow struct {
	SourceIP     string
	HeaderFrom   string
	EnvelopeFrom string
	Disposition  string // none, quarantine, reject
	DKIMAligned  string // pass, fail
	SPFAligned   string // pass, fail
	DKIM         string // "domain:result" pairs, space-separated
	SPF          string // "domain:result"
	Count        int64
}

// RecordDMARC counts one message's results for a domain that asked for
// reports.
func (s *Store) RecordDMARC(ctx context.Context, p DMARCPolicy, r DMARCRow) error {
	return s.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(`INSERT INTO dmarc_policies (day, domain, adkim, aspf, p, sp, pct, rua) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (day, domain) DO NOTHING`, p.Day, p.Domain, p.ADKIM, p.ASPF, p.P, p.SP, p.Pct, p.RUA); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO dmarc_rows (day, domain, source_ip, header_from, envelope_from, disposition, dkim_aligned, spf_aligned, dkim, spf, count)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
			ON CONFLICT (day, domain, source_ip, header_from, envelope_from, disposition, dkim_aligned, spf_aligned, dkim, spf)
			DO UPDATE SET count = dmarc_rows.count + 1`,
			p.Day, p.Domain, r.SourceIP, r.HeaderFrom, r.EnvelopeFrom, r.Disposition, r.DKIMAligned, r.SPFAligned, r.DKIM, r.SPF)
		return err
	})
}

// DMARCDue lists the reports of days before beforeDay not yet sent.
func (s *Store) DMARCDue(ctx context.Context, beforeDay int64) ([]DMARCPolicy, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT day, domain, adkim, aspf, p, sp, pct, rua FROM dmarc_policies
		WHERE reported_at = 0 AND day < ? ORDER BY day, domain LIMIT 1000`), beforeDay)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DMARCPolicy
	for rows.Next() {
		var p DMARCPolicy
		if err := rows.Scan(&p.Day, &p.Domain, &p.ADKIM, &p.ASPF, &p.P, &p.SP, &p.Pct, &p.RUA); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// DMARCRows returns a day's rows for a domain.
func (s *Store) DMARCRows(ctx context.Context, day int64, domain string) ([]DMARCRow, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT source_ip, header_from, envelope_from, disposition, dkim_aligned, spf_aligned, dkim, spf, count
		FROM dmarc_rows WHERE day = ? AND domain = ? ORDER BY source_ip, header_from, envelope_from, disposition, dkim, spf`), day, domain)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DMARCRow
	for rows.Next() {
		var r DMARCRow
		if err := rows.Scan(&r.SourceIP, &r.HeaderFrom, &r.EnvelopeFrom, &r.Disposition, &r.DKIMAligned, &r.SPFAligned, &r.DKIM, &r.SPF, &r.Count); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ClaimDMARC marks a day's report of a domain as sent and reports whether
// this caller got it: with several nodes, one sends each report.
func (s *Store) ClaimDMARC(ctx context.Context, day int64, domain string) (bool, error) {
	var got bool
	err := s.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE dmarc_policies SET reported_at = ? WHERE day = ? AND domain = ? AND reported_at = 0`,
			tx.s.now().Unix(), day, domain)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		got = n == 1
		return err
	})
	return got, err
}

// ReleaseDMARC gives a claim back: the report could not be queued, and the
// next round tries again.
func (s *Store) ReleaseDMARC(ctx context.Context, day int64, domain string) error {
	return s.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`UPDATE dmarc_policies SET reported_at = 0 WHERE day = ? AND domain = ?`, day, domain)
		return err
	})
}

// OutboxMessage is a message Wardmail wrote, waiting for the outbound
// queue.
type OutboxMessage struct {
	ID         int64
	Kind       string
	Sender     string
	Recipients []string
	Message    []byte
	Created    time.Time
}

// Enqueue keeps a report in the outbox until the outbound queue takes it
// (the interface the report writer uses: inbound.Enqueuer).
func (s *Store) Enqueue(ctx context.Context, from string, to []string, msg []byte) error {
	return s.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO outbox (kind, sender, recipients, message, created_at) VALUES (?, ?, ?, ?, ?)`,
			"report", from, strings.Join(to, ","), msg, tx.s.now().Unix())
		return err
	})
}

// Outbox lists the waiting messages, oldest first.
func (s *Store) Outbox(ctx context.Context, limit int) ([]OutboxMessage, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT id, kind, sender, recipients, message, created_at FROM outbox ORDER BY id LIMIT ?`), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OutboxMessage
	for rows.Next() {
		var m OutboxMessage
		var to string
		var at int64
		if err := rows.Scan(&m.ID, &m.Kind, &m.Sender, &to, &m.Message, &at); err != nil {
			return nil, err
		}
		m.Recipients, m.Created = strings.Split(to, ","), time.Unix(at, 0)
		out = append(out, m)
	}
	return out, rows.Err()
}

// RemoveFromOutbox drops a message the outbound queue has taken.
func (s *Store) RemoveFromOutbox(ctx context.Context, id int64) error {
	return s.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`DELETE FROM outbox WHERE id = ?`, id)
		return err
	})
}
