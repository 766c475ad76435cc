package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"

	"wardmail/server"
	"wardmail/store"
)

// Posting policies, moderation and governance, through the submission door.

// Each posting policy, through the submission door, with its reply.
func TestListPostingPolicies(t *testing.T) {
	e := startListServer(t, []who{{"owner@nhs.test", leeds, "Manager", "LGI"}, {"mem@nhs.test", leeds, "Nurse", "LGI"},
		{"colleague@nhs.test", leeds, "Porter", "LGI"}, {"outsider@nhs.test", barts, "Nurse", "RLH"}, {"named@nhs.test", barts, "Comms", "RLH"}}, nil)
	l := e.staticList("team@nhs.test", "owner@nhs.test", "owner@nhs.test", "mem@nhs.test")
	set := func(policy string, senders ...string) {
		t.Helper()
		if err := e.st.SetPostPolicy(e.ctx, "test", l.ID, policy, e.ids(senders...), 0); err != nil {
			t.Fatal(err)
		}
	}
	test := func(from, want string) {
		t.Helper()
		err := e.submit(from, []string{"team@nhs.test"}, "policy test by "+from)
		if got := code(err); !strings.HasPrefix(got, want) {
			t.Errorf("%s posting: %q, want %q", from, err, want)
		}
	}
	set("members")
	test("mem@nhs.test", "")
	test("outsider@nhs.test", "550 5.7.1")
	test("colleague@nhs.test", "550 5.7.1")
	set("org")
	test("colleague@nhs.test", "")
	test("outsider@nhs.test", "550 5.7.1")
	set("senders", "named@nhs.test")
	test("named@nhs.test", "")
	test("owner@nhs.test", "")
	test("mem@nhs.test", "550 5.7.1")
	set("announce", "named@nhs.test")
	e.mustSubmit("named@nhs.test", []string{"team@nhs.test"}, "Announcement")
	err := e.submit("mem@nhs.test", []string{"team@nhs.test"}, "Re: Announcement")
	if !strings.Contains(fmt.Sprint(err), "announce-only: reply to the person who sent the message") {
		t.Errorf("a member replying to an announce-only list: %v", err)
	}
	// The announcement carries Reply-To: the sender, so reply goes there.
	c := e.imap("mem@nhs.test", nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}, &imap.FetchOptions{Envelope: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, m := range msgs {
		if m.Envelope.Subject == "Announcement" {
			found = true
			if len(m.Envelope.ReplyTo) != 1 || m.Envelope.ReplyTo[0].Addr() != "named@nhs.test" {
				t.Errorf("announcement Reply-To: %+v", m.Envelope.ReplyTo)
			}
		}
	}
	if !found {
		t.Error("mem did not get the announcement")
	}
}

// Moderated lists hold posts; the moderators approve or reject; the sender
// is told each time.
func TestListModeration(t *testing.T) {
	e := startListServer(t, []who{{"owner@nhs.test", leeds, "Manager", "LGI"}, {"mem@nhs.test", leeds, "Nurse", "LGI"},
		{"poster@nhs.test", barts, "Nurse", "RLH"}}, nil)
	l := e.staticList("mod@nhs.test", "owner@nhs.test", "owner@nhs.test", "mem@nhs.test")
	if err := e.st.SetPostPolicy(e.ctx, "test", l.ID, "moderated", nil, 0); err != nil {
		t.Fatal(err)
	}
	e.mustSubmit("poster@nhs.test", []string{"mod@nhs.test"}, "please share")
	e.mustSubmit("poster@nhs.test", []string{"mod@nhs.test"}, "spam")
	if got := e.subjects("mem@nhs.test"); len(got) != 0 {
		t.Fatalf("a held post reached a member: %q", got)
	}
	held, err := e.st.HeldPosts(e.ctx, l.ID)
	if err != nil || len(held) != 2 {
		t.Fatalf("held: %v %v", held, err)
	}
	if _, err := e.st.DecideHeld(e.ctx, "owner@nhs.test", held[0].ID, true, "", e.id("owner@nhs.test")); err != nil {
		t.Fatal(err)
	}
	h, err := e.st.DecideHeld(e.ctx, "owner@nhs.test", held[1].ID, false, "off topic", e.id("owner@nhs.test"))
	if err != nil || h.State != "rejected" {
		t.Fatal(h, err)
	}
	e.srv.Pipeline.NotifyHeld(e.ctx, h)
	if _, err := e.st.DecideHeld(e.ctx, "owner@nhs.test", held[1].ID, true, "", 0); err == nil {
		t.Error("a rejected post was approved again")
	}
	if got := e.subjects("mem@nhs.test"); !equal(got, []string{"please share"}) {
		t.Errorf("after moderation mem sees %q", got)
	}
	got := strings.Join(e.subjects("poster@nhs.test"), "|")
	for _, want := range []string{"Your post to mod@nhs.test is held for moderation", "Your post to mod@nhs.test was rejected"} {
		if !strings.Contains(got, want) {
			t.Errorf("the sender was not told %q; their INBOX: %s", want, got)
		}
	}
}

// Governance: over the named-senders threshold only named senders post
// unless an administrator decides; over the approval threshold nobody posts
// until two administrators approve; growth past 110% suspends posting.
func TestListGovernance(t *testing.T) {
	var people []who
	var members []string
	for i := 0; i < 12; i++ {
		p := fmt.Sprintf("p%02d@nhs.test", i)
		people = append(people, who{p, leeds, "Nurse", "LGI"})
		members = append(members, p)
	}
	people = append(people, who{"admin1@nhs.test", leeds, "IT", "LGI"}, who{"admin2@nhs.test", barts, "IT", "RLH"})
	e := startListServer(t, people, func(c *server.Config) {
		c.ListSendersOnlyAbove, c.ListApprovalAbove = 3, 5
	})
	l := e.staticList("big@nhs.test", "p00@nhs.test", members[:10]...)
	err := e.submit("p01@nhs.test", []string{"big@nhs.test"}, "hello all")
	if got := code(err); got != "451 4.7.1" || !strings.Contains(err.Error(), "needs 2 administrators' approval") {
		t.Errorf("posting to an unapproved large list: %v", err)
	}
	for _, a := range []string{"admin1@nhs.test", "admin2@nhs.test"} {
		if err := e.st.GrantAdmin(e.ctx, "test", e.id(a), store.RoleNational, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := e.st.ApproveList(e.ctx, a, l.ID, e.id(a), 2); err != nil {
			t.Fatal(err)
		}
	}
	// Approved at 10; a member is refused (senders only over 3)...
	err = e.submit("p01@nhs.test", []string{"big@nhs.test"}, "hello all")
	if got := code(err); got != "550 5.7.1" || !strings.Contains(err.Error(), "named senders") {
		t.Errorf("a member posting to a large list: %v", err)
	}
	// ...until an administrator lets members post: the 2016 setting.
	if err := e.st.SetPostPolicy(e.ctx, "admin1@nhs.test", l.ID, "members", nil, e.id("admin1@nhs.test")); err != nil {
		t.Fatal(err)
	}
	e.mustSubmit("p01@nhs.test", []string{"big@nhs.test"}, "hello all")
	// 11 members is 110%: still fine. 12 is more: suspended.
	if err := e.st.AddListMembers(e.ctx, "test", l.ID, e.ids("p10@nhs.test"), nil); err != nil {
		t.Fatal(err)
	}
	e.mustSubmit("p01@nhs.test", []string{"big@nhs.test"}, "at 110%")
	if err := e.st.AddListMembers(e.ctx, "test", l.ID, e.ids("p11@nhs.test"), nil); err != nil {
		t.Fatal(err)
	}
	err = e.submit("p01@nhs.test", []string{"big@nhs.test"}, "past 110%")
	if got := code(err); got != "451 4.7.1" || !strings.Contains(err.Error(), "suspended") {
		t.Errorf("posting past 110%% of the approved size: %v", err)
	}
	if l, _ := e.st.ListByID(e.ctx, l.ID); !l.Suspended {
		t.Error("the list is not marked suspended for the administrators")
	}
	// Two fresh approvals at the new size lift it.
	for _, a := range []string{"admin1@nhs.test", "admin2@nhs.test"} {
		if _, err := e.st.ApproveList(e.ctx, a, l.ID, e.id(a), 2); err != nil {
			t.Fatal(err)
		}
	}
	e.mustSubmit("p01@nhs.test", []string{"big@nhs.test"}, "re-approved")
	entries, _ := e.st.AuditLog(e.ctx, store.AuditQuery{ActionPrefix: "list."})
	var actions []string
	for _, a := range entries {
		actions = append(actions, a.Action)
	}
	for _, want := range []string{"list.suspend", "list.policy", "list.approve"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("audit trail lacks %s: %v", want, actions)
		}
	}
}
