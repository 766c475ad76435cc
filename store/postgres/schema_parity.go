package postgres

// ParityMigrations translates store/sqlite's ParityMigrations, step for step.
var ParityMigrations = []string{
	schemaOnce,
}

const schemaOnce = `
ALTER TABLE mail ADD COLUMN via_post BIGINT NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX mail_post_once ON mail(mailbox_id, content_id) WHERE via_post <> 0;
CREATE UNIQUE INDEX posts_once ON posts(list_id, submission_id);
`
