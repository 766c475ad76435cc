package sqlite

// QuarantineSteps are the migrations of the scanning work, appended to
// Migrations (schema.go).
var QuarantineSteps = []string{SchemaQuarantine}

// SchemaQuarantine holds messages the scanner kept from their recipients
// (package scan): the body stays once in contents, the submission row says
// "quarantined", and each recipient has its own state so that an
// administrator releases or deletes it for the people of their
// organisations only. A list whose moderators held the post (held_reason,
// post_list_id, hold_seconds as in held) gets it back in its moderation
// queue when released: the quarantine does not skip the list's moderators.
const SchemaQuarantine = `
CREATE TABLE quarantine (
	id INTEGER PRIMARY KEY,
	submission_id INTEGER NOT NULL,
	content_id INTEGER NOT NULL,
	queue_id TEXT NOT NULL,
	sender TEXT NOT NULL,
	subject TEXT NOT NULL DEFAULT '',
	kind TEXT NOT NULL,
	reason TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE TABLE quarantine_rcpts (
	quarantine_id INTEGER NOT NULL,
	address TEXT NOT NULL,
	person_id INTEGER NOT NULL DEFAULT 0,
	list_id INTEGER NOT NULL DEFAULT 0,
	post_list_id INTEGER NOT NULL DEFAULT 0,
	held_reason TEXT NOT NULL DEFAULT '',
	hold_seconds INTEGER NOT NULL DEFAULT 0,
	state TEXT NOT NULL DEFAULT 'held',
	decided_by TEXT NOT NULL DEFAULT '',
	decided_at INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (quarantine_id, address)
);
CREATE INDEX quarantine_rcpts_held ON quarantine_rcpts(state, quarantine_id);
`
