package auth

import "wardmail/store"

// The records of sign-in as the doors name them (rows the storage defines;
// docs/decisions.md), so that a door names the service and not the storage.
type (
	// Person is who signed in.
	Person = store.Person
	// CredWatch ends a door's open session when the person's credentials
	// are revoked (store/revoke.go).
	CredWatch = store.CredWatch
)
