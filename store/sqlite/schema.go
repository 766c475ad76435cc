package sqlite

import "slices"

// Migrations is every SQLite schema step in order: step i brings a database
// from version i to i+1. Steps are never edited once released (data folders
// in use have run them): a change is a new step. store/postgres keeps its
// own translation of each step, in the same order; its tests check that
// both lists create the same tables and columns.
var Migrations = slices.Concat([]string{
	SchemaV1,
	SchemaLists,              // lists.go: lists, post log, submissions, admins, audit
	SchemaSignIn,             // signin.go: app passwords, lockout, TOTP
	SchemaWeb,                // websession.go: web sessions
	SchemaStorm,              // storm.go: reply-all storm breaker, sender limits
	SchemaSignInFingerprints, // signin_lockout.go: wrong-password fingerprints kept across restarts
	SchemaAuditOrgs,          // audit_orgs.go: the organisations an audit entry concerns
	SchemaThreads,            // threads.go: conversation keys per body
	SchemaWords,              // words.go: the word index of body search
	SchemaHeldPostTo,         // held.go: the list a held post goes to once every moderator approves
	SchemaRevocations,        // revoke.go: credential generations, revocations that reach live sessions
	SchemaIMAP,               // schema_imap.go: subscriptions by name, the \Recent high-water mark
	SchemaUIDValidity,        // uidvalidity.go: a UIDVALIDITY per mailbox that a rebuilt data folder does not repeat
	SchemaSaveDate,           // schema_imap.go: when each message was saved in its mailbox (RFC 8514)
	SchemaWordsWhole,         // words.go: which bodies the word index holds in part (IMAP SEARCH BODY/TEXT)
	SchemaCluster,            // schema_cluster.go: the nodes of a cluster and who runs each background job
},
	QuarantineSteps,       // schema_quarantine.go: the administrators' quarantine
	SchemaTLSRPT,          // schema_tlsrpt.go: TLS report results, reports sent and received (RFC 8460)
	DMARCSteps,            // schema_dmarc.go: DMARC results for aggregate reports, the outbox
	[]string{SchemaQueue}, // schema_queue.go: the outbound queue
	ParityMigrations,      // schema_parity.go: invariants the database holds (a post once per mailbox, sender limits)
	QueueDueSteps,         // schema_queue_due.go: the queue's due index in batch order
	SubmissionSteps,       // schema_submissions.go: partial indexes of submissions (replies, our own senders)
	SharedStateSteps,      // schema_shared.go: the storm breaker's and lockout's state that several servers share
	SchemaSendOptions,     // schema_sendopts.go: DSN parameters (RFC 3461), TLS-Required: No (RFC 8689)
	UpgradeSteps,          // schema_upgrades.go: each node's known schema step, the floor contract steps raise
)

// SchemaV1 is the first schema. INTEGER PRIMARY KEY is an alias of the rowid;
// AUTOINCREMENT keeps a mailbox id from ever being reused (it is the
// mailbox's UIDVALIDITY).
//
// Dates are Unix seconds. Flags are a bit set (FlagSeen...) plus a
// space-separated list of keywords, so unseen counts are an indexable
// "flags & 1 = 0" in both databases.
const SchemaV1 = `
CREATE TABLE orgs (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	code TEXT NOT NULL DEFAULT ''
);
CREATE TABLE people (
	id INTEGER PRIMARY KEY,
	email TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL DEFAULT '',
	org_id INTEGER NOT NULL REFERENCES orgs(id),
	role TEXT NOT NULL DEFAULT '',
	site TEXT NOT NULL DEFAULT '',
	password_hash TEXT NOT NULL DEFAULT '',
	disabled INTEGER NOT NULL DEFAULT 0,
	quota_bytes INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
CREATE INDEX people_org ON people(org_id);
CREATE TABLE domains (
	name TEXT PRIMARY KEY
);
CREATE TABLE mailboxes (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	person_id INTEGER NOT NULL REFERENCES people(id),
	name TEXT NOT NULL,
	special_use TEXT NOT NULL DEFAULT '',
	uid_next INTEGER NOT NULL DEFAULT 1,
	highest_modseq INTEGER NOT NULL DEFAULT 1,
	subscribed INTEGER NOT NULL DEFAULT 1,
	created_at INTEGER NOT NULL,
	UNIQUE (person_id, name)
);
CREATE TABLE contents (
	id INTEGER PRIMARY KEY,
	hash TEXT NOT NULL UNIQUE,
	size INTEGER NOT NULL,
	inline_body BLOB,
	summary BLOB NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE TABLE mail (
	mailbox_id INTEGER NOT NULL,
	uid INTEGER NOT NULL,
	content_id INTEGER NOT NULL REFERENCES contents(id),
	flags INTEGER NOT NULL DEFAULT 0,
	keywords TEXT NOT NULL DEFAULT '',
	modseq INTEGER NOT NULL,
	internal_date INTEGER NOT NULL,
	PRIMARY KEY (mailbox_id, uid)
);
CREATE INDEX mail_modseq ON mail(mailbox_id, modseq);
CREATE INDEX mail_content ON mail(content_id);
CREATE TABLE vanished (
	mailbox_id INTEGER NOT NULL,
	uid INTEGER NOT NULL,
	modseq INTEGER NOT NULL,
	PRIMARY KEY (mailbox_id, uid)
);
`

// SchemaAuditOrgs is the migration that adds audit_orgs.
const SchemaAuditOrgs = `
CREATE TABLE audit_orgs (
	audit_id INTEGER NOT NULL,
	org_id INTEGER NOT NULL,
	PRIMARY KEY (org_id, audit_id)
);
CREATE INDEX audit_orgs_entry ON audit_orgs(audit_id);
`

// SchemaThreads adds each body's conversation keys (message.ThreadKeys):
// hashes of its Message-ID, parent, root and base subject (negative when
// the subject had a reply prefix). They are written with the body, once
// however many people receive it; bodies stored before this step have
// zeros and are worked out from their summary when a folder is grouped.
const SchemaThreads = `
ALTER TABLE contents ADD COLUMN thread_self INTEGER NOT NULL DEFAULT 0;
ALTER TABLE contents ADD COLUMN thread_parent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE contents ADD COLUMN thread_root INTEGER NOT NULL DEFAULT 0;
ALTER TABLE contents ADD COLUMN thread_subject INTEGER NOT NULL DEFAULT 0;
`

// SchemaWords adds the word index of body search (docs/decisions.md, "Search:
// a word index per body"). Postings are per body (contents), so a list post
// read by a million people is indexed once; search_words is the vocabulary,
// which turns a prefix ("hep") into the words it starts ("heparin"). Bodies
// are indexed after delivery by a background indexer (IndexWords), and
// bodies stored before this step are indexed by the same path; the partial
// index finds the ones still waiting. WITHOUT ROWID keeps each table a
// single B-tree on its primary key.
const SchemaWords = `
ALTER TABLE contents ADD COLUMN words_indexed INTEGER NOT NULL DEFAULT 0;
CREATE INDEX contents_unindexed ON contents(id) WHERE words_indexed = 0;
CREATE TABLE body_words (
	word_hash INTEGER NOT NULL,
	content_id INTEGER NOT NULL,
	PRIMARY KEY (word_hash, content_id)
) WITHOUT ROWID;
CREATE TABLE search_words (
	word TEXT PRIMARY KEY
) WITHOUT ROWID;
`

// SchemaWordsWhole tells bodies whose every word is in the word index (words_indexed
// 1) from those indexed in part (2: text past the indexed length, a word
// longer than WordMax, more words than a body keeps), which a substring
// search (IMAP SEARCH BODY, TEXT) must read. Bodies indexed before this step
// do not say which they are, so they are indexed again by the background
// indexer (postings are kept; re-adding one is a no-op); until then
// searches read them, as they read any body waiting for the indexer.
const SchemaWordsWhole = `
CREATE INDEX contents_partial_words ON contents(id) WHERE words_indexed = 2;
UPDATE contents SET words_indexed = 0 WHERE words_indexed <> 0;
`
