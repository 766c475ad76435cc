package server_test

import (
	"net/http"
	"strings"
	"testing"

	"wardmail/store"
)

// A local administrator tries to become a national one by resetting the
// password of a national administrator in their own organisation, then
// signing in as them (over IMAP, and over the web to enrol their own
// authenticator). Every step is refused, and the national administrator's
// own password goes on working.
func TestLocalAdminCannotTakeOverANationalAdmin(t *testing.T) {
	e := startListServer(t, []who{
		{"loc@nhs.test", leeds, "IT", "LGI"},
		{"nat-enrolled@nhs.test", leeds, "IT", "LGI"}, // has two-step sign-in
		{"nat-new@nhs.test", leeds, "IT", "LGI"},      // has not signed in yet
		{"peer@nhs.test", leeds, "IT", "LGI"},         // another local administrator
		{"nurse@nhs.test", leeds, "Nurse", "LGI"},
	}, nil)
	for email, role := range map[string]string{"loc@nhs.test": store.RoleLocal, "peer@nhs.test": store.RoleLocal,
		"nat-enrolled@nhs.test": store.RoleNational, "nat-new@nhs.test": store.RoleNational} {
		p, _ := e.st.PersonByEmail(e.ctx, email)
		org := p.OrgID
		if role == store.RoleNational {
			org = 0
		}
		if err := e.st.GrantAdmin(e.ctx, "test", p.ID, role, org); err != nil {
			t.Fatal(err)
		}
	}
	local := newAPIClient(t, e.srv, "loc@nhs.test")
	newAPIClient(t, e.srv, "nat-enrolled@nhs.test") // enrols TOTP and signs in

	const stolen = "Attacker-chosen-2026-pw"
	for _, target := range []string{"nat-enrolled@nhs.test", "nat-new@nhs.test", "peer@nhs.test"} {
		before, _ := e.st.PersonByEmail(e.ctx, target)
		var prob problemOut
		if code := local.call("POST", "/api/v1/admin/people/"+target+"/password", map[string]string{"password": stolen}, &prob); code != http.StatusForbidden ||
			!strings.Contains(prob.Detail, "only a national administrator may reset the password of them") {
			t.Errorf("a local administrator resetting %s's password: %d %q, want 403 with a sentence", target, code, prob.Detail)
		}
		for _, verb := range []string{"disable", "enable"} {
			if code := local.call("POST", "/api/v1/admin/people/"+target+"/"+verb, nil, &prob); code != http.StatusForbidden {
				t.Errorf("a local administrator's %s of %s: %d %q, want 403", verb, target, code, prob.Detail)
			}
		}
		if code := local.call("POST", "/api/v1/admin/unlock", map[string]any{"accounts": []string{target}}, &prob); code != http.StatusForbidden {
			t.Errorf("a local administrator unlocking %s: %d %q, want 403", target, code, prob.Detail)
		}
		// The attacker's password opens nothing; the owner's still works.
		if got := imapLogin(t, e.srv, "127.0.0.1", target, stolen); got != "AUTHENTICATIONFAILED" {
			t.Errorf("IMAP LOGIN as %s with the attacker's password: %q, want AUTHENTICATIONFAILED", target, got)
		}
		if code, _ := webSignInFrom(t, e.srv, "127.0.0.1", target, stolen); code == http.StatusOK {
			t.Errorf("web sign-in as %s with the attacker's password succeeded", target)
		}
		if p, err := e.st.PersonByEmail(e.ctx, target); err != nil || p.Disabled || p.PasswordHash != before.PasswordHash {
			t.Errorf("%s after the attempts: disabled %v, password changed %v, %v", target, p.Disabled, p.PasswordHash != before.PasswordHash, err)
		}
	}
	// The same administrator still manages the people below them.
	if code := local.call("POST", "/api/v1/admin/people/nurse@nhs.test/password", map[string]string{"password": "Nurse-new-pw-2026-ok"}, nil); code != http.StatusOK {
		t.Errorf("a local administrator resetting a nurse's password: %d", code)
	}
}

// Message trace answers a local administrator about the messages that
// concern their organisations only: one between two people elsewhere is
// as if it did not exist.
func TestTraceScopedToLocalAdministrators(t *testing.T) {
	e := startListServer(t, []who{
		{"loc@nhs.test", leeds, "IT", "LGI"}, {"nurse@nhs.test", leeds, "Nurse", "LGI"},
		{"b1@nhs.test", barts, "Nurse", "RLH"}, {"b2@nhs.test", barts, "Nurse", "RLH"},
	}, nil)
	p, _ := e.st.PersonByEmail(e.ctx, "loc@nhs.test")
	if err := e.st.GrantAdmin(e.ctx, "test", p.ID, store.RoleLocal, p.OrgID); err != nil {
		t.Fatal(err)
	}
	e.mustSubmit("b1@nhs.test", []string{"b2@nhs.test"}, "Barts only", "Message-ID: <barts-only@nhs.test>\r\n")
	e.mustSubmit("b1@nhs.test", []string{"nurse@nhs.test"}, "To Leeds", "Message-ID: <to-leeds@nhs.test>\r\n")
	local := newAPIClient(t, e.srv, "loc@nhs.test")
	var prob problemOut
	if code := local.call("GET", "/api/v1/admin/trace?message_id=barts-only@nhs.test", nil, &prob); code != http.StatusNotFound {
		t.Errorf("a local administrator tracing a message outside their organisations: %d %q, want 404", code, prob.Detail)
	}
	var out struct{ Messages []struct{ Subject string } }
	if code := local.call("GET", "/api/v1/admin/trace?message_id=to-leeds@nhs.test", nil, &out); code != http.StatusOK || len(out.Messages) != 1 || out.Messages[0].Subject != "To Leeds" {
		t.Errorf("a local administrator tracing a message to their organisation: %d %+v", code, out)
	}
}
