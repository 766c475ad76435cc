package admin

import (
	"context"
	"time"

	"wardmail/privilege"
	"wardmail/store"
)

// Storage is what the administration service needs from the database;
// *store.Store implements it.
type Storage interface {
	LockStore
	PersonByEmail(ctx context.Context, email string) (*store.Person, error)
	Principal(ctx context.Context, p *store.Person) (*privilege.Principal, error)
	SearchPeople(ctx context.Context, q store.PeopleQuery) ([]store.Person, error)
	OrgByName(ctx context.Context, name string) (*store.Org, error)
	AddPerson(ctx context.Context, actor string, r store.PersonRecord) (*store.Person, error)
	SetDisabled(ctx context.Context, personID int64, disabled bool) error
	SetPassword(ctx context.Context, personID int64, hash string) error
	DeleteWebSessions(ctx context.Context, personID int64) (int, error)
	ListsOfPerson(ctx context.Context, personID int64) ([]store.PersonList, error)
	LastSignIn(ctx context.Context, account string) (time.Time, string, error)

	Admins(ctx context.Context) ([]store.Admin, error)
	GrantAdmin(ctx context.Context, actor string, personID int64, role string, orgID int64) error
	RevokeAdmin(ctx context.Context, actor string, personID int64) error

	Audit(ctx context.Context, actor, action, target string, detail any) error
	AuditLog(ctx context.Context, q store.AuditQuery) ([]store.AuditEntry, error)

	Purge(ctx context.Context, actor, id string, thread bool) (*store.PurgeResult, error)
	PurgePreview(ctx context.Context, id string, thread bool) (*store.PurgeResult, error)
	TraceMessage(ctx context.Context, messageID string) ([]store.Trace, error)
	SubmissionReaches(ctx context.Context, submissionID int64, orgs []int64) (bool, error)
}

// LockStore is the lockout state as stored (StoreLocks).
type LockStore interface {
	Lockouts(ctx context.Context) ([]store.LockoutRow, error)
	Unlock(ctx context.Context, actor string, accounts []string, lockedSince time.Time) ([]store.LockoutRow, error)
	SignInControl(ctx context.Context, key string) (string, error)
	SetSignInControl(ctx context.Context, actor, key, value string) error
}
