// Package directory reads the national directory of people for import:
// `wardmail directory import --data DIR FILE.csv`. It parses and validates the
// CSV file (RFC 4180) and hands each entry to the caller, which writes it to
// the store inside one transaction; the store side lives in package store.
//
// It also holds ValidateAddress, the one definition of a mailbox address
// (RFC 5321 4.1.2) the rest of Wardmail accepts.
package directory
