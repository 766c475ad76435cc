package imapd

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

func TestListSpecialUseAndStatus(t *testing.T) {
	e := newEnv(t)
	e.deliver(t, e.alice, simpleMsg)
	c := e.client(t, "alice@nhs.test", nil)
	list, err := c.List("", "*", &imap.ListOptions{
		ReturnStatus: &imap.StatusOptions{NumMessages: true, NumUnseen: true, UIDNext: true},
	}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*imap.ListData{}
	for _, l := range list {
		got[l.Mailbox] = l
	}
	for _, name := range []string{"INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive"} {
		if got[name] == nil {
			t.Fatalf("LIST lacks %s: %+v", name, list)
		}
	}
	if !slices.Contains(got["Sent"].Attrs, imap.MailboxAttrSent) || !slices.Contains(got["Trash"].Attrs, imap.MailboxAttrTrash) {
		t.Errorf("special use: Sent %v Trash %v", got["Sent"].Attrs, got["Trash"].Attrs)
	}
	if st := got["INBOX"].Status; st == nil || *st.NumMessages != 1 || *st.NumUnseen != 1 || st.UIDNext != 2 {
		t.Errorf("INBOX status %+v", st)
	}

	special, err := c.List("", "*", &imap.ListOptions{SelectSpecialUse: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(special) != 5 {
		t.Errorf("SPECIAL-USE selection returned %d mailboxes", len(special))
	}

	// Raw: the delimiter query, % and the exact form of one line.
	r := e.raw(t)
	r.login("alice@nhs.test")
	if got := r.cmd("A1", `LIST "" ""`); got[0] != `* LIST (\Noselect) "/" ""` {
		t.Errorf("delimiter: %q", got)
	}
	if got := r.cmd("A2", `LIST "" "Se%"`); got[0] != `* LIST (\HasNoChildren \Sent) "/" "Sent"` || len(got) != 2 {
		t.Errorf("Se%%: %q", got)
	}
	if got := r.cmd("A3", `LIST "" inbox`); got[0] != `* LIST (\HasNoChildren) "/" INBOX` {
		t.Errorf("inbox: %q", got)
	}
}

func TestCreateRenameDelete(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, "alice@nhs.test", nil)
	if err := c.Create("Projects/Audit", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Create("Projects/Audit", nil).Wait(); imapCode(err) != "ALREADYEXISTS" {
		t.Errorf("duplicate create: %v", err)
	}
	if err := c.Create("Flagged mail", &imap.CreateOptions{SpecialUse: []imap.MailboxAttr{imap.MailboxAttrFlagged}}).Wait(); err != nil {
		t.Errorf("create with USE: %v", err)
	}
	if err := c.Create("Réunions", nil).Wait(); err != nil {
		t.Errorf("create non-ASCII: %v", err)
	}
	names := listNames(t, c, "*")
	for _, want := range []string{"Projects", "Projects/Audit", "Flagged mail", "Réunions"} {
		if !slices.Contains(names, want) {
			t.Errorf("after create: %v lacks %q", names, want)
		}
	}
	if err := c.Rename("Projects", "Work", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	names = listNames(t, c, "*")
	if !slices.Contains(names, "Work/Audit") || slices.Contains(names, "Projects/Audit") {
		t.Errorf("after rename: %v", names)
	}
	if err := c.Rename("Nope", "Other", nil).Wait(); imapCode(err) != "NONEXISTENT" {
		t.Errorf("rename missing: %v", err)
	}
	if err := c.Delete("Work/Audit").Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete("INBOX").Wait(); imapCode(err) != "CANNOT" {
		t.Errorf("delete INBOX: %v", err)
	}
	if err := c.Delete("Work/Audit").Wait(); imapCode(err) != "NONEXISTENT" {
		t.Errorf("delete twice: %v", err)
	}
	if err := c.Unsubscribe("Work").Wait(); err != nil {
		t.Fatal(err)
	}
	subs, err := c.List("", "*", &imap.ListOptions{SelectSubscribed: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range subs {
		if l.Mailbox == "Work" {
			t.Errorf("Work still subscribed")
		}
	}
	r := e.raw(t)
	r.login("alice@nhs.test")
	if got := r.cmd("A1", `LSUB "" "W*"`); len(got) != 1 {
		t.Errorf("LSUB after unsubscribe: %q", got)
	}
	if got := r.cmd("A2", `LIST "" "R*"`); got[0] != `* LIST (\HasNoChildren) "/" "R&AOk-unions"` {
		t.Errorf("modified UTF-7 name: %q", got)
	}
}

// A person's names resolve only among their own mailboxes.
func TestMailboxesArePerPerson(t *testing.T) {
	e := newEnv(t)
	e.deliver(t, e.bob, simpleMsg)
	bob := e.client(t, "bob@nhs.test", nil)
	if err := bob.Create("Bob private", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	alice := e.client(t, "alice@nhs.test", nil)
	if _, err := alice.Select("Bob private", nil).Wait(); imapCode(err) != "NONEXISTENT" {
		t.Errorf("alice selecting bob's mailbox: %v", err)
	}
	if _, err := alice.Status("Bob private", &imap.StatusOptions{NumMessages: true}).Wait(); imapCode(err) != "NONEXISTENT" {
		t.Errorf("alice STATUS on bob's mailbox: %v", err)
	}
	sel, err := alice.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sel.NumMessages != 0 {
		t.Errorf("alice's INBOX shows %d messages (bob's mail?)", sel.NumMessages)
	}
	if names := listNames(t, alice, "*"); slices.Contains(names, "Bob private") {
		t.Errorf("alice's LIST shows bob's mailbox: %v", names)
	}
	if err := alice.Delete("Bob private").Wait(); imapCode(err) != "NONEXISTENT" {
		t.Errorf("alice deleting bob's mailbox: %v", err)
	}
}

func TestNamespaceAndQuota(t *testing.T) {
	e := newEnv(t, func(o *envOptions) { o.limits.QuotaBytes = 1 << 30 })
	e.deliver(t, e.alice, simpleMsg)
	c := e.client(t, "alice@nhs.test", nil)
	ns, err := c.Namespace().Wait()
	if err != nil {
		t.Fatal(err)
	}
	if len(ns.Personal) != 1 || ns.Personal[0].Delim != '/' {
		t.Errorf("namespace %+v", ns)
	}
	roots, err := c.GetQuotaRoot("INBOX").Wait()
	if err != nil {
		t.Fatal(err)
	}
	if len(roots) != 1 || roots[0].Root != "" {
		t.Fatalf("quota roots %+v", roots)
	}
	st := roots[0].Resources[imap.QuotaResourceStorage]
	if st.Usage != 1 || st.Limit != 1<<20 {
		t.Errorf("storage usage %d KiB of %d KiB", st.Usage, st.Limit)
	}
}

func listNames(t *testing.T, c *imapclient.Client, pattern string) []string {
	t.Helper()
	list, err := c.List("", pattern, nil).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range list {
		out = append(out, l.Mailbox)
	}
	return out
}

func imapCode(err error) string {
	var ie *imap.Error
	if errors.As(err, &ie) {
		return string(ie.Code)
	}
	if err == nil {
		return "<nil>"
	}
	return "non-IMAP error: " + strings.TrimSpace(err.Error())
}

func TestListExtended(t *testing.T) {
	e := newEnv(t)
	r := e.raw(t)
	r.login("alice@nhs.test")
	r.cmd("C1", "CREATE Projects/Audit")
	r.cmd("C2", "SUBSCRIBE Projects/Audit")
	for _, tc := range []struct {
		cmd  string
		want []string
	}{
		{`LIST "" ("Sent" "Trash") RETURN (SUBSCRIBED CHILDREN)`, []string{
			`* LIST (\HasNoChildren \Sent \Subscribed) "/" "Sent"`,
			`* LIST (\HasNoChildren \Trash \Subscribed) "/" "Trash"`,
		}},
		{`LIST (SUBSCRIBED RECURSIVEMATCH) "" "Proj%"`, []string{
			`* LIST (\HasChildren) "/" "Projects" ("CHILDINFO" ("SUBSCRIBED"))`,
		}},
		{`LIST "Projects/" "%"`, []string{`* LIST (\HasNoChildren) "/" "Projects/Audit"`}},
		{`LSUB "" "Projects*"`, []string{`* LSUB () "/" "Projects/Audit"`}},
	} {
		got := r.cmd("X", tc.cmd)
		if !slices.Equal(got[:len(got)-1], tc.want) || !strings.HasPrefix(last(got), "X OK") {
			t.Errorf("%s:\n got %q\nwant %q", tc.cmd, got, tc.want)
		}
	}
}

func TestIMAP4rev2Session(t *testing.T) {
	e := newEnv(t)
	e.deliver(t, e.alice, simpleMsg)
	r := e.raw(t)
	r.login("alice@nhs.test")
	if got := r.cmd("E", "ENABLE IMAP4rev2 UTF8=ACCEPT"); got[0] != "* ENABLED IMAP4rev2 UTF8=ACCEPT" {
		t.Errorf("ENABLE: %q", got)
	}
	r.cmd("C", `CREATE "Réunions"`)
	if got := r.cmd("L", `LIST "" "R*"`); got[0] != `* LIST (\HasNoChildren) "/" "Réunions"` {
		t.Errorf("UTF-8 name: %q", got)
	}
	got := r.cmd("S", "SELECT INBOX")
	if slices.Contains(got, "* 0 RECENT") || !slices.Contains(got, `* LIST () "/" INBOX`) {
		t.Errorf("rev2 SELECT: %q", got)
	}
	if got := r.cmd("X", "SEARCH ALL"); got[0] != `* ESEARCH (TAG "X") ALL 1` {
		t.Errorf("rev2 SEARCH: %q", got)
	}
}
