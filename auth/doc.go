// Package auth is Wardmail's sign-in (DESIGN section 5): argon2id password
// hashing in the PHC string format (RFC 9106) on a bounded worker pool, so
// that a storm of sign-ins cannot exhaust memory or CPU; the policy a new
// password must meet; app passwords for devices (random, stored as SHA-256,
// scoped to IMAP and/or SMTP, verified in microseconds); TOTP (RFC 6238)
// and recovery codes for webmail; and Login, which every door calls and
// which applies smart lockout (package lockout).
//
// Login never counts a failure the server caused: a store error, a slow
// store, a busy hashing pool or an injected fault is a temporary failure
// (ErrUnavailable), and wrong passwords shortly after one are not counted
// either. Every success, failure and lock goes to the audit trail, written
// in batches.
package auth
