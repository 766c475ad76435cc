package server_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"wardmail/privilege"
	"wardmail/store"
	"wardmail/web"
)

// The privilege model through the HTTPS API: every administrators' route,
// asked by every rank, about a subject inside and outside the asker's
// organisations. Each case gets fresh subjects, so what one case changes
// does not decide the next.

// Outcomes: A allowed (2xx), F forbidden (403), H hidden (404: outside the
// asker's organisations, as if it did not exist), V refused as invalid (422).
type privCase struct {
	kind string // the kind of subject: none, person, org, list, dynlist, held, message
	body func(s subject) any
	// want: per rank (staff, owner, local, national), one outcome per subject
	// of the kind, in the order of subjectsOf.
	want [4]string
}

var subjectsOf = map[string][]string{
	"none":        {"-"},
	"person":      {"staff-in", "staff-out", "local-peer", "national-in", "self"},
	"org":         {"org-in", "org-out"},
	"list":        {"list-in", "list-out"},
	"dynlist":     {"dyn-in", "dyn-out"},
	"held":        {"held-in", "held-out"},
	"message":     {"msg-in", "msg-out"},
	"quarantined": {"qmsg-in", "qmsg-out"},
}

// subject is what a case acts on.
type subject struct {
	email, org, list, msgID, scope string
	held                           int64
}

var ranks = [4]string{"staff@nhs.test", "owner@nhs.test", "loc@nhs.test", "nat@nhs.test"}

func noBody(subject) any { return nil }

var privTable = map[string]privCase{
	"GET /api/v1/admin/scope":  {kind: "none", body: noBody, want: [4]string{"F", "F", "A", "A"}},
	"GET /api/v1/admin/audit":  {kind: "none", body: noBody, want: [4]string{"F", "F", "A", "A"}},
	"GET /api/v1/admin/people": {kind: "none", body: noBody, want: [4]string{"F", "F", "A", "A"}},
	"POST /api/v1/admin/people": {kind: "org", want: [4]string{"FF", "FF", "AV", "AA"}, body: func(s subject) any {
		return map[string]string{"email": "new-" + s.email, "name": "New Person", "org": s.org}
	}},
	"POST /api/v1/admin/people/{email}/disable": {kind: "person", body: noBody,
		want: [4]string{"FFFFF", "FFFFF", "AHFFF", "AAAAF"}},
	"POST /api/v1/admin/people/{email}/enable": {kind: "person", body: noBody,
		want: [4]string{"FFFFF", "FFFFF", "AHFFF", "AAAAF"}},
	"POST /api/v1/admin/people/{email}/password": {kind: "person",
		body: func(subject) any { return map[string]string{"password": "Correct-horse-battery-2026"} },
		want: [4]string{"FFFFF", "FFFFF", "AHFFF", "AAAAF"}},
	"GET /api/v1/admin/people/{email}": {kind: "person", body: noBody,
		want: [4]string{"FFFFF", "FFFFF", "AHAAA", "AAAAA"}},
	"GET /api/v1/admin/lockouts": {kind: "none", body: noBody, want: [4]string{"F", "F", "A", "A"}},
	"POST /api/v1/admin/unlock": {kind: "person",
		body: func(s subject) any { return map[string]any{"accounts": []string{s.email}} },
		want: [4]string{"FFFFF", "FFFFF", "AHFFF", "AAAAA"}},
	"PUT /api/v1/admin/incident": {kind: "none", body: func(subject) any { return map[string]bool{"on": false} },
		want: [4]string{"F", "F", "F", "A"}},
	"POST /api/v1/admin/lists/preview": {kind: "org", want: [4]string{"FF", "FF", "AF", "AA"}, body: func(s subject) any {
		return map[string]string{"rule": `role = "Nurse"`, "scope": "org:" + s.org}
	}},
	"GET /api/v1/admin/lists": {kind: "none", body: noBody, want: [4]string{"F", "F", "A", "A"}},
	"POST /api/v1/admin/lists": {kind: "org", want: [4]string{"FF", "FF", "AF", "AA"}, body: func(s subject) any {
		return map[string]string{"address": "new-" + s.email, "name": "New list", "rule": `role = "Nurse"`, "scope": "org:" + s.org}
	}},
	"GET /api/v1/admin/lists/{list}":    {kind: "list", body: noBody, want: [4]string{"FF", "FF", "AF", "AA"}},
	"DELETE /api/v1/admin/lists/{list}": {kind: "list", body: noBody, want: [4]string{"FF", "FF", "AF", "AA"}},
	"PUT /api/v1/admin/lists/{list}/rule": {kind: "dynlist", want: [4]string{"FF", "FF", "AF", "AA"}, body: func(s subject) any {
		return map[string]string{"rule": `role = "IT"`, "scope": s.scope}
	}},
	"PUT /api/v1/admin/lists/{list}/owners": {kind: "list", want: [4]string{"FF", "FF", "AF", "AA"}, body: func(s subject) any {
		return map[string]any{"owners": []string{s.email}}
	}},
	"PUT /api/v1/admin/lists/{list}/policy": {kind: "list", want: [4]string{"FF", "FF", "AF", "AA"}, body: func(subject) any {
		return map[string]any{"policy": "members"}
	}},
	"POST /api/v1/admin/lists/{list}/approve": {kind: "list", body: noBody, want: [4]string{"FF", "FF", "FF", "AA"}},
	"POST /api/v1/admin/lists/{list}/members": {kind: "list", want: [4]string{"FF", "FF", "AF", "AA"}, body: func(s subject) any {
		return map[string]any{"members": []string{s.email}}
	}},
	"DELETE /api/v1/admin/lists/{list}/members": {kind: "list", want: [4]string{"FF", "FF", "AF", "AA"}, body: func(s subject) any {
		return map[string]any{"members": []string{s.email}}
	}},
	"GET /api/v1/admin/held": {kind: "none", body: noBody, want: [4]string{"F", "F", "A", "A"}},
	"POST /api/v1/admin/held/{id}": {kind: "held", want: [4]string{"FF", "FF", "AF", "AA"}, body: func(subject) any {
		return map[string]any{"approve": false, "reason": "Not for this list."}
	}},
	"POST /api/v1/admin/purge": {kind: "message", want: [4]string{"FF", "FF", "FF", "AA"}, body: func(s subject) any {
		return map[string]any{"message_id": s.msgID, "dry_run": true}
	}},
	"GET /api/v1/admin/trace":                    {kind: "message", body: noBody, want: [4]string{"FF", "FF", "AH", "AA"}},
	"GET /api/v1/admin/storms":                   {kind: "none", body: noBody, want: [4]string{"F", "F", "A", "A"}},
	"POST /api/v1/admin/storms/{thread}/block":   {kind: "message", body: noBody, want: [4]string{"FF", "FF", "AA", "AA"}},
	"POST /api/v1/admin/storms/{thread}/unblock": {kind: "message", body: noBody, want: [4]string{"FF", "FF", "FF", "AA"}},
	"GET /api/v1/admin/quarantine":               {kind: "none", body: noBody, want: [4]string{"F", "F", "A", "A"}},
	"GET /api/v1/admin/quarantine/{id}":          {kind: "quarantined", body: noBody, want: [4]string{"FF", "FF", "AH", "AA"}},
	"POST /api/v1/admin/quarantine/{id}/release": {kind: "quarantined", body: noBody, want: [4]string{"FF", "FF", "AH", "AA"}},
	"DELETE /api/v1/admin/quarantine/{id}":       {kind: "quarantined", body: noBody, want: [4]string{"FF", "FF", "AH", "AA"}},
	"GET /api/v1/admin/tls-reports":              {kind: "none", body: noBody, want: [4]string{"F", "F", "A", "A"}},
	// Report 0 does not exist: administrators are told so, others refused first.
	"GET /api/v1/admin/tls-reports/{id}": {kind: "none", body: noBody, want: [4]string{"F", "F", "H", "H"}},
	// The outbound queue is every organisation's mail: national only ({id}
	// names no queued message here, hence H for the one who may look).
	"GET /api/v1/admin/queue":                            {kind: "none", body: noBody, want: [4]string{"F", "F", "F", "A"}},
	"GET /api/v1/admin/queue/{id}":                       {kind: "none", body: noBody, want: [4]string{"F", "F", "F", "H"}},
	"POST /api/v1/admin/queue/{id}/{action}":             {kind: "none", body: noBody, want: [4]string{"F", "F", "F", "A"}},
	"POST /api/v1/admin/queue/domains/{domain}/{action}": {kind: "none", body: noBody, want: [4]string{"F", "F", "F", "A"}},

	// Owners' own lists: the owner, and the administrators who manage the list.
	"GET /api/v1/lists/{list}/held":       {kind: "list", body: noBody, want: [4]string{"FF", "AF", "AF", "AA"}},
	"POST /api/v1/lists/{list}/held/{id}": {kind: "held", want: [4]string{"FF", "AF", "AF", "AA"}, body: func(subject) any { return map[string]any{"approve": false} }},
	"POST /api/v1/lists/{list}/members": {kind: "list", want: [4]string{"FF", "AF", "AF", "AA"}, body: func(s subject) any {
		return map[string]any{"members": []string{s.email}}
	}},
}

// ownerRoutes are the routes of owners' own lists, walked with the
// administrators' ones.
var ownerRoutes = []string{"GET /api/v1/lists/{list}/held", "POST /api/v1/lists/{list}/held/{id}", "POST /api/v1/lists/{list}/members"}

func TestPrivilegeTable(t *testing.T) {
	// Every administrators' route has an entry, and every entry a route: a
	// new route without a decision here fails.
	routes := web.AdminRoutes()
	for pattern, action := range routes {
		if _, ok := privTable[pattern]; !ok {
			t.Errorf("%s (%s) has no entry in the privilege table test", pattern, action)
		}
		if _, ok := privilege.Rules[action]; !ok {
			t.Errorf("%s needs %s, which privilege.Rules does not know", pattern, action)
		}
	}
	for pattern := range privTable {
		if _, ok := routes[pattern]; !ok && !slices.Contains(ownerRoutes, pattern) {
			t.Errorf("the privilege table test names %s, which is not a route", pattern)
		}
	}

	e := startListServer(t, []who{
		{"staff@nhs.test", leeds, "Nurse", "LGI"}, {"owner@nhs.test", leeds, "Nurse", "LGI"},
		{"loc@nhs.test", leeds, "IT", "LGI"}, {"nat@nhs.test", barts, "IT", "RLH"},
		{"sender@nhs.test", leeds, "Nurse", "LGI"}, {"bsender@nhs.test", barts, "Nurse", "RLH"},
		{"bowner@nhs.test", barts, "Nurse", "RLH"},
	}, nil)
	grant := func(email, role string) {
		t.Helper()
		p, err := e.st.PersonByEmail(e.ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		org := p.OrgID
		if role == store.RoleNational {
			org = 0
		}
		if err := e.st.GrantAdmin(e.ctx, "test", p.ID, role, org); err != nil {
			t.Fatal(err)
		}
	}
	grant("loc@nhs.test", store.RoleLocal)
	grant("nat@nhs.test", store.RoleNational)
	clients := map[string]*apiClient{}
	for _, r := range ranks {
		clients[r] = newAPIClient(t, e.srv, r)
	}

	n := 0
	fresh := func(kind, name, actor string) subject {
		t.Helper()
		n++
		id := fmt.Sprintf("t%d", n)
		in := strings.HasSuffix(name, "-in") || name == "local-peer"
		org, owner, sender := barts, "bowner@nhs.test", "bsender@nhs.test"
		if in {
			org, owner, sender = leeds, "owner@nhs.test", "sender@nhs.test"
		}
		s := subject{email: id + "@nhs.test", org: org}
		switch kind {
		case "person":
			if name == "self" {
				return subject{email: actor}
			}
			e.upsert(who{s.email, org, "Nurse", "LGI"})
			switch name {
			case "local-peer":
				grant(s.email, store.RoleLocal)
			case "national-in":
				grant(s.email, store.RoleNational)
			}
		case "org":
		case "list":
			e.upsert(who{s.email, org, "Nurse", "LGI"})
			s.list = e.staticList(id+"-list@nhs.test", owner, s.email).Address
			s.email = owner
		case "dynlist":
			s.scope = "org:" + org
			s.list = e.dynamicList(id+"-dyn@nhs.test", owner, `role = "Nurse"`, s.scope).Address
		case "held":
			l := e.staticList(id+"-mod@nhs.test", owner, sender)
			if err := e.st.SetPostPolicy(e.ctx, "test", l.ID, "moderated", nil, 0); err != nil {
				t.Fatal(err)
			}
			e.mustSubmit(sender, []string{l.Address}, "For the moderators "+id)
			held, err := e.st.HeldPosts(e.ctx, l.ID)
			if err != nil || len(held) != 1 {
				t.Fatalf("held posts of %s: %v %v", l.Address, held, err)
			}
			s.list, s.held = l.Address, held[0].ID
		case "message":
			s.msgID = "<" + id + "@nhs.test>"
			e.upsert(who{s.email, org, "Nurse", "LGI"})
			e.mustSubmit(sender, []string{s.email}, "Message "+id, "Message-ID: "+s.msgID+"\r\n")
		case "quarantined":
			e.upsert(who{s.email, org, "Nurse", "LGI"})
			s.held = e.quarantine(s.email, "Quarantined "+id)
		}
		return s
	}

	patterns := make([]string, 0, len(privTable))
	for p := range privTable {
		patterns = append(patterns, p)
	}
	slices.Sort(patterns)
	for _, pattern := range patterns {
		c := privTable[pattern]
		method, path, _ := strings.Cut(pattern, " ")
		for ri, actor := range ranks {
			for si, name := range subjectsOf[c.kind] {
				s := fresh(c.kind, name, actor)
				p := strings.NewReplacer("{email}", url.PathEscape(s.email), "{list}", url.PathEscape(s.list),
					"{id}", fmt.Sprint(s.held), "{thread}", url.PathEscape(s.msgID),
					"{action}", "hold", "{domain}", "example.org").Replace(path)
				if strings.HasSuffix(pattern, "/admin/trace") {
					p += "?message_id=" + url.QueryEscape(s.msgID)
				}
				var prob problemOut
				code := clients[actor].call(method, p, c.body(s), &prob)
				got := "?"
				switch {
				case code >= 200 && code < 300:
					got = "A"
				case code == 403:
					got = "F"
				case code == 404:
					got = "H"
				case code == 422:
					got = "V"
				}
				if want := c.want[ri][si : si+1]; got != want {
					t.Errorf("%s %s as %s on %s: got %s (%d %q), want %s", method, p, actor, name, got, code, prob.Detail, want)
				}
			}
		}
	}
}
