package postgres

// schemaDSN translates store/sqlite's SchemaDSN.
var schemaDSN = []string{`
ALTER TABLE outbound_messages ADD COLUMN envid TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE outbound_messages ADD COLUMN ret TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE outbound_rcpts ADD COLUMN notify TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE outbound_rcpts ADD COLUMN orcpt TEXT COLLATE "C" NOT NULL DEFAULT '';
`}
