package sqlite

// SchemaTLSRPT holds SMTP TLS reporting (RFC 8460, package tlsrpt):
//
//   - tls_results: outbound connection outcomes counted per UTC day, policy
//     domain, policy type, MX host, receiving address and result ("success"
//     or an RFC 8460 4.3 result type), the material of the daily reports.
//   - tls_reports_sent: the days already reported to a domain, so that a
//     restart does not send a report twice.
//   - tls_reports_received: reports other operators sent about our domains,
//     as received (the JSON) with the totals administrators see.
var SchemaTLSRPT = []string{`
CREATE TABLE tls_results (
	day INTEGER NOT NULL,
	policy_domain TEXT NOT NULL,
	policy_type TEXT NOT NULL,
	policy_string TEXT NOT NULL DEFAULT '',
	mx_host TEXT NOT NULL,
	receiving_ip TEXT NOT NULL DEFAULT '',
	result TEXT NOT NULL,
	count INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (day, policy_domain, policy_type, mx_host, receiving_ip, result)
);
CREATE TABLE tls_reports_sent (
	day INTEGER NOT NULL,
	policy_domain TEXT NOT NULL,
	sent_at INTEGER NOT NULL,
	PRIMARY KEY (day, policy_domain)
);
CREATE TABLE tls_reports_received (
	id INTEGER PRIMARY KEY,
	received_at INTEGER NOT NULL,
	organization TEXT NOT NULL,
	report_id TEXT NOT NULL,
	start_at INTEGER NOT NULL,
	end_at INTEGER NOT NULL,
	policy_domain TEXT NOT NULL,
	successes INTEGER NOT NULL,
	failures INTEGER NOT NULL,
	report TEXT NOT NULL,
	UNIQUE (organization, report_id)
);
CREATE INDEX tls_reports_received_domain ON tls_reports_received(policy_domain, start_at);
`,
	// mta_sts_policies: MTA-STS policies of the domains we send to, kept
	// until they expire (RFC 8461 5.1: a cache that outlives a restart,
	// so that an attacker who blocks the policy fetch after one cannot
	// downgrade mail to plain text).
	`
CREATE TABLE mta_sts_policies (
	domain TEXT PRIMARY KEY,
	policy_id TEXT NOT NULL,
	policy TEXT NOT NULL,
	fetched_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
`}
