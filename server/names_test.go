package server_test

import (
	"fmt"
	"strings"
	"testing"

	"wardmail/store"
)

// Names with control characters, line breaks, terminal escapes or
// direction overrides are refused by the admin API with a 422 naming the
// field, as the CSV import refuses them, and nothing is stored.
func TestAdminAPIRefusesNamesWithControlCharacters(t *testing.T) {
	e := startListServer(t, []who{{"nat@nhs.test", leeds, "IT", "LGI"}}, nil)
	if err := e.st.GrantAdmin(e.ctx, "test", e.id("nat@nhs.test"), store.RoleNational, 0); err != nil {
		t.Fatal(err)
	}
	admin := newAPIClient(t, e.srv, "nat@nhs.test")
	for i, c := range []struct{ field, value, char string }{
		{"name", "Ann\u202Enna", "U+202E"},
		{"name", "Evil\x1b[2J\x1b[31mAdmin", "U+001B"},
		{"name", "Two\r\nLines", "U+000D"},
		{"name", "Nul\x00", "U+0000"},
		{"name", "Bell\x07", "U+0007"},
		{"name", "\u2066Isolated", "U+2066"},
		{"role", "Nurse\u202B", "U+202B"},
		{"site", "LGI\u200E", "U+200E"},
	} {
		req := map[string]any{"email": fmt.Sprintf("bad%d@nhs.test", i), "name": "Bad Name", "org": leeds, "role": "Nurse", "site": "LGI"}
		req[c.field] = c.value
		var prob map[string]any
		code := admin.call("POST", "/api/v1/admin/people", req, &prob)
		if code != 422 || prob["field"] != c.field || !strings.Contains(fmt.Sprint(prob["detail"]), "contains the control character "+c.char) {
			t.Errorf("adding a person with %s %q: %d %v", c.field, c.value, code, prob)
		}
	}
	var found struct{ People []map[string]any }
	if code := admin.call("GET", "/api/v1/admin/people?q=bad", nil, &found); code != 200 || len(found.People) != 0 {
		t.Errorf("people stored despite the refusals: %d %+v", code, found.People)
	}
	// A clean name still goes in.
	if code := admin.call("POST", "/api/v1/admin/people", map[string]any{"email": "good@nhs.test", "name": "Zoë O'Brien-Ndiaye", "org": leeds}, nil); code != 201 {
		t.Errorf("adding a person with a clean name: %d", code)
	}

	var prob map[string]any
	code := admin.call("POST", "/api/v1/admin/lists", map[string]any{"address": "ward@nhs.test", "name": "Ward\n7", "owners": []string{"nat@nhs.test"}, "members": []string{"nat@nhs.test"}}, &prob)
	if code != 422 || prob["field"] != "name" || !strings.Contains(fmt.Sprint(prob["detail"]), "list name contains the control character U+000A") {
		t.Errorf("creating a list with a line break in its name: %d %v", code, prob)
	}
	if _, err := e.st.ListByAddress(e.ctx, "ward@nhs.test"); err == nil {
		t.Error("the list was created despite the refusal")
	}
}
