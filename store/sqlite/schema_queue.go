package sqlite

// SchemaQueue holds the outbound queue (package outbound): mail for
// recipients on other servers, kept until each recipient's server has taken
// it, refused it, or the retry time has run out.
//
//   - outbound_messages: one row per queued message. The body is the
//     submission's content row (stored once, whatever it was sent to);
//     skip is the length of our own Return-Path field at its top, which does
//     not leave (RFC 5321 4.4), and prefix the fields added for the way out
//     (DKIM-Signature). sender_id is the person who is told what became of
//     it: a DSN only ever goes to a signed-in sender, never to an address
//     taken from a message (no backscatter). dsn marks a notice that must
//     not itself be bounced.
//   - outbound_rcpts: one row per recipient with its state (queued, held,
//     delivered, failed, deleted), the next attempt and the remote's last
//     words. The partial index on (domain, next_at) of queued rows is the
//     next-attempt index: the scheduler reads only what is due, per
//     destination, never the whole queue.
//   - outbound_domains: one row per destination with its own back-off, so
//     that a destination that is down costs one row's update per attempt
//     however many messages wait for it.
const SchemaQueue = `
CREATE TABLE outbound_messages (
	id INTEGER PRIMARY KEY,
	submission_id INTEGER NOT NULL DEFAULT 0,
	queue_id TEXT NOT NULL,
	message_id TEXT NOT NULL DEFAULT '',
	subject TEXT NOT NULL DEFAULT '',
	sender TEXT NOT NULL,
	sender_id INTEGER NOT NULL DEFAULT 0,
	content_id INTEGER NOT NULL,
	skip INTEGER NOT NULL DEFAULT 0,
	prefix BLOB,
	size INTEGER NOT NULL,
	eight_bit INTEGER NOT NULL DEFAULT 0,
	smtputf8 INTEGER NOT NULL DEFAULT 0,
	require_tls INTEGER NOT NULL DEFAULT 0,
	dsn INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL
);
CREATE INDEX outbound_messages_message ON outbound_messages(message_id);
CREATE INDEX outbound_messages_queue ON outbound_messages(queue_id);
CREATE TABLE outbound_rcpts (
	id INTEGER PRIMARY KEY,
	msg_id INTEGER NOT NULL,
	rcpt TEXT NOT NULL,
	domain TEXT NOT NULL,
	state TEXT NOT NULL DEFAULT 'queued',
	attempts INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	next_at INTEGER NOT NULL,
	last_at INTEGER NOT NULL DEFAULT 0,
	last_code INTEGER NOT NULL DEFAULT 0,
	last_reply TEXT NOT NULL DEFAULT '',
	mx TEXT NOT NULL DEFAULT '',
	tls TEXT NOT NULL DEFAULT '',
	delay_notified INTEGER NOT NULL DEFAULT 0,
	done_at INTEGER NOT NULL DEFAULT 0,
	remote_dsn TEXT NOT NULL DEFAULT '',
	remote_dsn_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbound_rcpts_due ON outbound_rcpts(domain, next_at) WHERE state = 'queued';
CREATE INDEX outbound_rcpts_age ON outbound_rcpts(created_at) WHERE state = 'queued';
CREATE INDEX outbound_rcpts_msg ON outbound_rcpts(msg_id);
CREATE TABLE outbound_domains (
	domain TEXT PRIMARY KEY,
	next_at INTEGER NOT NULL DEFAULT 0,
	failures INTEGER NOT NULL DEFAULT 0,
	last_at INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT ''
);
`
