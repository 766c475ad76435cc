package web

import "net/http"

// routes lists every route of the HTTP door. docs/openapi.yaml documents
// the /api/v1 ones; a new handler is one line here and a method in the file
// for its area. authed handlers get the signed-in person; admin handlers
// (admin.go) also get the organisations the person administers.
func (a *API) routes(mux *http.ServeMux) {
	// Operations.
	mux.HandleFunc("GET /healthz", a.handleHealth)
	mux.Handle("GET /metrics", a.metricsHandler())

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

	// Administrators (admin.go); lists, audience, storm board and lockouts
	// join here as their issues land.
	mux.Handle("GET /api/v1/admin/scope", a.admin(a.handleAdminScope))
	mux.Handle("GET /api/v1/admin/audit", a.admin(a.handleAdminAudit))

	// People and sign-in administration (people.go, lockouts.go).
	mux.Handle("GET /api/v1/admin/people", a.admin(a.handleAdminPeople))
	mux.Handle("POST /api/v1/admin/people", a.admin(a.handleAddPerson))
	mux.Handle("POST /api/v1/admin/people/{email}/disable", a.admin(a.handleDisablePerson))
	mux.Handle("POST /api/v1/admin/people/{email}/enable", a.admin(a.handleDisablePerson))
	mux.Handle("POST /api/v1/admin/people/{email}/password", a.admin(a.handleResetPassword))
	mux.Handle("GET /api/v1/admin/people/{email}", a.admin(a.handlePerson)) // person.go
	mux.Handle("GET /api/v1/admin/lockouts", a.admin(a.handleLockouts))
	mux.Handle("POST /api/v1/admin/unlock", a.admin(a.handleUnlock))
	mux.Handle("PUT /api/v1/admin/incident", a.admin(a.handleIncident))
	mux.Handle("POST /api/v1/admin/lists/preview", a.admin(a.handleListPreview)) // list_preview.go

	// Audience and lists (lists.go).
	mux.Handle("POST /api/v1/audience", a.authed(a.handleAudience))
	mux.Handle("GET /api/v1/lists", a.authed(a.handleMyLists))
	mux.Handle("GET /api/v1/lists/{list}/held", a.authed(a.handleOwnerHeld))
	mux.Handle("POST /api/v1/lists/{list}/held/{id}", a.authed(a.handleOwnerModerate))
	mux.Handle("POST /api/v1/lists/{list}/members", a.authed(a.handleOwnerMembers))
	mux.Handle("DELETE /api/v1/lists/{list}/members", a.authed(a.handleOwnerMembers))
	mux.Handle("GET /api/v1/admin/lists", a.admin(a.handleAdminLists))
	mux.Handle("POST /api/v1/admin/lists", a.admin(a.handleCreateList))
	mux.Handle("GET /api/v1/admin/lists/{list}", a.admin(a.handleAdminList)) // list_edit.go
	mux.Handle("DELETE /api/v1/admin/lists/{list}", a.admin(a.handleDeleteList))
	mux.Handle("PUT /api/v1/admin/lists/{list}/rule", a.admin(a.handleListRule))
	mux.Handle("PUT /api/v1/admin/lists/{list}/owners", a.admin(a.handleListOwners))
	mux.Handle("PUT /api/v1/admin/lists/{list}/policy", a.admin(a.handleListPolicy))
	mux.Handle("POST /api/v1/admin/lists/{list}/approve", a.admin(a.handleListApprove))
	mux.Handle("POST /api/v1/admin/lists/{list}/members", a.admin(a.handleListMembers))
	mux.Handle("DELETE /api/v1/admin/lists/{list}/members", a.admin(a.handleListMembers))
	mux.Handle("GET /api/v1/admin/held", a.admin(a.handleHeld))
	mux.Handle("POST /api/v1/admin/held/{id}", a.admin(a.handleModerate))
	mux.Handle("POST /api/v1/admin/purge", a.admin(a.handlePurge))
	mux.Handle("GET /api/v1/admin/trace", a.admin(a.handleTrace))

	// Reply-all storms (storms.go).
	mux.Handle("GET /api/v1/admin/storms", a.admin(a.handleStorms))
	mux.Handle("POST /api/v1/admin/storms/{thread}/block", a.admin(a.handleStormBlock))
	mux.Handle("POST /api/v1/admin/storms/{thread}/unblock", a.admin(a.handleStormUnblock))

	// Anything else under /api/ is a problem+json 404; the rest is the webmail.
	mux.Handle("/api/", a.open(func(w http.ResponseWriter, r *http.Request) error {
		return problem(http.StatusNotFound, "not-found", "There is no API call %s %s.", r.Method, r.URL.Path)
	}))
	mux.Handle("/", a.ui())
}
