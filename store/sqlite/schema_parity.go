package sqlite

// ParityMigrations make the database itself hold rules that used to hold
// only because one process wrote (docs/postgres.md, "Before several nodes
// share a database"). They are appended to Migrations.
var ParityMigrations = []string{
	SchemaOnce,
	SchemaSenderInflight,
}

// SchemaOnce:
//
//   - mail.via_post marks a row that a list post put in a mailbox
//     (materialise). A post reaches a mailbox once, whichever lists brought
//     it and however many writers materialise at the same moment: the
//     partial unique index refuses a second row for the same body from the
//     post log (DESIGN section 3, invariant 2). Rows delivered by name,
//     appended or copied by a client are not constrained: a person may keep
//     two copies of a message they saved twice.
//   - A submission is posted to a list's log once: an approval that two
//     moderators give at the same moment adds one post.
const SchemaOnce = `
ALTER TABLE mail ADD COLUMN via_post INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX mail_post_once ON mail(mailbox_id, content_id) WHERE via_post <> 0;
CREATE UNIQUE INDEX posts_once ON posts(list_id, submission_id);
`

// SchemaSenderInflight keeps the sender limits exact however many processes
// accept mail (DESIGN section 6): a message let through the limits but not
// yet stored is a row of sender_inflight, counted with the person's
// submissions under the lock of their sender_locks row
// (sender_limits.go). A row left by a process that died is ignored after
// a few minutes.
const SchemaSenderInflight = `
CREATE TABLE sender_locks (
	sender_id INTEGER PRIMARY KEY
);
CREATE TABLE sender_inflight (
	id INTEGER PRIMARY KEY,
	sender_id INTEGER NOT NULL,
	recipients INTEGER NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX sender_inflight_sender ON sender_inflight(sender_id, created_at);
`
