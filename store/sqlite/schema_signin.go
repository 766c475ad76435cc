package sqlite

// SchemaSignIn holds what sign-in needs beyond the password hash (DESIGN
// section 5):
//
//   - app_passwords: per-device passwords, stored as SHA-256 (they are random
//     and long, so a fast hash is enough), scoped to protocols, with the time
//     and address of last use. Revoking deletes the row; the audit trail keeps
//     the history.
//   - signin_counters: smart-lockout state per (account, source). account is
//     the address as typed, lower-cased, so that names with no person lock
//     too and a lock tells nothing about who exists. source is a network
//     ("4:192.0.2.0/24", "6:2001:db8::/56"), a known device ("d:..."), or
//     "*" for the account's shared unfamiliar budget.
//   - signin_familiar: the last successful sign-in per (account, source);
//     a source used successfully in the last 30 days is familiar.
//   - signin_unlocks: unlocks done by administrators (the CLI or the server),
//     which a running server polls to drop what it holds in memory.
//   - signin_control: small switches shared by the server and the CLI
//     ("incident" = "on" stops all lockout counting).
//   - totp and recovery_codes: second factors for webmail (RFC 6238).
const SchemaSignIn = `
CREATE TABLE app_passwords (
	id INTEGER PRIMARY KEY,
	person_id INTEGER NOT NULL REFERENCES people(id),
	name TEXT NOT NULL,
	hash BLOB NOT NULL UNIQUE,
	scopes TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	last_used_at INTEGER NOT NULL DEFAULT 0,
	last_used_from TEXT NOT NULL DEFAULT '',
	UNIQUE (person_id, name)
);
CREATE TABLE signin_counters (
	account TEXT NOT NULL,
	source TEXT NOT NULL,
	familiar INTEGER NOT NULL DEFAULT 0,
	failures INTEGER NOT NULL DEFAULT 0,
	locks INTEGER NOT NULL DEFAULT 0,
	locked_at INTEGER NOT NULL DEFAULT 0,
	locked_until INTEGER NOT NULL DEFAULT 0,
	last_failure INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (account, source)
);
CREATE INDEX signin_counters_locked ON signin_counters(locked_until);
CREATE INDEX signin_counters_last ON signin_counters(last_failure);
CREATE TABLE signin_familiar (
	account TEXT NOT NULL,
	source TEXT NOT NULL,
	last_success INTEGER NOT NULL,
	PRIMARY KEY (account, source)
);
CREATE TABLE signin_unlocks (
	id INTEGER PRIMARY KEY,
	account TEXT NOT NULL,
	at INTEGER NOT NULL,
	actor TEXT NOT NULL
);
CREATE TABLE signin_control (
	key TEXT PRIMARY KEY,
	value TEXT NOT NULL,
	updated_at INTEGER NOT NULL
);
CREATE TABLE totp (
	person_id INTEGER PRIMARY KEY REFERENCES people(id),
	secret BLOB NOT NULL,
	enabled_at INTEGER NOT NULL DEFAULT 0,
	last_step INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE recovery_codes (
	person_id INTEGER NOT NULL REFERENCES people(id),
	hash BLOB NOT NULL,
	created_at INTEGER NOT NULL,
	used_at INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (person_id, hash)
);
`

// SchemaSignInFingerprints keeps each counter's last wrong-password
// fingerprints (keyed, truncated hashes; hex, 8 digits each) with the
// counter, so that a device retrying the same stale password is not counted
// again after a restart.
const SchemaSignInFingerprints = `
ALTER TABLE signin_counters ADD COLUMN fingerprints TEXT NOT NULL DEFAULT '';
`
