package sqlite

// SchemaStorm holds the reply-all storm breaker and the sender limits
// (DESIGN section 4):
//
//   - storm_threads: one row per thread that has had a reply to a large
//     audience: what the board shows, and the thread's block (automatic or
//     manual) with its end. unblocked_at is when an administrator last lifted
//     a block: replies before it no longer count toward the window.
//   - storm_replies: every large-audience reply accepted on a thread, for the
//     sliding window count (an index range scan per check).
//   - broadcast_senders: people authorised to reach more than the default
//     daily recipients, with their own quota.
//   - submissions_sender: the sender limits count a person's messages and
//     recipients (after list expansion) in the last minute and day from the
//     submissions table itself, so the limits survive a restart.
const SchemaStorm = `
CREATE TABLE storm_threads (
	thread_id TEXT PRIMARY KEY,
	subject TEXT NOT NULL DEFAULT '',
	first_sender TEXT NOT NULL DEFAULT '',
	audience INTEGER NOT NULL DEFAULT 0,
	replies INTEGER NOT NULL DEFAULT 0,
	braked INTEGER NOT NULL DEFAULT 0,
	refused INTEGER NOT NULL DEFAULT 0,
	first_at INTEGER NOT NULL,
	last_at INTEGER NOT NULL,
	blocked_at INTEGER NOT NULL DEFAULT 0,
	blocked_until INTEGER NOT NULL DEFAULT 0,
	blocked_by TEXT NOT NULL DEFAULT '',
	unblocked_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX storm_threads_last ON storm_threads(last_at);
CREATE TABLE storm_replies (
	thread_id TEXT NOT NULL,
	at INTEGER NOT NULL,
	message_id TEXT NOT NULL,
	sender TEXT NOT NULL,
	audience INTEGER NOT NULL,
	braked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX storm_replies_thread ON storm_replies(thread_id, at);
CREATE TABLE broadcast_senders (
	person_id INTEGER PRIMARY KEY REFERENCES people(id),
	recipients_per_day INTEGER NOT NULL,
	granted_by TEXT NOT NULL DEFAULT '',
	granted_at INTEGER NOT NULL
);
CREATE INDEX submissions_sender ON submissions(sender_id, created_at);
`
