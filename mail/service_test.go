package mail_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"wardmail/mail"
	"wardmail/message"
	"wardmail/store"
	"wardmail/store/storetest"
)

// env is a mail service over a real store (SQLite, or PostgreSQL with
// WARDMAIL_TEST_POSTGRES) with two people; the word indexer runs only
// when a test asks (IndexWords).
type env struct {
	st         *store.Store
	svc        *mail.Service
	alice, bob int64
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t, storetest.Options{IndexEvery: -1})
	if _, _, err := st.UpsertPeople(ctx, []store.PersonRecord{
		{Email: "alice@nhs.test", Name: "Alice", Org: "Org A"},
		{Email: "bob@nhs.test", Name: "Bob", Org: "Org B"},
	}); err != nil {
		t.Fatal(err)
	}
	e := &env{st: st, svc: mail.New(st, nil)}
	for _, p := range []struct {
		email string
		id    *int64
	}{{"alice@nhs.test", &e.alice}, {"bob@nhs.test", &e.bob}} {
		person, err := st.PersonByEmail(ctx, p.email)
		if err != nil {
			t.Fatal(err)
		}
		*p.id = person.ID
		if err := e.svc.EnsureMailboxes(ctx, person.ID); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// deliver puts a message from Carol to the person into their INBOX.
func (e *env) deliver(t *testing.T, to int64, subject, text string) {
	t.Helper()
	ctx := context.Background()
	body := []byte(fmt.Sprintf("From: Carol <carol@nhs.test>\r\nTo: someone@nhs.test\r\nSubject: %s\r\n"+
		"Date: Mon, 2 Nov 2026 09:00:00 +0000\r\nMessage-ID: <%d.%s@nhs.test>\r\n\r\n%s\r\n", subject, time.Now().UnixNano(), subject, text))
	sum, err := message.Summarize(body)
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.svc.PrepareContent(ctx, body, sum.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.Deliver(ctx, c, []int64{to}, time.Now()); err != nil {
		t.Fatal(err)
	}
}

func (e *env) box(t *testing.T, person int64, name string) *mail.Mailbox {
	t.Helper()
	m, err := e.svc.MailboxNamed(context.Background(), person, name)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (e *env) count(t *testing.T, m *mail.Mailbox) int {
	t.Helper()
	refs, _, err := e.svc.Snapshot(context.Background(), m.ID)
	if err != nil {
		t.Fatal(err)
	}
	return len(refs)
}

// Deleting outside Trash moves to Trash and can be undone; deleting in
// Trash removes for good.
func TestDeleteMovesToTrashThenRemoves(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.deliver(t, e.alice, "Rota", "the ward rota for December")
	inbox, trash := e.box(t, e.alice, "INBOX"), e.box(t, e.alice, "Trash")
	res, err := e.svc.Delete(ctx, e.alice, inbox, []uint32{1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Folder != trash.ID || len(res.UIDs) != 1 || res.Undo == nil || res.Undo.To != inbox.ID || res.Deleted != 0 {
		t.Fatalf("delete in INBOX = %+v, want a move to Trash (%d) undoable to INBOX (%d)", res, trash.ID, inbox.ID)
	}
	if e.count(t, inbox) != 0 || e.count(t, trash) != 1 {
		t.Fatalf("INBOX has %d, Trash %d; want 0 and 1", e.count(t, inbox), e.count(t, trash))
	}
	res, err = e.svc.Delete(ctx, e.alice, trash, res.UIDs)
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != 1 || res.Undo != nil {
		t.Fatalf("delete in Trash = %+v, want one removed for good", res)
	}
	if e.count(t, trash) != 0 {
		t.Fatalf("Trash still has %d messages", e.count(t, trash))
	}
}

// Nobody reaches another person's folder by its id: it does not exist
// for them.
func TestAnotherPersonsFolderIsNotFound(t *testing.T) {
	e := newEnv(t)
	inbox := e.box(t, e.alice, "INBOX")
	if _, err := e.svc.Mailbox(context.Background(), e.bob, inbox.ID); !errors.Is(err, mail.ErrNotFound) {
		t.Fatalf("Bob opening Alice's INBOX: err = %v, want ErrNotFound", err)
	}
	if m, err := e.svc.Mailbox(context.Background(), e.alice, inbox.ID); err != nil || m.ID != inbox.ID {
		t.Fatalf("Alice opening her INBOX: %v, %v", m, err)
	}
}

func TestCreateMailboxRules(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, name := range []string{"INBOX", "inbox", "INBOX/"} {
		if _, err := e.svc.CreateMailbox(ctx, e.alice, name, ""); !errors.Is(err, mail.ErrInboxExists) || !errors.Is(err, mail.ErrExists) {
			t.Errorf("create %q: err = %v, want ErrInboxExists", name, err)
		}
	}
	m, err := e.svc.CreateMailbox(ctx, e.alice, "Projects/", "")
	if err != nil || m.Name != "Projects" {
		t.Fatalf(`create "Projects/" = %v, %v; want "Projects"`, m, err)
	}
	if _, err := e.svc.CreateMailbox(ctx, e.alice, "Odd", `\Bogus`); !errors.Is(err, mail.ErrInvalidUse) {
		t.Errorf("unknown special use: err = %v", err)
	}
	if err := e.svc.DeleteMailbox(ctx, e.alice, "INBOX"); !errors.Is(err, mail.ErrCannotDelete) {
		t.Errorf("delete INBOX: err = %v", err)
	}
	if err := e.svc.RenameMailbox(ctx, e.alice, "Projects", "Audits/"); err != nil {
		t.Fatal(err)
	}
	e.box(t, e.alice, "Audits")
}

func TestSearchFolders(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	all, err := e.svc.SearchFolders(ctx, e.alice, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range all {
		if r := mail.Role(&m); r == mail.RoleTrash || r == mail.RoleJunk {
			t.Errorf("a search with no folder looks in %s", m.Name)
		}
	}
	if len(all) != 4 {
		t.Errorf("searched %d folders, want INBOX, Sent, Drafts, Archive", len(all))
	}
	got, err := e.svc.SearchFolders(ctx, e.alice, "trash")
	if err != nil || len(got) != 1 || got[0].Name != "Trash" {
		t.Errorf("in:trash = %v, %v", got, err)
	}
	if _, err := e.svc.SearchFolders(ctx, e.alice, "Nowhere"); !errors.Is(err, mail.ErrNoSuchFolder) {
		t.Errorf("in:Nowhere: err = %v", err)
	}
}

// One search engine: a word in a body is found the same before the indexer
// reached the message (read and checked) and after (from the index), and
// IMAP's candidate set holds it both times.
func TestSearchSameBeforeAndAfterIndexing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.deliver(t, e.alice, "Handover", "bring the defibrillator checklist")
	e.deliver(t, e.alice, "Lunch", "sandwiches at noon")
	inbox := e.box(t, e.alice, "INBOX")
	search := func(stage string) {
		t.Helper()
		found, total, complete, err := e.svc.Search(ctx, []mail.Mailbox{*inbox}, &mail.Query{Words: []string{"defibrillator"}}, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if total != 1 || len(found) != 1 || !complete || found[0].Sum.Envelope.Subject != "Handover" {
			t.Fatalf("%s: found %d of %d (complete %v), want the handover", stage, len(found), total, complete)
		}
		found, total, _, err = e.svc.Search(ctx, []mail.Mailbox{*inbox}, &mail.Query{From: []string{"carol"}}, 0, 10)
		if err != nil || total != 2 || len(found) != 2 {
			t.Fatalf("%s: from:carol found %d, %v; want 2", stage, total, err)
		}
	}
	search("before indexing")
	if _, err := e.st.IndexWords(ctx); err != nil {
		t.Fatal(err)
	}
	search("after indexing")
	set, ok, err := e.svc.TextCandidates(ctx, inbox.ID, "defibrillator")
	if err != nil || !ok || !set[1] || set[2] {
		t.Fatalf("TextCandidates = %v, %v, %v; want only UID 1", set, ok, err)
	}
}

func TestCanonicalFlag(t *testing.T) {
	for in, want := range map[string]string{`\seen`: mail.FlagSeen, `\DRAFT`: mail.FlagDraft, `\Recent`: "", "$Label1": "$Label1"} {
		if got, ok := mail.CanonicalFlag(in); !ok || got != want {
			t.Errorf("CanonicalFlag(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if _, ok := mail.CanonicalFlag(`\Important`); ok {
		t.Error(`\Important accepted as a system flag`)
	}
}
