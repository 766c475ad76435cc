package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"wardmail/store"
)

// A person's own sign-in settings: app passwords for their mail apps,
// two-step sign-in with an authenticator app, recovery codes. The web's
// settings page and the CLI (`wardmail apppass`) call these and hold no
// rule of their own; each change leaves its audit entry.

// SettingKind is what went wrong with a change to sign-in settings, for a
// door to choose its reply.
type SettingKind int

const (
	// SettingIncomplete: the request lacks something or is malformed (HTTP 400).
	SettingIncomplete SettingKind = iota + 1
	// SettingInvalid: a code or value is wrong (HTTP 422).
	SettingInvalid
	// SettingConflict: it clashes with the settings as they are (HTTP 409).
	SettingConflict
	// SettingForbidden: this person may not make this change (HTTP 403).
	SettingForbidden
	// SettingNotFound: what it names does not exist (HTTP 404).
	SettingNotFound
)

// SettingError is a refusal the person can act on. Type is a short name of
// the refusal (the API's problem type), Field the request field at fault;
// Err, when set, is the cause (store.ErrExists, ErrBadSecondFactor).
type SettingError struct {
	Kind     SettingKind
	Type     string
	Field    string
	Sentence string
	Err      error
}

func (e *SettingError) Error() string { return e.Sentence }
func (e *SettingError) Unwrap() error { return e.Err }

func settingError(kind SettingKind, typ, field, format string, args ...any) *SettingError {
	return &SettingError{Kind: kind, Type: typ, Field: field, Sentence: fmt.Sprintf(format, args...)}
}

// AppPasswords lists a person's app passwords (never the passwords).
func (l *Login) AppPasswords(ctx context.Context, p *store.Person) ([]store.AppPassword, error) {
	list, err := l.store.AppPasswords(ctx, p.ID)
	if list == nil && err == nil {
		list = []store.AppPassword{}
	}
	return list, err
}

// IssueAppPassword makes a new app password for a device of p, for the
// scopes named (imap and smtp when none), and returns it with the password
// to be shown once: only its SHA-256 is kept. actor is who asked, for the
// audit trail.
func (l *Login) IssueAppPassword(ctx context.Context, actor string, p *store.Person, name string, scopes []string) (*store.AppPassword, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 || strings.ContainsFunc(name, func(c rune) bool { return c < ' ' || c == 0x7f }) {
		return nil, "", settingError(SettingIncomplete, "bad-request", "name",
			"Name the device this password is for, in up to 100 characters (for example \"work phone\").")
	}
	if len(scopes) == 0 {
		scopes = []string{ScopeIMAP, ScopeSMTP}
	}
	scopes, err := ParseScopes(strings.Join(scopes, ","))
	if err != nil {
		return nil, "", settingError(SettingIncomplete, "bad-request", "scopes",
			"An app password may be for reading mail (imap), sending mail (smtp) or both.")
	}
	secret, hash := NewAppPassword()
	id, err := l.store.AddAppPassword(ctx, actor, store.AppPasswordRecord{PersonID: p.ID, Name: name, Hash: hash, Scopes: scopes})
	if errors.Is(err, store.ErrExists) {
		e := settingError(SettingConflict, "exists", "name",
			"You already have an app password called %q. Choose another name, or revoke that one first.", name)
		e.Err = err
		return nil, "", e
	} else if err != nil {
		return nil, "", err
	}
	ap := &store.AppPassword{ID: id, PersonID: p.ID, Name: name, Scopes: scopes, CreatedAt: l.cfg.Now().UTC().Truncate(time.Second)}
	return ap, secret, nil
}

// RevokeAppPassword revokes one of p's app passwords by its id: the devices
// using it are signed out.
func (l *Login) RevokeAppPassword(ctx context.Context, actor string, p *store.Person, id int64) error {
	list, err := l.store.AppPasswords(ctx, p.ID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(list, func(ap store.AppPassword) bool { return ap.ID == id })
	if i < 0 {
		return settingError(SettingNotFound, "not-found", "", "That app password was not found. It may have been moved or deleted.")
	}
	_, err = l.store.RevokeAppPasswords(ctx, actor, p.ID, list[i].Name)
	return err
}

// RevokeAppPasswords revokes p's app passwords called name, or all of them
// when name is empty, and says how many.
func (l *Login) RevokeAppPasswords(ctx context.Context, actor string, p *store.Person, name string) (int, error) {
	return l.store.RevokeAppPasswords(ctx, actor, p.ID, name)
}

// TOTPStatus is a person's two-step sign-in as their settings show it.
type TOTPStatus struct {
	Enabled bool `json:"enabled"`
	// Required: the person may not turn it off (administrators).
	Required          bool `json:"required"`
	RecoveryCodesLeft int  `json:"recovery_codes_left"`
}

// TOTPStatus says whether p has two-step sign-in on, must keep it, and how
// many recovery codes are left.
func (l *Login) TOTPStatus(ctx context.Context, p *store.Person) (*TOTPStatus, error) {
	_, enabled, err := l.NeedsSecondFactor(ctx, p)
	if err != nil {
		return nil, err
	}
	admin, err := l.store.IsAdmin(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	left, err := l.store.RecoveryCodesLeft(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	return &TOTPStatus{Enabled: enabled, Required: admin, RecoveryCodesLeft: left}, nil
}

// StartTOTP begins enrolment: a new secret, not yet in force, with the
// otpauth:// URI for the app (EnrolTOTP). Someone who has two-step sign-in
// on moves it to another phone by giving a code from the current app or a
// recovery code; the current app stays in force until the new one's first
// code is confirmed. Without that code it is refused, so neither a borrowed
// session nor someone who was given a new password can put their own
// authenticator on the account.
func (l *Login) StartTOTP(ctx context.Context, p *store.Person, code, issuer string) (secret []byte, uri string, err error) {
	if _, enabled, err := l.NeedsSecondFactor(ctx, p); err != nil {
		return nil, "", err
	} else if enabled && code == "" {
		return nil, "", settingError(SettingConflict, "totp-enabled", "code",
			"Two-step sign-in is already on. To move it to another phone, enter a code from your current authenticator app, or one of your recovery codes.")
	} else if enabled {
		if err := l.CheckCurrentCode(ctx, p, code); err != nil {
			return nil, "", err
		}
	}
	return l.EnrolTOTP(ctx, p, issuer)
}

// FinishTOTP turns two-step sign-in on with a code from the app being
// enrolled and returns ten new recovery codes, to be shown once.
func (l *Login) FinishTOTP(ctx context.Context, p *store.Person, code string) ([]string, error) {
	err := l.ConfirmTOTP(ctx, p, code)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, settingError(SettingConflict, "totp-not-started", "", "Start setting up two-step sign-in first.")
	case errors.Is(err, ErrBadSecondFactor):
		e := settingError(SettingInvalid, "bad-totp", "code", "That code is not right. Check the time on your phone and enter the newest six-digit code.")
		e.Err = err
		return nil, e
	case err != nil:
		return nil, err
	}
	return l.NewRecoveryCodes(ctx, p.Email, p)
}

// CheckCurrentCode verifies a code from p's app (used once) or one of their
// recovery codes, for changes to two-step sign-in itself.
func (l *Login) CheckCurrentCode(ctx context.Context, p *store.Person, code string) error {
	bad := func() error {
		return settingError(SettingInvalid, "bad-totp", "code", "That code is not right. Enter the newest code from your authenticator app, or one of your recovery codes.")
	}
	st, err := l.store.TOTP(ctx, p.ID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !st.Enabled) {
		return settingError(SettingConflict, "totp-not-enabled", "", "Two-step sign-in is not on.")
	} else if err != nil {
		return err
	}
	if _, ok := ParseTOTPCode(code); ok {
		step, ok := VerifyTOTP(st.Secret, code, l.cfg.Now())
		if !ok {
			return bad()
		}
		if ok, err := l.store.UseTOTPStep(ctx, p.Email, p.ID, step, false); err != nil {
			return err
		} else if !ok {
			return bad()
		}
		return nil
	}
	h, ok := ParseRecoveryCode(code)
	if !ok {
		return bad()
	}
	if ok, err := l.store.UseRecoveryCode(ctx, p.Email, p.ID, h); err != nil {
		return err
	} else if !ok {
		return bad()
	}
	return nil
}

// TurnOffTOTP turns p's two-step sign-in off after a code from their app or
// a recovery code. Administrators may not: for them it is mandatory.
func (l *Login) TurnOffTOTP(ctx context.Context, p *store.Person, code string) error {
	if admin, err := l.store.IsAdmin(ctx, p.ID); err != nil {
		return err
	} else if admin {
		return settingError(SettingForbidden, "totp-required", "",
			"Administrators must keep two-step sign-in on. To move it to a new phone, ask another administrator or your IT service desk.")
	}
	if err := l.CheckCurrentCode(ctx, p, code); err != nil {
		return err
	}
	return l.DisableTOTP(ctx, p.Email, p)
}

// ReplaceRecoveryCodes replaces p's recovery codes after a code from their
// app or a recovery code, and returns the new ones, to be shown once.
func (l *Login) ReplaceRecoveryCodes(ctx context.Context, p *store.Person, code string) ([]string, error) {
	if err := l.CheckCurrentCode(ctx, p, code); err != nil {
		return nil, err
	}
	return l.NewRecoveryCodes(ctx, p.Email, p)
}

// AppPassword is one of a person's app passwords, without the password (a
// row the storage defines).
type AppPassword = store.AppPassword
