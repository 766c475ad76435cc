package web

import (
	"encoding/base32"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"wardmail/auth"
	"wardmail/store"
)

// A person's own sign-in settings: app passwords for their mail
// apps, two-step sign-in with an authenticator app, recovery codes. The CLI
// (`wardmail apppass`) and these handlers make the same store calls and
// leave the same audit entries.

// totpIssuer is the name authenticator apps show next to the account.
const totpIssuer = "Wardmail"

type appPasswordsAnswer struct {
	AppPasswords []store.AppPassword `json:"app_passwords"`
}

// handleAppPasswords: GET /api/v1/settings/app-passwords.
func (a *API) handleAppPasswords(w http.ResponseWriter, r *http.Request, who *Session) error {
	list, err := a.store.AppPasswords(r.Context(), who.Person.ID)
	if err != nil {
		return err
	}
	if list == nil {
		list = []store.AppPassword{}
	}
	writeJSON(w, http.StatusOK, appPasswordsAnswer{AppPasswords: list})
	return nil
}

// handleCreateAppPassword: POST /api/v1/settings/app-passwords with
// {"name": "work phone", "scopes": ["imap", "smtp"]}. The password is in the
// answer once and never again: only its SHA-256 is kept.
func (a *API) handleCreateAppPassword(w http.ResponseWriter, r *http.Request, who *Session) error {
	var req struct {
		Name   string   `json:"name"`
		Scopes []string `json:"scopes"`
	}
	if err := readJSON(w, r, 16<<10, &req); err != nil {
		return err
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" || len(req.Name) > 100 || strings.ContainsFunc(req.Name, func(c rune) bool { return c < ' ' || c == 0x7f }) {
		p := problem(http.StatusBadRequest, "bad-request", "Name the device this password is for, in up to 100 characters (for example \"work phone\").")
		p.Field = "name"
		return p
	}
	if len(req.Scopes) == 0 {
		req.Scopes = []string{auth.ProtoIMAP, auth.ProtoSMTP}
	}
	scopes, err := auth.ParseScopes(strings.Join(req.Scopes, ","))
	if err != nil {
		p := problem(http.StatusBadRequest, "bad-request", "An app password may be for reading mail (imap), sending mail (smtp) or both.")
		p.Field = "scopes"
		return p
	}
	secret, hash := auth.NewAppPassword()
	id, err := a.store.AddAppPassword(r.Context(), who.Person.Email, store.AppPasswordRecord{PersonID: who.Person.ID, Name: req.Name, Hash: hash, Scopes: scopes})
	if errors.Is(err, store.ErrExists) {
		p := problem(http.StatusConflict, "exists", "You already have an app password called %q. Choose another name, or revoke that one first.", req.Name)
		p.Field = "name"
		return p
	} else if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"app_password": store.AppPassword{ID: id, PersonID: who.Person.ID, Name: req.Name, Scopes: scopes, CreatedAt: a.now().UTC().Truncate(time.Second)},
		"password":     secret,
	})
	return nil
}

// handleRevokeAppPassword: DELETE /api/v1/settings/app-passwords/{id}.
func (a *API) handleRevokeAppPassword(w http.ResponseWriter, r *http.Request, who *Session) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return problem(http.StatusBadRequest, "bad-request", "%q is not an app password's id.", r.PathValue("id"))
	}
	list, err := a.store.AppPasswords(r.Context(), who.Person.ID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(list, func(ap store.AppPassword) bool { return ap.ID == id })
	if i < 0 {
		return errNotFound("That app password")
	}
	if _, err := a.store.RevokeAppPasswords(r.Context(), who.Person.Email, who.Person.ID, list[i].Name); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type totpStatus struct {
	Enabled bool `json:"enabled"`
	// Required: the person may not turn it off (administrators).
	Required          bool `json:"required"`
	RecoveryCodesLeft int  `json:"recovery_codes_left"`
}

func (a *API) totpStatus(r *http.Request, l *auth.Login, p *store.Person) (*totpStatus, error) {
	_, enabled, err := l.NeedsSecondFactor(r.Context(), p)
	if err != nil {
		return nil, err
	}
	admin, err := a.store.IsAdmin(r.Context(), p.ID)
	if err != nil {
		return nil, err
	}
	left, err := a.store.RecoveryCodesLeft(r.Context(), p.ID)
	if err != nil {
		return nil, err
	}
	return &totpStatus{Enabled: enabled, Required: admin, RecoveryCodesLeft: left}, nil
}

// handleTOTPStatus: GET /api/v1/settings/totp.
func (a *API) handleTOTPStatus(w http.ResponseWriter, r *http.Request, who *Session) error {
	l, err := a.login()
	if err != nil {
		return err
	}
	st, err := a.totpStatus(r, l, who.Person)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// handleTOTPEnrol: POST /api/v1/settings/totp starts enrolment: a new
// secret, not yet in force, with the otpauth:// URI for the app. Someone
// who has two-step sign-in on moves it to another phone by giving a code
// from the current app or a recovery code ({"code": ...}); the current app
// stays in force until the new one's first code is confirmed. Without that
// code it is refused, so neither a borrowed session nor someone who was
// given a new password can put their own authenticator on the account.
func (a *API) handleTOTPEnrol(w http.ResponseWriter, r *http.Request, who *Session) error {
	l, err := a.login()
	if err != nil {
		return err
	}
	var req struct {
		Code string `json:"code"`
	}
	if err := readJSON(w, r, 4<<10, &req); err != nil {
		return err
	}
	if _, enabled, err := l.NeedsSecondFactor(r.Context(), who.Person); err != nil {
		return err
	} else if enabled && req.Code == "" {
		p := problem(http.StatusConflict, "totp-enabled", "Two-step sign-in is already on. To move it to another phone, enter a code from your current authenticator app, or one of your recovery codes.")
		p.Field = "code"
		return p
	} else if enabled {
		if err := a.checkCurrentCode(r, who.Person, req.Code); err != nil {
			return err
		}
	}
	secret, uri, err := l.EnrolTOTP(r.Context(), who.Person, totpIssuer)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"secret":  base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret),
		"uri":     uri,
		"account": who.Person.Email,
		"issuer":  totpIssuer,
	})
	return nil
}

// handleTOTPConfirm: POST /api/v1/settings/totp/confirm with {"code":
// "123456"} turns two-step sign-in on and answers ten recovery codes, shown
// once.
func (a *API) handleTOTPConfirm(w http.ResponseWriter, r *http.Request, who *Session) error {
	l, err := a.login()
	if err != nil {
		return err
	}
	var req struct {
		Code string `json:"code"`
	}
	if err := readJSON(w, r, 4<<10, &req); err != nil {
		return err
	}
	err = l.ConfirmTOTP(r.Context(), who.Person, req.Code)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return problem(http.StatusConflict, "totp-not-started", "Start setting up two-step sign-in first.")
	case errors.Is(err, auth.ErrBadSecondFactor):
		p := problem(http.StatusUnprocessableEntity, "bad-totp", "That code is not right. Check the time on your phone and enter the newest six-digit code.")
		p.Field = "code"
		return p
	case err != nil:
		return err
	}
	codes, err := l.NewRecoveryCodes(r.Context(), who.Person.Email, who.Person)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"enabled": true, "recovery_codes": codes})
	return nil
}

// checkCurrentCode verifies a code from the person's app (used once) or one
// of their recovery codes, for changes to two-step sign-in itself.
func (a *API) checkCurrentCode(r *http.Request, p *store.Person, code string) error {
	bad := func() error {
		pr := problem(http.StatusUnprocessableEntity, "bad-totp", "That code is not right. Enter the newest code from your authenticator app, or one of your recovery codes.")
		pr.Field = "code"
		return pr
	}
	st, err := a.store.TOTP(r.Context(), p.ID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !st.Enabled) {
		return problem(http.StatusConflict, "totp-not-enabled", "Two-step sign-in is not on.")
	} else if err != nil {
		return err
	}
	if _, ok := auth.ParseTOTPCode(code); ok {
		step, ok := auth.VerifyTOTP(st.Secret, code, a.now())
		if !ok {
			return bad()
		}
		if ok, err := a.store.UseTOTPStep(r.Context(), p.Email, p.ID, step, false); err != nil {
			return err
		} else if !ok {
			return bad()
		}
		return nil
	}
	h, ok := auth.ParseRecoveryCode(code)
	if !ok {
		return bad()
	}
	if ok, err := a.store.UseRecoveryCode(r.Context(), p.Email, p.ID, h); err != nil {
		return err
	} else if !ok {
		return bad()
	}
	return nil
}

// handleTOTPDisable: POST /api/v1/settings/totp/disable with {"code": ...}.
// Administrators may not: for them two-step sign-in is mandatory.
func (a *API) handleTOTPDisable(w http.ResponseWriter, r *http.Request, who *Session) error {
	l, err := a.login()
	if err != nil {
		return err
	}
	var req struct {
		Code string `json:"code"`
	}
	if err := readJSON(w, r, 4<<10, &req); err != nil {
		return err
	}
	if admin, err := a.store.IsAdmin(r.Context(), who.Person.ID); err != nil {
		return err
	} else if admin {
		return problem(http.StatusForbidden, "totp-required", "Administrators must keep two-step sign-in on. To move it to a new phone, ask another administrator or your IT service desk.")
	}
	if err := a.checkCurrentCode(r, who.Person, req.Code); err != nil {
		return err
	}
	if err := l.DisableTOTP(r.Context(), who.Person.Email, who.Person); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleRecoveryCodes: POST /api/v1/settings/recovery-codes with {"code":
// ...} replaces the recovery codes and answers the new ones, shown once.
func (a *API) handleRecoveryCodes(w http.ResponseWriter, r *http.Request, who *Session) error {
	l, err := a.login()
	if err != nil {
		return err
	}
	var req struct {
		Code string `json:"code"`
	}
	if err := readJSON(w, r, 4<<10, &req); err != nil {
		return err
	}
	if err := a.checkCurrentCode(r, who.Person, req.Code); err != nil {
		return err
	}
	codes, err := l.NewRecoveryCodes(r.Context(), who.Person.Email, who.Person)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"recovery_codes": codes})
	return nil
}
