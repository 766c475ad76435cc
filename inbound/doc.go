// Package inbound decides what to make of a message that arrives from
// another server on the inbound door: who sent it (SPF, RFC 7208, for MAIL
// FROM and HELO; DKIM, RFC 6376 with RSA and Ed25519 per RFC 8463; DMARC,
// RFC 7489, with relaxed or strict alignment on the organisational domain;
// ARC, RFC 8617, so that mail forwarded by a list or a trusted forwarder is
// judged fairly), and what to do with it: accept, deliver to Junk, or refuse
// at the door with 550 5.7.1 and the reason.
//
// A local domain is always treated as p=reject for mail from outside, so a
// forged colleague is refused; trusted relays (by network) are exempt. The
// verdict is written into the message as one Authentication-Results field
// (RFC 8601) under Wardmail's authserv-id, and as a Wardmail-Origin field
// that the webmail and IMAP clients read to warn about mail from outside the
// health service and about senders that look like someone inside it
// (look-alike domains, a directory person's display name).
//
// Every DNS lookup goes through the resolver the operator names
// (netdns.Resolver).
package inbound
