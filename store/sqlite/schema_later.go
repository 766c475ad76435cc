package sqlite

// SchemaHeldPostTo records, for each held post, the list it goes to once
// approved. It is the list that held it, unless the post was to a list with
// this one inside it: then the moderators of the inner list decide, and the
// post goes to the outer list once every list that held it approves
// (list_rights.go, docs/lists.md).
const SchemaHeldPostTo = `
ALTER TABLE held ADD COLUMN post_list_id INTEGER NOT NULL DEFAULT 0;
UPDATE held SET post_list_id = list_id;
CREATE INDEX held_submission ON held(submission_id, post_list_id);
`

// SchemaRevocations lets a revocation reach sessions that are already open
// (DESIGN section 8: disable, password reset, app-password revoke and sign
// out everywhere reach live sessions within a second), in this process and
// in any other process on the same database (the CLI, other nodes):
//
//   - people.cred_gen: the person's credential generation, raised by every
//     revocation that ends all their sessions (disable, password change, sign
//     out everywhere). A session keeps the generation it signed in with and
//     ends when it differs.
//   - web_sessions.cred_gen: the same, for web sessions.
//   - signin_revocations: one row per revocation, which running servers poll
//     (like signin_unlocks) to learn which people to look at again;
//     app_password_id names a revoked app password (0: all sessions).
//   - totp.pending: a new authenticator secret waiting for its first code,
//     while the one in force (secret) stays in force: moving two-step
//     sign-in to a new phone never leaves the account without it.
const SchemaRevocations = `
ALTER TABLE people ADD COLUMN cred_gen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE web_sessions ADD COLUMN cred_gen INTEGER NOT NULL DEFAULT 0;
CREATE TABLE signin_revocations (
	id INTEGER PRIMARY KEY,
	person_id INTEGER NOT NULL,
	app_password_id INTEGER NOT NULL DEFAULT 0,
	reason TEXT NOT NULL,
	at INTEGER NOT NULL
);
CREATE INDEX signin_revocations_person ON signin_revocations(person_id, id);
ALTER TABLE totp ADD COLUMN pending BLOB;
`

// SchemaIMAP keeps the IMAP state that is not a message's.
//
// Subscriptions are a set of names, apart from the mailboxes (RFC 9051
// 6.3.7: a subscribed name stays subscribed when its mailbox is deleted, and
// LIST (SUBSCRIBED) shows it \NonExistent). Subscriptions kept in the old
// mailboxes.subscribed column are carried over; that column is no longer
// read.
//
// recent_uid is a mailbox's \Recent high-water mark (RFC 3501 2.3.2): the
// highest UID a session has already claimed as its own recent messages, as
// Dovecot keeps it. Messages stored before this step are not recent.
const SchemaIMAP = `
CREATE TABLE subscriptions (
	person_id INTEGER NOT NULL REFERENCES people(id),
	name TEXT NOT NULL,
	PRIMARY KEY (person_id, name)
);
INSERT INTO subscriptions (person_id, name) SELECT person_id, name FROM mailboxes WHERE subscribed <> 0;
ALTER TABLE mailboxes ADD COLUMN recent_uid INTEGER NOT NULL DEFAULT 0;
UPDATE mailboxes SET recent_uid = uid_next - 1;
`

// SchemaUIDValidity gives each mailbox a UIDVALIDITY of its own (RFC 9051
// 2.3.1.1). It used to be the mailbox's row id: small sequential numbers
// that a data folder rebuilt from scratch hands out again, so a caching
// client (Thunderbird, Apple Mail) would take the new mailbox's UIDs for
// the messages it cached from the old one and show stale mail.
//
//   - mailboxes.uid_validity: 0 for mailboxes made before this step, which
//     keep their id as UIDVALIDITY (changing it would make every client
//     fetch every mailbox again for nothing).
//   - uid_validity: one row, the last value handed out. Each new mailbox
//     takes the current time in seconds, or the last value plus one when
//     that is later, as the RFC suggests: values only increase, so a
//     mailbox deleted and created again always has a greater one, and a
//     data folder rebuilt later starts above the old one's values.
const SchemaUIDValidity = `
ALTER TABLE mailboxes ADD COLUMN uid_validity INTEGER NOT NULL DEFAULT 0;
CREATE TABLE uid_validity (
	last INTEGER NOT NULL
);
INSERT INTO uid_validity (last) VALUES (0);
`

// SchemaSaveDate records when each message was saved in its mailbox (RFC
// 8514 SAVEDATE): delivery, APPEND, COPY and MOVE set it to the moment of
// saving, while the internal date of a copy stays the original's (RFC 9051
// 2.3.3). Rows stored before this step have 0 and answer with their
// internal date, the closest thing known.
const SchemaSaveDate = `
ALTER TABLE mail ADD COLUMN saved_date INTEGER NOT NULL DEFAULT 0;
`
