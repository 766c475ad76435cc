package server_test

import (
	"fmt"
	"strings"
	"testing"

	"wardmail/server"
	"wardmail/store"
)

// Lists inside lists: rights travel with the message. A post to a list
// reaches the lists inside it only as the sender could have posted to them
// directly, and a list goes inside another only when the outer list's owners
// may post to it.

// nestingPeople: Leeds owns a team list; Barts owns a moderated list; the
// national list takes posts from named senders only.
var nestingPeople = []who{
	{"lowner@nhs.test", leeds, "Manager", "LGI"}, {"lmember@nhs.test", leeds, "Nurse", "LGI"},
	{"bowner@nhs.test", barts, "Manager", "RLH"}, {"bnurse@nhs.test", barts, "Nurse", "RLH"},
	{"natowner@nhs.test", barts, "Comms", "RLH"}, {"reader@nhs.test", barts, "Porter", "RLH"},
	{"nat@nhs.test", barts, "IT", "RLH"},
}

// heldPost is a held post as the owners' API shows it.
type heldPost struct {
	ID      int64    `json:"id"`
	List    string   `json:"list"`
	PostTo  string   `json:"post_to"`
	Reason  string   `json:"reason"`
	State   string   `json:"state"`
	Waiting []string `json:"waiting"`
}

// nest puts inner inside outer as the test fixture (the store call the
// doors use), failing the test when refused.
func (e *listEnv) nest(outer, inner *store.List) {
	e.t.Helper()
	if err := e.st.AddListMembers(e.ctx, "test", outer.ID, nil, []int64{inner.ID}); err != nil {
		e.t.Fatalf("nesting %s in %s: %v", inner.Address, outer.Address, err)
	}
}

func (e *listEnv) policy(l *store.List, policy string, senders ...string) {
	e.t.Helper()
	if err := e.st.SetPostPolicy(e.ctx, "test", l.ID, policy, e.ids(senders...), 0); err != nil {
		e.t.Fatal(err)
	}
}

// A moderated list inside a Leeds team list: a team member's post to the
// team is held for the inner list's moderators (over SMTP submission, 250
// and a notice), reaches nobody until they approve over the owners' API, and
// then reaches everyone on the team, the inner list's members included.
func TestNestedModeratedListHoldsThePost(t *testing.T) {
	e := startListServer(t, nestingPeople, nil)
	team := e.staticList("leeds-team@nhs.test", "lowner@nhs.test", "lowner@nhs.test", "lmember@nhs.test")
	mod := e.staticList("barts-mod@nhs.test", "bowner@nhs.test", "bnurse@nhs.test")
	e.policy(mod, "moderated")
	e.nest(team, mod)

	e.mustSubmit("lmember@nhs.test", []string{"leeds-team@nhs.test"}, "shift swap")
	if got := e.subjects("bnurse@nhs.test"); len(got) != 0 {
		t.Fatalf("the moderated inner list's member got a post nobody approved: %q", got)
	}
	if got := e.subjects("lowner@nhs.test"); len(got) != 0 {
		t.Errorf("the held post reached the outer list before the inner moderators approved: %q", got)
	}
	if got := strings.Join(e.subjects("lmember@nhs.test"), "|"); !strings.Contains(got, "Your post to leeds-team@nhs.test is held for moderation") {
		t.Errorf("the sender was not told the post is held: %s", got)
	}

	bowner := newAPIClient(t, e.srv, "bowner@nhs.test")
	var held struct{ Held []heldPost }
	if code := bowner.call("GET", "/api/v1/lists/barts-mod@nhs.test/held", nil, &held); code != 200 || len(held.Held) != 1 {
		t.Fatalf("the inner list's moderation queue: %d %+v", code, held)
	}
	if h := held.Held[0]; h.PostTo != "leeds-team@nhs.test" || !strings.Contains(h.Reason, "barts-mod@nhs.test") {
		t.Errorf("held post: %+v, want it for leeds-team@nhs.test, held by barts-mod@nhs.test", h)
	}
	// The outer list's owner cannot approve it for the inner moderators.
	lowner := newAPIClient(t, e.srv, "lowner@nhs.test")
	if code := lowner.call("POST", fmt.Sprintf("/api/v1/lists/barts-mod@nhs.test/held/%d", held.Held[0].ID), map[string]any{"approve": true}, nil); code != 403 {
		t.Errorf("the outer list's owner approving for the inner list's moderators: %d", code)
	}
	var h heldPost
	if code := bowner.call("POST", fmt.Sprintf("/api/v1/lists/barts-mod@nhs.test/held/%d", held.Held[0].ID), map[string]any{"approve": true}, &h); code != 200 || h.State != "approved" {
		t.Fatalf("approve: %d %+v", code, h)
	}
	for _, p := range []string{"bnurse@nhs.test", "lowner@nhs.test"} {
		if got := e.subjects(p); !equal(got, []string{"shift swap"}) {
			t.Errorf("after approval %s sees %q", p, got)
		}
	}
	if got := strings.Join(e.subjects("lmember@nhs.test"), "|"); !strings.Contains(got, "Your post to leeds-team@nhs.test") || !strings.Contains(got, "shift swap") {
		t.Errorf("the sender was not told of the approval or did not get the post: %s", got)
	}

	// A post that two lists hold goes when both approve; one rejection
	// rejects it for both.
	e.policy(team, "moderated")
	e.mustSubmit("reader@nhs.test", []string{"leeds-team@nhs.test"}, "two moderators")
	var teamHeld, modHeld struct{ Held []heldPost }
	lowner.call("GET", "/api/v1/lists/leeds-team@nhs.test/held", nil, &teamHeld)
	bowner.call("GET", "/api/v1/lists/barts-mod@nhs.test/held", nil, &modHeld)
	if len(teamHeld.Held) != 1 || len(modHeld.Held) != 1 {
		t.Fatalf("held by both lists: %+v %+v", teamHeld, modHeld)
	}
	// Each queue says whose approval the post still waits for.
	if w := teamHeld.Held[0].Waiting; len(w) != 1 || w[0] != "barts-mod@nhs.test" {
		t.Errorf("leeds-team's queue: waiting for %q, want barts-mod@nhs.test", w)
	}
	if w := modHeld.Held[0].Waiting; len(w) != 1 || w[0] != "leeds-team@nhs.test" {
		t.Errorf("barts-mod's queue: waiting for %q, want leeds-team@nhs.test", w)
	}
	if code := lowner.call("POST", fmt.Sprintf("/api/v1/lists/leeds-team@nhs.test/held/%d", teamHeld.Held[0].ID), map[string]any{"approve": true}, &h); code != 200 || len(h.Waiting) != 1 || h.Waiting[0] != "barts-mod@nhs.test" {
		t.Errorf("first approval: %d %+v, want it waiting for barts-mod@nhs.test", code, h)
	}
	if got := e.subjects("lmember@nhs.test"); strings.Contains(strings.Join(got, "|"), "|two moderators") {
		t.Errorf("the post went out with one of two approvals: %q", got)
	}
	if code := bowner.call("POST", fmt.Sprintf("/api/v1/lists/barts-mod@nhs.test/held/%d", modHeld.Held[0].ID), map[string]any{"approve": false, "reason": "not for Barts"}, &h); code != 200 || h.State != "rejected" {
		t.Errorf("rejection: %d %+v", code, h)
	}
	if got := e.subjects("bnurse@nhs.test"); !equal(got, []string{"shift swap"}) {
		t.Errorf("after the rejection bnurse sees %q", got)
	}
}

// The national list takes posts from named senders only; a Leeds list holds
// a regional list that holds it. A Leeds member posting to the Leeds list is
// refused at RCPT with a 550 5.7.1 naming the national list and why, and
// nobody receives anything; the audience API says the same before sending,
// with each inner list's verdict.
func TestNestedSendersOnlyListRefusesThroughOuterList(t *testing.T) {
	e := startListServer(t, nestingPeople, nil)
	national := e.staticList("national@nhs.test", "natowner@nhs.test", "bnurse@nhs.test")
	// The Leeds owner is a named sender of the national list, so may nest it.
	e.policy(national, "senders", "lowner@nhs.test")
	regional := e.staticList("regional@nhs.test", "lowner@nhs.test", "reader@nhs.test")
	e.policy(regional, "org")
	team := e.staticList("leeds-all@nhs.test", "lowner@nhs.test", "lowner@nhs.test", "lmember@nhs.test")
	e.nest(regional, national)
	e.nest(team, regional)

	err := e.submit("lmember@nhs.test", []string{"leeds-all@nhs.test"}, "to all of England")
	if got := code(err); got != "550 5.7.1" || !strings.Contains(err.Error(), "national@nhs.test") || !strings.Contains(err.Error(), "Only the named senders of national@nhs.test") {
		t.Errorf("a member of the Leeds list posting through it to the national list: %v", err)
	}
	for _, p := range []string{"bnurse@nhs.test", "reader@nhs.test", "lowner@nhs.test"} {
		if got := e.subjects(p); len(got) != 0 {
			t.Errorf("%s received %q from a refused post", p, got)
		}
	}
	// The named sender gets through, to everyone.
	e.mustSubmit("lowner@nhs.test", []string{"leeds-all@nhs.test"}, "from a named sender")
	if got := e.subjects("bnurse@nhs.test"); !equal(got, []string{"from a named sender"}) {
		t.Errorf("bnurse sees %q", got)
	}

	var aud struct {
		Lists []struct {
			Address, Verdict, Reason, Via, Policy string
		}
		Blocked *struct{ Enhanced, Reason string }
	}
	api := newAPIClient(t, e.srv, "lmember@nhs.test")
	if code := api.call("POST", "/api/v1/audience", map[string]any{"to": []string{"leeds-all@nhs.test"}}, &aud); code != 200 {
		t.Fatalf("audience: %d", code)
	}
	if aud.Blocked == nil || aud.Blocked.Enhanced != "5.7.1" || !strings.Contains(aud.Blocked.Reason, "national@nhs.test") {
		t.Errorf("audience blocked: %+v, want 5.7.1 naming national@nhs.test", aud.Blocked)
	}
	verdicts := map[string]string{}
	for _, l := range aud.Lists {
		verdicts[l.Address] = l.Verdict + " via " + l.Via + " (" + l.Policy + ")"
	}
	want := map[string]string{
		"leeds-all@nhs.test": "refuse via  (members)",
		"regional@nhs.test":  "accept via leeds-all@nhs.test (org)",
		"national@nhs.test":  "refuse via regional@nhs.test (senders)",
	}
	for a, w := range want {
		if verdicts[a] != w {
			t.Errorf("audience verdict for %s: %q, want %q (all: %+v)", a, verdicts[a], w, aud.Lists)
		}
	}
}

// Nesting is refused, with a sentence naming the inner list and its policy,
// when the outer list's owners may not post to it: through the owners' API,
// the administrators' API (adding members, creating a list); a moderated
// list may go inside (its moderators hold the posts).
func TestNestingRefusedWhenOwnersMayNotPost(t *testing.T) {
	e := startListServer(t, nestingPeople, nil)
	if err := e.st.GrantAdmin(e.ctx, "test", e.id("nat@nhs.test"), store.RoleNational, 0); err != nil {
		t.Fatal(err)
	}
	national := e.staticList("national@nhs.test", "natowner@nhs.test", "bnurse@nhs.test")
	e.policy(national, "senders", "natowner@nhs.test")
	e.staticList("leeds-team@nhs.test", "lowner@nhs.test", "lowner@nhs.test", "lmember@nhs.test")
	mod := e.staticList("barts-mod@nhs.test", "bowner@nhs.test", "bnurse@nhs.test")
	e.policy(mod, "moderated")

	refused := func(what string, code int, prob map[string]any) {
		t.Helper()
		detail := fmt.Sprint(prob["detail"])
		if code != 422 || prob["field"] != "members" || !strings.Contains(detail, "national@nhs.test cannot be put inside leeds-team@nhs.test") ||
			!strings.Contains(detail, `posting policy is "senders"`) || !strings.Contains(detail, "lowner@nhs.test") {
			t.Errorf("%s: %d %v", what, code, prob)
		}
	}
	owner := newAPIClient(t, e.srv, "lowner@nhs.test")
	var prob map[string]any
	code := owner.call("POST", "/api/v1/lists/leeds-team@nhs.test/members", map[string]any{"members": []string{"national@nhs.test"}}, &prob)
	refused("the owner nesting the national list", code, prob)

	admin := newAPIClient(t, e.srv, "nat@nhs.test")
	prob = nil
	code = admin.call("POST", "/api/v1/admin/lists/leeds-team@nhs.test/members", map[string]any{"members": []string{"national@nhs.test"}}, &prob)
	refused("an administrator nesting the national list", code, prob)
	prob = nil
	code = admin.call("POST", "/api/v1/admin/lists", map[string]any{"address": "leeds-new@nhs.test", "name": "New", "owners": []string{"lowner@nhs.test"},
		"members": []string{"national@nhs.test"}}, &prob)
	detail := fmt.Sprint(prob["detail"])
	if code != 422 || !strings.Contains(detail, "national@nhs.test cannot be put inside leeds-new@nhs.test") || !strings.Contains(detail, `"senders"`) {
		t.Errorf("creating a list with the national list inside: %d %v", code, prob)
	}
	if size, _ := e.st.ListByAddress(e.ctx, "leeds-team@nhs.test"); size.Size != 2 {
		t.Errorf("leeds-team has %d members after refused nestings, want 2", size.Size)
	}

	// A moderated list may go inside: its moderators hold the posts.
	if code := owner.call("POST", "/api/v1/lists/leeds-team@nhs.test/members", map[string]any{"members": []string{"barts-mod@nhs.test"}}, nil); code != 200 {
		t.Errorf("the owner nesting a moderated list: %d", code)
	}
}

// Governance travels too: a list inside that waits for administrators'
// approval (it is over the approval threshold) defers a post to an approved
// outer list with 451 4.7.1 naming it, as a post to it directly would be.
func TestNestedListGovernanceDefersThePost(t *testing.T) {
	e := startListServer(t, nestingPeople, func(c *server.Config) { c.ListSendersOnlyAbove, c.ListApprovalAbove = 10, 2 })
	big := e.staticList("barts-big@nhs.test", "bowner@nhs.test", "bowner@nhs.test", "bnurse@nhs.test", "reader@nhs.test")
	e.policy(big, "org")
	team := e.staticList("leeds-team@nhs.test", "lowner@nhs.test", "lowner@nhs.test")
	e.nest(team, big) // waiting for approval is no refusal: it may go inside
	// The outer list is approved at its size; the inner one is not.
	if _, err := e.st.ApproveList(e.ctx, "nat@nhs.test", team.ID, e.id("nat@nhs.test"), 1); err != nil {
		t.Fatal(err)
	}
	err := e.submit("lowner@nhs.test", []string{"leeds-team@nhs.test"}, "before approval")
	if got := code(err); got != "451 4.7.1" || !strings.Contains(err.Error(), "barts-big@nhs.test") || !strings.Contains(err.Error(), "approval") {
		t.Errorf("posting through an unapproved inner list: %v", err)
	}
	if got := e.subjects("bnurse@nhs.test"); len(got) != 0 {
		t.Errorf("the unapproved inner list's member got %q", got)
	}
}
