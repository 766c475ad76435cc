package sqlite

// SchemaDSN keeps the delivery status notification parameters (RFC 3461)
// of queued mail: the envelope id (ENVID) and what a failure notice returns
// (RET) per message, and per recipient when the sender wants to hear
// (NOTIFY) and the address they first gave (ORCPT, "type;address").
var SchemaDSN = []string{`
ALTER TABLE outbound_messages ADD COLUMN envid TEXT NOT NULL DEFAULT '';
ALTER TABLE outbound_messages ADD COLUMN ret TEXT NOT NULL DEFAULT '';
ALTER TABLE outbound_rcpts ADD COLUMN notify TEXT NOT NULL DEFAULT '';
ALTER TABLE outbound_rcpts ADD COLUMN orcpt TEXT NOT NULL DEFAULT '';
`}
