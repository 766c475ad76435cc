package admin

import "wardmail/store"

// The records of administration as the doors name them (rows the storage
// defines).
type (
	// AuditQuery filters and pages the audit trail (Audit).
	AuditQuery = store.AuditQuery
	// PersonList is a list a person is on or owns (Detail).
	PersonList = store.PersonList
)

// Administrator roles (Grant).
const (
	RoleLocal    = store.RoleLocal
	RoleNational = store.RoleNational
)
