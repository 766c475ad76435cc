package auth

import (
	"context"

	"wardmail/store"
)

// Storage is what sign-in needs from the database; *store.Store implements
// it. Write batches the audit entries and app-password last use that
// sign-ins leave (journal.go) through the storage's own audited calls.
type Storage interface {
	PersonByEmail(ctx context.Context, email string) (*store.Person, error)
	IsAdmin(ctx context.Context, personID int64) (bool, error)

	AppPasswordOwner(ctx context.Context, hash []byte) (*store.AppPassword, []byte, *store.Person, error)
	AddAppPassword(ctx context.Context, actor string, r store.AppPasswordRecord) (int64, error)
	AppPasswords(ctx context.Context, personID int64) ([]store.AppPassword, error)
	RevokeAppPasswords(ctx context.Context, actor string, personID int64, name string) (int, error)

	TOTP(ctx context.Context, personID int64) (*store.TOTPState, error)
	SetTOTPSecret(ctx context.Context, personID int64, secret []byte) error
	UseTOTPStep(ctx context.Context, actor string, personID, step int64, enable bool) (bool, error)
	ReplaceTOTP(ctx context.Context, actor string, personID, step int64) (bool, error)
	DisableTOTP(ctx context.Context, actor string, personID int64) error
	UseRecoveryCode(ctx context.Context, actor string, personID int64, hash []byte) (bool, error)
	SetRecoveryCodes(ctx context.Context, actor string, personID int64, hashes [][]byte) error
	RecoveryCodesLeft(ctx context.Context, personID int64) (int, error)

	// WriteSignInJournal writes the journal's batch of audit entries and
	// app passwords' last uses in one write.
	WriteSignInJournal(ctx context.Context, audits []store.JournalAudit, uses map[int64]store.AppPasswordUse) error
}
