package web

import (
	"encoding/base32"
	"net/http"
	"strconv"

	"wardmail/auth"
)

// A person's own sign-in settings: app passwords for their mail apps,
// two-step sign-in with an authenticator app, recovery codes. The rules are
// the sign-in service's (auth/account.go), which the CLI (`wardmail
// apppass`) calls too; refusals come back as *auth.SettingError.

// totpIssuer is the name authenticator apps show next to the account.
const totpIssuer = "Wardmail"

type appPasswordsAnswer struct {
	AppPasswords []auth.AppPassword `json:"app_passwords"`
}

// handleAppPasswords: GET /api/v1/settings/app-passwords.
func (a *API) handleAppPasswords(w http.ResponseWriter, r *http.Request, who *Session) error {
	list, err := a.auth.AppPasswords(r.Context(), who.Person)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, appPasswordsAnswer{AppPasswords: list})
	return nil
}

// handleCreateAppPassword: POST /api/v1/settings/app-passwords with
// {"name": "work phone", "scopes": ["imap", "smtp"]}. The password is in the
// answer once and never again.
func (a *API) handleCreateAppPassword(w http.ResponseWriter, r *http.Request, who *Session) error {
	var req struct {
		Name   string   `json:"name"`
		Scopes []string `json:"scopes"`
	}
	if err := readJSON(w, r, 16<<10, &req); err != nil {
		return err
	}
	ap, secret, err := a.auth.IssueAppPassword(r.Context(), who.Person.Email, who.Person, req.Name, req.Scopes)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"app_password": ap, "password": secret})
	return nil
}

// handleRevokeAppPassword: DELETE /api/v1/settings/app-passwords/{id}.
func (a *API) handleRevokeAppPassword(w http.ResponseWriter, r *http.Request, who *Session) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return problem(http.StatusBadRequest, "bad-request", "%q is not an app password's id.", r.PathValue("id"))
	}
	if err := a.auth.RevokeAppPassword(r.Context(), who.Person.Email, who.Person, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleTOTPStatus: GET /api/v1/settings/totp.
func (a *API) handleTOTPStatus(w http.ResponseWriter, r *http.Request, who *Session) error {
	st, err := a.auth.TOTPStatus(r.Context(), who.Person)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// codeRequest is the body of the two-step settings that take a code.
type codeRequest struct {
	Code string `json:"code"`
}

// handleTOTPEnrol: POST /api/v1/settings/totp starts enrolment, with
// {"code": ...} from the current app when moving to another phone
// (auth.Login.StartTOTP).
func (a *API) handleTOTPEnrol(w http.ResponseWriter, r *http.Request, who *Session) error {
	var req codeRequest
	if err := readJSON(w, r, 4<<10, &req); err != nil {
		return err
	}
	secret, uri, err := a.auth.StartTOTP(r.Context(), who.Person, req.Code, totpIssuer)
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
	var req codeRequest
	if err := readJSON(w, r, 4<<10, &req); err != nil {
		return err
	}
	codes, err := a.auth.FinishTOTP(r.Context(), who.Person, req.Code)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"enabled": true, "recovery_codes": codes})
	return nil
}

// handleTOTPDisable: POST /api/v1/settings/totp/disable with {"code": ...}.
func (a *API) handleTOTPDisable(w http.ResponseWriter, r *http.Request, who *Session) error {
	var req codeRequest
	if err := readJSON(w, r, 4<<10, &req); err != nil {
		return err
	}
	if err := a.auth.TurnOffTOTP(r.Context(), who.Person, req.Code); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleRecoveryCodes: POST /api/v1/settings/recovery-codes with {"code":
// ...} replaces the recovery codes and answers the new ones, shown once.
func (a *API) handleRecoveryCodes(w http.ResponseWriter, r *http.Request, who *Session) error {
	var req codeRequest
	if err := readJSON(w, r, 4<<10, &req); err != nil {
		return err
	}
	codes, err := a.auth.ReplaceRecoveryCodes(r.Context(), who.Person, req.Code)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"recovery_codes": codes})
	return nil
}

// settingProblem is a refusal of the sign-in settings as the API answers it.
func settingProblem(e *auth.SettingError) *Problem {
	status := http.StatusUnprocessableEntity
	switch e.Kind {
	case auth.SettingIncomplete:
		status = http.StatusBadRequest
	case auth.SettingConflict:
		status = http.StatusConflict
	case auth.SettingForbidden:
		status = http.StatusForbidden
	case auth.SettingNotFound:
		status = http.StatusNotFound
	}
	p := problem(status, e.Type, "%s", e.Sentence)
	p.Field = e.Field
	return p
}
