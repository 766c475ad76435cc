package postgres

// schemaSendOptions translates store/sqlite's SchemaSendOptions.
var schemaSendOptions = []string{`
ALTER TABLE outbound_messages ADD COLUMN envid TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE outbound_messages ADD COLUMN ret TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE outbound_rcpts ADD COLUMN notify TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE outbound_rcpts ADD COLUMN orcpt TEXT COLLATE "C" NOT NULL DEFAULT '';
`, `
ALTER TABLE outbound_messages ADD COLUMN tls_optional BIGINT NOT NULL DEFAULT 0;
`}
