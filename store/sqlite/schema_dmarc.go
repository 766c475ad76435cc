package sqlite

// DMARCSteps are the schema steps of DMARC aggregate reporting (RFC 7489
// 7.2) and of the outbox that holds mail Wardmail writes itself until the
// outbound queue delivers it (store/dmarc.go).
var DMARCSteps = []string{SchemaDMARC}

// SchemaDMARC:
//
//   - dmarc_policies: one row per UTC day (Unix day number) and author
//     domain that asked for aggregate reports (rua=), with the policy as
//     published that day; reported_at is set once, by the node that
//     sends the day's report.
//   - dmarc_rows: the day's results for that domain, one row per source
//     address and outcome, counted.
//   - outbox: messages Wardmail wrote (reports) waiting for the outbound
//     queue.
const SchemaDMARC = `
CREATE TABLE dmarc_policies (
	day INTEGER NOT NULL,
	domain TEXT NOT NULL,
	adkim TEXT NOT NULL,
	aspf TEXT NOT NULL,
	p TEXT NOT NULL,
	sp TEXT NOT NULL,
	pct INTEGER NOT NULL,
	rua TEXT NOT NULL,
	reported_at INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (day, domain)
);
CREATE TABLE dmarc_rows (
	day INTEGER NOT NULL,
	domain TEXT NOT NULL,
	source_ip TEXT NOT NULL,
	header_from TEXT NOT NULL,
	envelope_from TEXT NOT NULL,
	disposition TEXT NOT NULL,
	dkim_aligned TEXT NOT NULL,
	spf_aligned TEXT NOT NULL,
	dkim TEXT NOT NULL,
	spf TEXT NOT NULL,
	count INTEGER NOT NULL,
	PRIMARY KEY (day, domain, source_ip, header_from, envelope_from, disposition, dkim_aligned, spf_aligned, dkim, spf)
);
CREATE TABLE outbox (
	id INTEGER PRIMARY KEY,
	kind TEXT NOT NULL,
	sender TEXT NOT NULL,
	recipients TEXT NOT NULL,
	message BLOB NOT NULL,
	created_at INTEGER NOT NULL
);
`
