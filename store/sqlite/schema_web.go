package sqlite

// SchemaWeb holds what webmail and the JSON API need:
//
//   - web_sessions: one row per signed-in browser. The cookie carries a random
//     token; only its SHA-256 is stored, so a copy of the database signs no
//     one in. Sessions end after an idle time and at an absolute expiry.
//   - web_uploads: attachments uploaded while composing, until the message
//     that carries them is sent or the upload expires.
//   - mail_date: the message list is sorted by date, newest first, and paged
//     by offset; this index covers that query.
//   - people_name_lower, people_surname_lower: directory autocomplete by the
//     start of a name or of its last part ("khan" finds "Amira Khan").
//     Addresses are found through the UNIQUE index on people(email).
//     (store/postgres indexes the same expression with strpos for instr.)
const SchemaWeb = `
CREATE TABLE web_sessions (
	token_hash TEXT PRIMARY KEY,
	person_id INTEGER NOT NULL REFERENCES people(id),
	csrf TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	last_seen INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	remote TEXT NOT NULL DEFAULT '',
	agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX web_sessions_person ON web_sessions(person_id);
CREATE TABLE web_uploads (
	id TEXT PRIMARY KEY,
	person_id INTEGER NOT NULL REFERENCES people(id),
	filename TEXT NOT NULL,
	content_type TEXT NOT NULL,
	size INTEGER NOT NULL,
	data BLOB NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX web_uploads_person ON web_uploads(person_id, created_at);
CREATE INDEX mail_date ON mail(mailbox_id, internal_date, uid);
CREATE INDEX people_name_lower ON people(lower(name));
CREATE INDEX people_surname_lower ON people(lower(substr(name, instr(name, ' ') + 1)));
`
