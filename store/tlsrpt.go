package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"wardmail/tlsrpt"
)

// RecordTLSResult adds a connection outcome to its day's count (RFC 8460
// reports are built from these).
func (s *Store) RecordTLSResult(ctx context.Context, r tlsrpt.Result) error {
	result := "success"
	if !r.Success {
		result = r.FailureType
	}
	if r.Count <= 0 {
		r.Count = 1
	}
	return s.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO tls_results (day, policy_domain, policy_type, policy_string, mx_host, receiving_ip, result, count)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (day, policy_domain, policy_type, mx_host, receiving_ip, result)
			DO UPDATE SET count = tls_results.count + excluded.count, policy_string = excluded.policy_string`,
			r.Day.UTC().Truncate(24*time.Hour).Unix(), r.PolicyDomain, r.PolicyType, strings.Join(r.PolicyString, "\n"),
			r.MXHost, r.ReceivingIP, result, r.Count)
		return err
	})
}

// TLSResults returns a day's outcomes, by policy domain.
func (s *Store) TLSResults(ctx context.Context, day time.Time) ([]tlsrpt.Result, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT policy_domain, policy_type, policy_string, mx_host, receiving_ip, result, count
		FROM tls_results WHERE day = ? ORDER BY policy_domain, policy_type, mx_host, result`), day.UTC().Truncate(24*time.Hour).Unix())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []tlsrpt.Result
	for rows.Next() {
		r := tlsrpt.Result{Day: day.UTC().Truncate(24 * time.Hour)}
		var policy, result string
		if err := rows.Scan(&r.PolicyDomain, &r.PolicyType, &policy, &r.MXHost, &r.ReceivingIP, &result, &r.Count); err != nil {
			return nil, err
		}
		if policy != "" {
			r.PolicyString = strings.Split(policy, "\n")
		}
		r.Success = result == "success"
		if !r.Success {
			r.FailureType = result
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// MarkTLSReportSent records that a day's report to a domain went out; false
// when it had already been (another node, or before a restart).
func (s *Store) MarkTLSReportSent(ctx context.Context, day time.Time, domain string) (bool, error) {
	var fresh bool
	err := s.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`INSERT INTO tls_reports_sent (day, policy_domain, sent_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
			day.UTC().Truncate(24*time.Hour).Unix(), domain, tx.s.now().Unix())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		fresh = n == 1
		return err
	})
	return fresh, err
}

// AddTLSReport keeps a report received about one of our domains; a report
// already kept (same organisation and report id) is not kept twice.
func (s *Store) AddTLSReport(ctx context.Context, r tlsrpt.Received) error {
	return s.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO tls_reports_received (received_at, organization, report_id, start_at, end_at, policy_domain, successes, failures, report)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (organization, report_id) DO NOTHING`,
			tx.s.now().Unix(), r.Organization, r.ReportID, r.Start.Unix(), r.End.Unix(), r.PolicyDomain, r.Successes, r.Failures, string(r.JSON))
		return err
	})
}

// TLSReports lists received reports, newest first; domain "" is every domain.
func (s *Store) TLSReports(ctx context.Context, domain string, limit int) ([]tlsrpt.Received, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT id, received_at, organization, report_id, start_at, end_at, policy_domain, successes, failures, report
		FROM tls_reports_received WHERE (? = '' OR policy_domain = ?) ORDER BY start_at DESC, id DESC LIMIT ?`), domain, domain, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []tlsrpt.Received
	for rows.Next() {
		var r tlsrpt.Received
		var received, start, end int64
		var js string
		if err := rows.Scan(&r.ID, &received, &r.Organization, &r.ReportID, &start, &end, &r.PolicyDomain, &r.Successes, &r.Failures, &js); err != nil {
			return nil, err
		}
		r.ReceivedAt, r.Start, r.End, r.JSON = time.Unix(received, 0).UTC(), time.Unix(start, 0).UTC(), time.Unix(end, 0).UTC(), []byte(js)
		out = append(out, r)
	}
	return out, rows.Err()
}

// TLSReport returns one received report by id.
func (s *Store) TLSReport(ctx context.Context, id int64) (tlsrpt.Received, error) {
	var r tlsrpt.Received
	var received, start, end int64
	var js string
	err := s.r.QueryRowContext(ctx, s.q(`SELECT id, received_at, organization, report_id, start_at, end_at, policy_domain, successes, failures, report
		FROM tls_reports_received WHERE id = ?`), id).Scan(&r.ID, &received, &r.Organization, &r.ReportID, &start, &end, &r.PolicyDomain, &r.Successes, &r.Failures, &js)
	if errors.Is(err, sql.ErrNoRows) {
		return r, ErrNotFound
	}
	r.ReceivedAt, r.Start, r.End, r.JSON = time.Unix(received, 0).UTC(), time.Unix(start, 0).UTC(), time.Unix(end, 0).UTC(), []byte(js)
	return r, err
}

// Domains lists the directory's mail domains.
func (s *Store) Domains(ctx context.Context) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name FROM domains ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// MTASTSPolicy returns the cached MTA-STS policy of a domain; ok is false
// when none is cached.
func (s *Store) MTASTSPolicy(ctx context.Context, domain string) (id, text string, expires time.Time, ok bool, err error) {
	var exp int64
	err = s.r.QueryRowContext(ctx, s.q(`SELECT policy_id, policy, expires_at FROM mta_sts_policies WHERE domain = ?`), domain).Scan(&id, &text, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", time.Time{}, false, nil
	}
	return id, text, time.Unix(exp, 0), err == nil, err
}

// SaveMTASTSPolicy caches a domain's MTA-STS policy until expires.
func (s *Store) SaveMTASTSPolicy(ctx context.Context, domain, id, text string, expires time.Time) error {
	return s.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO mta_sts_policies (domain, policy_id, policy, fetched_at, expires_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (domain) DO UPDATE SET policy_id = excluded.policy_id, policy = excluded.policy,
			fetched_at = excluded.fetched_at, expires_at = excluded.expires_at`, domain, id, text, tx.s.now().Unix(), expires.Unix())
		return err
	})
}
