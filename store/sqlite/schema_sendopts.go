package sqlite

// SchemaSendOptions keeps what a sender asked of the delivery of queued
// mail, beyond the message itself:
//
//   - the delivery status notification parameters (RFC 3461): the envelope
//     id (ENVID) and what a failure notice returns (RET) per message, and
//     per recipient when the sender wants to hear (NOTIFY) and the address
//     they first gave (ORCPT, "type;address");
//   - "TLS-Required: No" (RFC 8689 5): MTA-STS and DANE set aside.
var SchemaSendOptions = []string{`
ALTER TABLE outbound_messages ADD COLUMN envid TEXT NOT NULL DEFAULT '';
ALTER TABLE outbound_messages ADD COLUMN ret TEXT NOT NULL DEFAULT '';
ALTER TABLE outbound_rcpts ADD COLUMN notify TEXT NOT NULL DEFAULT '';
ALTER TABLE outbound_rcpts ADD COLUMN orcpt TEXT NOT NULL DEFAULT '';
`, `
ALTER TABLE outbound_messages ADD COLUMN tls_optional INTEGER NOT NULL DEFAULT 0;
`}
