package store

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
