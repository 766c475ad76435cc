package server_test

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"wardmail/server"
	"wardmail/store"
)

// The lists over HTTPS: the audience API, administrators' and owners' list APIs.

// The audience API and the administrators' list API over HTTPS, with HTTP
// Basic sign-in, as the CLI and the webmail use them.
func TestAudienceAndListAPI(t *testing.T) {
	e := startListServer(t, []who{{"amira@nhs.test", leeds, "Nurse", "LGI"}, {"ben@nhs.test", leeds, "Doctor", "LGI"},
		{"dev@nhs.test", barts, "Nurse", "RLH"}, {"nat@nhs.test", barts, "IT", "RLH"}, {"loc@nhs.test", leeds, "IT", "LGI"}},
		func(c *server.Config) { c.ConfirmAudienceAbove = 1 })
	if err := e.st.GrantAdmin(e.ctx, "test", e.id("nat@nhs.test"), store.RoleNational, 0); err != nil {
		t.Fatal(err)
	}
	p, _ := e.st.PersonByEmail(e.ctx, "loc@nhs.test")
	if err := e.st.GrantAdmin(e.ctx, "test", p.ID, store.RoleLocal, p.OrgID); err != nil {
		t.Fatal(err)
	}
	clients := map[string]*apiClient{}
	call := func(as, method, path string, body any, out any) int {
		t.Helper()
		if clients[as] == nil {
			clients[as] = newAPIClient(t, e.srv, as)
		}
		return clients[as].call(method, path, body, out)
	}
	// A local administrator cannot make a national list; a national one can.
	var prob map[string]any
	if code := call("loc@nhs.test", "POST", "/api/v1/admin/lists", map[string]any{"address": "all@nhs.test", "name": "All", "rule": "*", "scope": "national"}, &prob); code != 403 {
		t.Errorf("local admin creating a national list: %d %v", code, prob)
	}
	var lv map[string]any
	if code := call("nat@nhs.test", "POST", "/api/v1/admin/lists", map[string]any{"address": "all@nhs.test", "name": "All", "rule": "*", "scope": "national", "owners": []string{"amira@nhs.test"}}, &lv); code != 201 || lv["size"] != float64(5) {
		t.Errorf("national admin creating a national list: %d %v", code, lv)
	}
	// A rule that does not parse is a 422 with its column.
	if code := call("loc@nhs.test", "POST", "/api/v1/admin/lists", map[string]any{"address": "x@nhs.test", "name": "X", "rule": "role = Nurse", "scope": "org:" + leeds}, &prob); code != 422 || !strings.Contains(fmt.Sprint(prob["detail"]), "column 8") {
		t.Errorf("bad rule: %d %v", code, prob)
	}
	if code := call("loc@nhs.test", "POST", "/api/v1/admin/lists", map[string]any{"address": "leeds-nurses@nhs.test", "name": "Leeds nurses", "rule": `role = "Nurse"`, "scope": "org:" + leeds}, &lv); code != 201 || lv["size"] != float64(1) {
		t.Errorf("local admin creating a Leeds list: %d %v", code, lv)
	}
	// Anyone may ask for an audience; nobody else may use the admin API.
	if code := call("ben@nhs.test", "GET", "/api/v1/admin/lists", nil, &prob); code != 403 {
		t.Errorf("a non-administrator listing lists: %d", code)
	}
	var aud struct {
		People        int64            `json:"people"`
		Organisations []map[string]any `json:"organisations"`
		Warnings      []string         `json:"warnings"`
		Blocked       *struct{ Enhanced, Reason string }
		NeedsConfirm  bool `json:"needs_confirmation"`
	}
	if code := call("amira@nhs.test", "POST", "/api/v1/audience", map[string]any{"to": []string{"leeds-nurses@nhs.test"}, "cc": []string{"dev@nhs.test"}, "bcc": []string{"amira@nhs.test"}}, &aud); code != 200 {
		t.Fatalf("audience: %d", code)
	}
	if aud.People != 2 || len(aud.Organisations) != 2 || aud.Blocked != nil || !aud.NeedsConfirm {
		t.Errorf("audience of leeds-nurses + dev + amira (amira is in leeds-nurses): %+v", aud)
	}
	if len(aud.Warnings) == 0 || !strings.Contains(aud.Warnings[len(aud.Warnings)-1], "This will reach 2 people in 2 organisations") {
		t.Errorf("warnings: %q", aud.Warnings)
	}
	// Someone outside the list is blocked, with the reason and the code.
	if code := call("dev@nhs.test", "POST", "/api/v1/audience", map[string]any{"to": []string{"leeds-nurses@nhs.test", "nobody@nhs.test"}}, &aud); code != 200 {
		t.Fatalf("audience: %d", code)
	}
	if aud.Blocked == nil || aud.Blocked.Enhanced != "5.7.1" || !strings.Contains(aud.Blocked.Reason, "Only members") {
		t.Errorf("dev (not a member) posting to leeds-nurses: blocked %+v", aud.Blocked)
	}
	if code := call("dev@nhs.test", "POST", "/api/v1/audience", map[string]any{"to": "not a list"}, &prob); code != 400 {
		t.Errorf("wrong JSON type: %d %v", code, prob)
	}
	// Trace and purge through the API.
	e.mustSubmit("amira@nhs.test", []string{"all@nhs.test"}, "traced", "Message-ID: <trace-me@nhs.test>\r\n")
	var tr struct {
		Messages []store.Trace `json:"messages"`
	}
	if code := call("nat@nhs.test", "GET", "/api/v1/admin/trace?message_id=trace-me@nhs.test", nil, &tr); code != 200 || len(tr.Messages) != 1 || tr.Messages[0].Pending != 5 {
		t.Errorf("trace: %d %+v", code, tr)
	}
	if code := call("loc@nhs.test", "POST", "/api/v1/admin/purge", map[string]any{"message_id": "trace-me@nhs.test"}, &prob); code != 403 {
		t.Errorf("local admin purging: %d", code)
	}
	var pr store.PurgeResult
	if code := call("nat@nhs.test", "POST", "/api/v1/admin/purge", map[string]any{"message_id": "trace-me@nhs.test"}, &pr); code != 200 || pr.Pending != 5 {
		t.Errorf("purge: %d %+v", code, pr)
	}
	if got := e.subjects("ben@nhs.test"); len(got) != 0 {
		t.Errorf("after the purge ben sees %q", got)
	}
}

// Owners moderate their own list over the API; nobody else may.
func TestOwnerModeratesOverAPI(t *testing.T) {
	e := startListServer(t, []who{{"owner@nhs.test", leeds, "Manager", "LGI"}, {"mem@nhs.test", leeds, "Nurse", "LGI"},
		{"poster@nhs.test", barts, "Nurse", "RLH"}}, nil)
	l := e.staticList("mod@nhs.test", "owner@nhs.test", "owner@nhs.test", "mem@nhs.test")
	if err := e.st.SetPostPolicy(e.ctx, "test", l.ID, "moderated", nil, 0); err != nil {
		t.Fatal(err)
	}
	e.mustSubmit("poster@nhs.test", []string{"mod@nhs.test"}, "for the team")
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	call := func(as, method, path string, body any, out any) int {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, "https://"+e.srv.Addrs["http"]+path, rd)
		req.SetBasicAuth(as, "pw-"+as)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if out != nil {
			_ = json.NewDecoder(resp.Body).Decode(out)
		}
		return resp.StatusCode
	}
	var held struct{ Held []store.Held }
	if code := call("mem@nhs.test", "GET", "/api/v1/lists/mod@nhs.test/held", nil, nil); code != 403 {
		t.Errorf("a member reading the moderation queue: %d", code)
	}
	if code := call("owner@nhs.test", "GET", "/api/v1/lists/mod@nhs.test/held", nil, &held); code != 200 || len(held.Held) != 1 {
		t.Fatalf("owner's queue: %d %+v", code, held)
	}
	var h store.Held
	if code := call("owner@nhs.test", "POST", fmt.Sprintf("/api/v1/lists/mod@nhs.test/held/%d", held.Held[0].ID), map[string]any{"approve": true}, &h); code != 200 || h.State != "approved" {
		t.Errorf("approve: %d %+v", code, h)
	}
	if got := e.subjects("mem@nhs.test"); !equal(got, []string{"for the team"}) {
		t.Errorf("after approval mem sees %q", got)
	}
	if got := strings.Join(e.subjects("poster@nhs.test"), "|"); !strings.Contains(got, "was approved") {
		t.Errorf("the poster was not told of the approval: %s", got)
	}
	var mine struct{ Lists []map[string]any }
	if code := call("owner@nhs.test", "GET", "/api/v1/lists", nil, &mine); code != 200 || len(mine.Lists) != 1 {
		t.Errorf("owner's lists: %d %+v", code, mine)
	}
	if code := call("owner@nhs.test", "POST", "/api/v1/lists/mod@nhs.test/members", map[string]any{"members": []string{"poster@nhs.test"}}, nil); code != 200 {
		t.Errorf("owner adding a member: %d", code)
	}
	if ok, _ := e.st.IsMember(e.ctx, l.ID, e.id("poster@nhs.test")); !ok {
		t.Error("poster is not a member after the owner added them")
	}
}

// An administrator's password alone over HTTP Basic does not reach the
// admin API: two-step sign-in is mandatory for administrators.
func TestAdminAPINeedsTwoStepSignIn(t *testing.T) {
	e := startListServer(t, []who{{"nat@nhs.test", barts, "IT", "RLH"}}, nil)
	if err := e.st.GrantAdmin(e.ctx, "test", e.id("nat@nhs.test"), store.RoleNational, 0); err != nil {
		t.Fatal(err)
	}
	basic := func() (int, string) {
		t.Helper()
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
		req, _ := http.NewRequest("GET", "https://"+e.srv.Addrs["http"]+"/api/v1/admin/lists", nil)
		req.SetBasicAuth("nat@nhs.test", "pw-nat@nhs.test")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var p struct{ Type string }
		_ = json.NewDecoder(resp.Body).Decode(&p)
		return resp.StatusCode, p.Type
	}
	if code, typ := basic(); code != 403 || !strings.HasSuffix(typ, "totp-setup-required") {
		t.Errorf("Basic as an administrator without TOTP: %d %s", code, typ)
	}
	c := newAPIClient(t, e.srv, "nat@nhs.test") // enrols TOTP, signs in with a code
	if code := c.call("GET", "/api/v1/admin/lists", nil, nil); code != 200 {
		t.Errorf("a two-step session: %d", code)
	}
	if code, _ := basic(); code != 401 {
		t.Errorf("Basic as an administrator with TOTP: %d, want 401 (no second factor)", code)
	}
}
