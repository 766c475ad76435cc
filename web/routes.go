package web

import (
	"net/http"

	"wardmail/privilege"
)

// routes lists every route of the HTTP door. docs/openapi.yaml documents
// the /api/v1 ones; a new handler is one line here and a method in the file
// for its area. authed handlers get the signed-in person; admin handlers
// (admin.go) also get the organisations the person administers.
func (a *API) routes(mux *http.ServeMux) {
	// Operations.
	mux.HandleFunc("GET /healthz", a.handleHealth)
	mux.HandleFunc("GET /healthz/live", a.handleLive)
	mux.Handle("GET /metrics", a.metricsHandler())
	mux.HandleFunc("GET /.well-known/mta-sts.txt", a.handleMTASTS) // tlsreports.go

	// Sign-in and sessions (session.go).
	mux.Handle("POST /api/v1/session", a.open(a.handleSignIn))
	mux.Handle("GET /api/v1/session", a.enrolmentOnly(a.handleWhoAmI))
	mux.Handle("DELETE /api/v1/session", a.enrolmentOnly(a.handleSignOut))
	mux.Handle("GET /api/v1/sessions", a.authed(a.handleSessions))
	mux.Handle("POST /api/v1/sessions/revoke-all", a.authed(a.handleSignOutEverywhere))

	// Folders and messages (mail.go, read.go).
	mux.Handle("GET /api/v1/folders", a.authed(a.handleFolders))
	mux.Handle("GET /api/v1/folders/{folder}/messages", a.authed(a.handleList))
	mux.Handle("GET /api/v1/folders/{folder}/messages/{uid}", a.authed(a.handleRead))
	mux.Handle("GET /api/v1/folders/{folder}/conversations", a.authed(a.handleConversations))      // threads.go
	mux.Handle("GET /api/v1/folders/{folder}/conversations/{uid}", a.authed(a.handleConversation)) // threads.go
	mux.Handle("GET /api/v1/folders/{folder}/messages/{uid}/body", a.authed(a.handleBodyFrame))
	mux.Handle("GET /api/v1/folders/{folder}/messages/{uid}/parts/{part}", a.authed(a.handlePart))
	mux.Handle("GET /api/v1/inline/{folder}/{uid}/{part}", a.open(a.handleInline)) // inline.go: signed, for the frame
	mux.Handle("POST /api/v1/messages/flags", a.authed(a.handleFlags))
	mux.Handle("POST /api/v1/messages/move", a.authed(a.handleMove))
	mux.Handle("POST /api/v1/messages/delete", a.authed(a.handleDelete))
	mux.Handle("POST /api/v1/messages/archive", a.authed(a.handleArchive))

	// Compose (compose.go).
	mux.Handle("POST /api/v1/send", a.authed(a.handleSend))
	mux.Handle("PUT /api/v1/drafts", a.authed(a.handleSaveDraft))
	mux.Handle("GET /api/v1/drafts/{uid}", a.authed(a.handleOpenDraft)) // compose_parts.go
	mux.Handle("DELETE /api/v1/drafts/{uid}", a.authed(a.handleDeleteDraft))
	mux.Handle("POST /api/v1/uploads", a.authed(a.handleUpload))

	// Search and directory (search.go, directory.go).
	mux.Handle("GET /api/v1/search", a.authed(a.handleSearch))
	mux.Handle("GET /api/v1/directory/suggest", a.authed(a.handleSuggest))

	// Settings (settings.go): app passwords, two-step sign-in, recovery
	// codes. An administrator without TOTP reaches only its enrolment.
	mux.Handle("GET /api/v1/settings/app-passwords", a.authed(a.handleAppPasswords))
	mux.Handle("POST /api/v1/settings/app-passwords", a.authed(a.handleCreateAppPassword))
	mux.Handle("DELETE /api/v1/settings/app-passwords/{id}", a.authed(a.handleRevokeAppPassword))
	mux.Handle("GET /api/v1/settings/totp", a.enrolmentOnly(a.handleTOTPStatus))
	mux.Handle("POST /api/v1/settings/totp", a.enrolmentOnly(a.handleTOTPEnrol))
	mux.Handle("POST /api/v1/settings/totp/confirm", a.enrolmentOnly(a.handleTOTPConfirm))
	mux.Handle("POST /api/v1/settings/totp/disable", a.authed(a.handleTOTPDisable))
	mux.Handle("POST /api/v1/settings/recovery-codes", a.authed(a.handleRecoveryCodes))

	// Administrators: every route in adminRoutes, behind its action.
	for _, rt := range adminRoutes {
		h := rt.handle
		mux.Handle(rt.pattern, a.admin(rt.action, func(w http.ResponseWriter, r *http.Request, who *Session, actor *privilege.Principal) error {
			return h(a, w, r, who, actor)
		}))
	}

	// Audience, and owners' own lists (lists.go).
	mux.Handle("POST /api/v1/audience", a.authed(a.handleAudience))
	mux.Handle("GET /api/v1/lists", a.authed(a.handleMyLists))
	mux.Handle("GET /api/v1/lists/{list}/held", a.authed(a.handleOwnerHeld))
	mux.Handle("POST /api/v1/lists/{list}/held/{id}", a.authed(a.handleOwnerModerate))
	mux.Handle("POST /api/v1/lists/{list}/members", a.authed(a.handleOwnerMembers))
	mux.Handle("DELETE /api/v1/lists/{list}/members", a.authed(a.handleOwnerMembers))

	// Anything else under /api/ is a problem+json 404; the rest is the webmail.
	mux.Handle("/api/", a.open(func(w http.ResponseWriter, r *http.Request) error {
		return problem(http.StatusNotFound, "not-found", "There is no API call %s %s.", r.Method, r.URL.Path)
	}))
	mux.Handle("/", a.ui())
}

// adminRoute is a route of the administrators' API and the action of the
// privilege model (privilege.Rules) that a caller's rank must reach.
type adminRoute struct {
	pattern string
	action  privilege.Action
	handle  func(*API, http.ResponseWriter, *http.Request, *Session, *privilege.Principal) error
}

// adminRoutes: people and sign-in (people.go, person.go, lockouts.go),
// lists (lists.go, list_edit.go, list_preview.go, lists_table.go), messages
// (purge, trace), reply-all storms (storms.go), the quarantine (quarantine.go)
// and the outbound queue (queue.go).
var adminRoutes = []adminRoute{
	{"GET /api/v1/admin/scope", privilege.ViewScope, (*API).handleAdminScope},
	{"GET /api/v1/admin/audit", privilege.ReadAudit, (*API).handleAdminAudit},
	{"GET /api/v1/admin/people", privilege.SearchPeople, (*API).handleAdminPeople},
	{"POST /api/v1/admin/people", privilege.AddPerson, (*API).handleAddPerson},
	{"POST /api/v1/admin/people/{email}/disable", privilege.DisablePerson, (*API).handleDisablePerson},
	{"POST /api/v1/admin/people/{email}/enable", privilege.EnablePerson, (*API).handleEnablePerson},
	{"POST /api/v1/admin/people/{email}/password", privilege.ResetPassword, (*API).handleResetPassword},
	{"GET /api/v1/admin/people/{email}", privilege.ViewPerson, (*API).handlePerson}, // person.go
	{"GET /api/v1/admin/lockouts", privilege.ViewLockouts, (*API).handleLockouts},
	{"POST /api/v1/admin/unlock", privilege.UnlockPerson, (*API).handleUnlock},
	{"PUT /api/v1/admin/incident", privilege.SetIncident, (*API).handleIncident},
	{"POST /api/v1/admin/lists/preview", privilege.PreviewList, (*API).handleListPreview}, // list_preview.go
	{"GET /api/v1/admin/lists", privilege.ManageList, (*API).handleAdminLists},
	{"POST /api/v1/admin/lists", privilege.CreateList, (*API).handleCreateList},
	{"GET /api/v1/admin/lists/{list}", privilege.ManageList, (*API).handleAdminList}, // list_edit.go
	{"DELETE /api/v1/admin/lists/{list}", privilege.ManageList, (*API).handleDeleteList},
	{"PUT /api/v1/admin/lists/{list}/rule", privilege.ManageList, (*API).handleListRule},
	{"PUT /api/v1/admin/lists/{list}/owners", privilege.ManageList, (*API).handleListOwners},
	{"PUT /api/v1/admin/lists/{list}/policy", privilege.ManageList, (*API).handleListPolicy},
	{"POST /api/v1/admin/lists/{list}/approve", privilege.ApproveList, (*API).handleListApprove},
	{"POST /api/v1/admin/lists/{list}/members", privilege.ManageList, (*API).handleListMembers},
	{"DELETE /api/v1/admin/lists/{list}/members", privilege.ManageList, (*API).handleListMembers},
	{"GET /api/v1/admin/held", privilege.Moderate, (*API).handleHeld},
	{"POST /api/v1/admin/held/{id}", privilege.Moderate, (*API).handleModerate},
	{"POST /api/v1/admin/purge", privilege.Purge, (*API).handlePurge},
	{"GET /api/v1/admin/trace", privilege.Trace, (*API).handleTrace},
	{"GET /api/v1/admin/storms", privilege.ViewStorms, (*API).handleStorms},
	{"POST /api/v1/admin/storms/{thread}/block", privilege.BlockStorm, (*API).handleStormBlock},
	{"POST /api/v1/admin/storms/{thread}/unblock", privilege.UnblockStorm, (*API).handleStormUnblock},
	{"GET /api/v1/admin/quarantine", privilege.ViewQuarantine, (*API).handleQuarantine}, // quarantine.go
	{"GET /api/v1/admin/quarantine/{id}", privilege.ViewQuarantine, (*API).handleQuarantined},
	{"POST /api/v1/admin/quarantine/{id}/release", privilege.ReleaseQuarantine, (*API).handleQuarantineRelease},
	{"DELETE /api/v1/admin/quarantine/{id}", privilege.DeleteQuarantine, (*API).handleQuarantineDelete},
	{"GET /api/v1/admin/tls-reports", privilege.ViewTLSReports, (*API).handleTLSReports},     // tlsreports.go
	{"GET /api/v1/admin/tls-reports/{id}", privilege.ViewTLSReports, (*API).handleTLSReport}, // tlsreports.go
	{"GET /api/v1/admin/queue", privilege.ViewQueue, (*API).handleQueue},                     // queue.go
	{"GET /api/v1/admin/queue/{id}", privilege.ViewQueue, (*API).handleQueueMessage},
	{"POST /api/v1/admin/queue/{id}/{action}", privilege.ManageQueue, (*API).handleQueueAction},
	{"POST /api/v1/admin/queue/domains/{domain}/{action}", privilege.ManageQueue, (*API).handleQueueAction},
}

// AdminRoutes lists the administrators' routes ("METHOD /path") with the
// action each needs, for documentation and the test that walks them all.
func AdminRoutes() map[string]privilege.Action {
	out := make(map[string]privilege.Action, len(adminRoutes))
	for _, rt := range adminRoutes {
		out[rt.pattern] = rt.action
	}
	return out
}
