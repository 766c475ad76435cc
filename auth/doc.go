// Package auth holds Wardmail's password handling: argon2id hashing in the PHC
// string format (RFC 9106 for the algorithm, the PHC string format of the
// reference implementation for storage), a bounded worker pool so that a storm
// of sign-ins cannot exhaust memory or CPU, and the policy a new password must
// meet.
//
// TOTP and app passwords will live here too; they are not written yet.
package auth
