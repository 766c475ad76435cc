package sqlite

// ParityMigrations make the database itself hold rules that used to hold
// only because one process wrote (docs/postgres.md, "Before several nodes
// share a database"). They are appended to Migrations.
var ParityMigrations = []string{
	SchemaOnce,
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
