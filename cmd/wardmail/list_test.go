package main_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The list and admin commands, run as an operator would, on a data folder
// with no server running.
func TestListCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	run := func(wantOK bool, args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, append(args[:1:1], append([]string{args[1], "--data", data}, args[2:]...)...)...).CombinedOutput()
		if (err == nil) != wantOK {
			t.Fatalf("wardmail %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	csv := filepath.Join(t.TempDir(), "people.csv")
	rows := "email,name,org,role\n" +
		"amira@nhs.test,Amira,Leeds Teaching Hospitals NHS Trust,Nurse\n" +
		"ben@nhs.test,Ben,Leeds Teaching Hospitals NHS Trust,Doctor\n" +
		"chloe@nhs.test,Chloe,Leeds Teaching Hospitals NHS Trust,Nurse\n" +
		"dev@nhs.test,Dev,Barts Health NHS Trust,Nurse\n" +
		"nat@nhs.test,Nat,Barts Health NHS Trust,IT\n"
	if err := os.WriteFile(csv, []byte(rows), 0o600); err != nil {
		t.Fatal(err)
	}
	run(true, "directory", "import", csv)

	out := run(true, "list", "create", "--address", "leeds-nurses@nhs.test", "--name", "Leeds nurses", "--owner", "amira@nhs.test",
		"--rule", `role = "Nurse"`, "--scope", "org:Leeds Teaching Hospitals NHS Trust")
	if !strings.Contains(out, "2 members") {
		t.Errorf("create: %s", out)
	}
	out = run(false, "list", "create", "--address", "typo@nhs.test", "--owner", "amira@nhs.test", "--rule", "*", "--scope", "org:Leeds Teaching Hospital")
	if !strings.Contains(out, `no organisation called "Leeds Teaching Hospital"`) || !strings.Contains(out, "did you mean") {
		t.Errorf("mistyped scope: %s", out)
	}
	// A list goes inside another only when the outer list's owners may post
	// to it: Ben is no nurse, and leeds-nurses takes posts from its members.
	out = run(false, "list", "create", "--address", "ward@nhs.test", "--name", "Ward", "--owner", "ben@nhs.test", "--members", "ben@nhs.test,leeds-nurses@nhs.test")
	if !strings.Contains(out, "leeds-nurses@nhs.test cannot be put inside ward@nhs.test") || !strings.Contains(out, `posting policy is "members"`) {
		t.Errorf("nesting a list the owner may not post to: %s", out)
	}
	run(true, "list", "create", "--address", "ward@nhs.test", "--name", "Ward", "--owner", "ben@nhs.test", "--members", "ben@nhs.test")
	run(true, "list", "create", "--address", "theatres@nhs.test", "--name", "Theatres", "--owner", "dev@nhs.test", "--members", "dev@nhs.test")
	out = run(false, "list", "add", "theatres@nhs.test", "leeds-nurses@nhs.test")
	if !strings.Contains(out, "leeds-nurses@nhs.test cannot be put inside theatres@nhs.test") || !strings.Contains(out, "dev@nhs.test, an owner of theatres@nhs.test") {
		t.Errorf("list add of a list the owner may not post to: %s", out)
	}
	// Once everyone in Leeds may post to leeds-nurses, Ben (in Leeds) may
	// put it inside his list.
	run(true, "list", "set-policy", "leeds-nurses@nhs.test", "--post", "org")
	run(true, "list", "add", "ward@nhs.test", "leeds-nurses@nhs.test")
	run(true, "list", "add", "ward@nhs.test", "dev@nhs.test")
	run(true, "list", "remove", "ward@nhs.test", "ben@nhs.test")
	run(true, "list", "set-policy", "ward@nhs.test", "--post", "senders", "--senders", "ben@nhs.test")

	var show struct {
		Size            int64    `json:"size"`
		ApprovedSize    int64    `json:"approved_size"`
		Scope           string   `json:"scope"`
		Policy          string   `json:"policy"`
		EffectivePolicy string   `json:"effective_policy"`
		Owners          []string `json:"owners"`
		Senders         []string `json:"senders"`
	}
	if err := json.Unmarshal([]byte(run(true, "list", "show", "ward@nhs.test", "--json")), &show); err != nil {
		t.Fatal(err)
	}
	if show.Size != 3 || show.Policy != "senders" || len(show.Owners) != 1 || show.Owners[0] != "ben@nhs.test" || len(show.Senders) != 1 {
		t.Errorf("show ward: %+v", show)
	}
	if err := json.Unmarshal([]byte(run(true, "list", "show", "leeds-nurses@nhs.test", "--json")), &show); err != nil {
		t.Fatal(err)
	}
	if show.Size != 2 || show.Scope != "org:Leeds Teaching Hospitals NHS Trust" {
		t.Errorf("show leeds-nurses: %+v", show)
	}
	members := run(true, "list", "members", "ward@nhs.test")
	if !strings.Contains(members, "amira@nhs.test") || !strings.Contains(members, "dev@nhs.test") || strings.Contains(members, "ben@nhs.test") {
		t.Errorf("members of ward: %s", members)
	}

	// Approvals are an administrator's, by name.
	if out := run(false, "list", "approve", "ward@nhs.test", "--by", "dev@nhs.test"); !strings.Contains(out, "Only national administrators may do this") {
		t.Errorf("approve by a non-administrator: %s", out)
	}
	run(true, "admin", "grant", "nat@nhs.test", "--role", "national")
	if out := run(true, "list", "approve", "ward@nhs.test", "--by", "nat@nhs.test"); !strings.Contains(out, "approved at 3 members") {
		t.Errorf("approve: %s", out)
	}
	// Grown past its approved size, the list says so, with the approvals
	// still missing, in the words and the JSON the console uses.
	run(true, "list", "add", "ward@nhs.test", "ben@nhs.test")
	if out := run(true, "list", "show", "ward@nhs.test"); !strings.Contains(out, "drifted:        grown past its approved size") ||
		!strings.Contains(out, "approvals:      1 more needed (of 1)") {
		t.Errorf("show a drifted list: %s", out)
	}
	var drift struct {
		Drifted          bool `json:"drifted"`
		ApprovalsMissing int  `json:"approvals_missing"`
	}
	if err := json.Unmarshal([]byte(run(true, "list", "show", "ward@nhs.test", "--json")), &drift); err != nil || !drift.Drifted || drift.ApprovalsMissing != 1 {
		t.Errorf("show --json a drifted list: %+v %v", drift, err)
	}
	audit := run(true, "admin", "audit", "--action", "list.")
	for _, want := range []string{"list.create", "list.add", "list.remove", "list.policy", "list.approve"} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit trail lacks %s:\n%s", want, audit)
		}
	}
	if out := run(false, "admin", "purge", "--message-id", "nothing@nhs.test"); !strings.Contains(out, "no message") {
		t.Errorf("purging an unknown message: %s", out)
	}
	run(false, "list", "delete", "leeds-nurses@nhs.test") // nested in ward
	run(true, "list", "remove", "ward@nhs.test", "leeds-nurses@nhs.test")
	run(true, "list", "delete", "leeds-nurses@nhs.test")
	if out := run(false, "list", "show", "leeds-nurses@nhs.test"); !strings.Contains(out, "there is no list") {
		t.Errorf("show after delete: %s", out)
	}
}
