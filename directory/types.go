package directory

import "wardmail/store"

// The directory's records as the doors name them. The storage backends
// define them (they are rows); the doors reach them through this service,
// not through the storage package.
type (
	// Person is someone in the directory.
	Person = store.Person
	// Org is an organisation with its head count.
	Org = store.Org
)
