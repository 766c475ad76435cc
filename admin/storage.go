package admin

import (
	"context"
	"time"

	"wardmail/privilege"
	"wardmail/store"
	"wardmail/tlsrpt"
)

// Storage is what the administration service needs from the database;
// *store.Store implements it (asserted in server wiring). Each method is one
// consistent read or one committed, audited write: which calls to make, and
// for whom, is decided in Service. It is split by concern so that a reader
// sees which rows each part of the service touches.
type Storage interface {
	PeopleStorage
	GrantStorage
	MessageStorage
	QuarantineStorage
	AuditStorage
	ReportStorage
	LockStorage
}

// PeopleStorage is the directory as administrators change it: people, their
// passwords and web sessions, and what the console shows of them.
type PeopleStorage interface {
	PersonByEmail(ctx context.Context, email string) (*store.Person, error)
	OrgByName(ctx context.Context, name string) (*store.Org, error)
	Principal(ctx context.Context, p *store.Person) (*privilege.Principal, error)
	AddPerson(ctx context.Context, actor string, r store.PersonRecord) (*store.Person, error)
	SetDisabled(ctx context.Context, personID int64, disabled bool) error
	SetPassword(ctx context.Context, personID int64, hash string) error
	DeleteWebSessions(ctx context.Context, personID int64) (int, error)
	SearchPeople(ctx context.Context, q store.PeopleQuery) ([]store.Person, error)
	ListsOfPerson(ctx context.Context, personID int64) ([]store.PersonList, error)
	LastSignIn(ctx context.Context, account string) (time.Time, string, error)
}

// GrantStorage is who administers what.
type GrantStorage interface {
	GrantAdmin(ctx context.Context, actor string, personID int64, role string, orgID int64) error
	RevokeAdmin(ctx context.Context, actor string, personID int64) error
	Admins(ctx context.Context) ([]store.Admin, error)
}

// MessageStorage is what tracing and purging read and remove.
type MessageStorage interface {
	TraceMessage(ctx context.Context, messageID string) ([]store.Trace, error)
	SubmissionReaches(ctx context.Context, submissionID int64, orgs []int64) (bool, error)
	PurgePreview(ctx context.Context, id string, thread bool) (*store.PurgeResult, error)
	Purge(ctx context.Context, actor, id string, thread bool) (*store.PurgeResult, error)
}

// QuarantineStorage is the messages the scanners kept from their recipients.
type QuarantineStorage interface {
	Quarantine(ctx context.Context, scope store.QuarantineScope, heldOnly bool, limit int) ([]store.Quarantined, error)
	QuarantinedMessage(ctx context.Context, id int64, scope store.QuarantineScope) (*store.Quarantined, error)
	ReleaseQuarantined(ctx context.Context, actor string, id int64, scope store.QuarantineScope) (*store.QuarantineDecision, error)
	DeleteQuarantined(ctx context.Context, actor string, id int64, scope store.QuarantineScope) (*store.QuarantineDecision, error)
}

// AuditStorage is the audit trail.
type AuditStorage interface {
	Audit(ctx context.Context, actor, action, target string, detail any) error
	AuditLog(ctx context.Context, q store.AuditQuery) ([]store.AuditEntry, error)
}

// ReportStorage is the TLS reports (RFC 8460) other operators sent about our
// domains.
type ReportStorage interface {
	TLSReports(ctx context.Context, domain string, limit int) ([]tlsrpt.Received, error)
	TLSReport(ctx context.Context, id int64) (tlsrpt.Received, error)
}

// LockStorage is the sign-in locks and incident mode as stored (StoreLocks).
type LockStorage interface {
	Lockouts(ctx context.Context) ([]store.LockoutRow, error)
	Unlock(ctx context.Context, actor string, accounts []string, lockedSince time.Time) ([]store.LockoutRow, error)
	SignInControl(ctx context.Context, key string) (string, error)
	SetSignInControl(ctx context.Context, actor, key, value string) error
}
