package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"wardmail/blob"
	"wardmail/store"
	"wardmail/store/storetest"
)

// open gives the test a store of its own, on SQLite or, with
// WARDMAIL_TEST_POSTGRES set, on PostgreSQL.
func open(t *testing.T, opt storetest.Options) *store.Store {
	t.Helper()
	return storetest.Open(t, opt)
}

func addPeople(t *testing.T, s *store.Store, emails ...string) []int64 {
	t.Helper()
	return addPeopleB(t, s, emails)
}

func addPeopleB(t testing.TB, s *store.Store, emails []string) []int64 {
	t.Helper()
	ctx := context.Background()
	var recs []store.PersonRecord
	for _, e := range emails {
		recs = append(recs, store.PersonRecord{Email: e, Name: e, Org: "Test Trust"})
	}
	if _, _, err := s.UpsertPeople(ctx, recs); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, e := range emails {
		p, err := s.PersonByEmail(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	return ids
}

func deliver(t *testing.T, s *store.Store, body string, to ...int64) []store.Delivered {
	t.Helper()
	ctx := context.Background()
	c, err := s.PrepareContent(ctx, []byte(body), []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.Deliver(ctx, c, to, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDeliverStoresBodyOnceAndNumbersUIDs(t *testing.T) {
	ctx := context.Background()
	for _, inline := range []int{0, -1} { // inline in SQL, and always a blob file
		t.Run(fmt.Sprintf("inline=%d", inline), func(t *testing.T) {
			s := open(t, storetest.Options{InlineMax: inline})
			ids := addPeople(t, s, "a@nhs.test", "b@nhs.test")
			// b is named twice: one copy (invariant 2).
			d := deliver(t, s, "Subject: one\r\n\r\nhello\r\n", ids[0], ids[1], ids[1])
			if len(d) != 2 {
				t.Fatalf("delivered to %d mailboxes, want 2", len(d))
			}
			deliver(t, s, "Subject: two\r\n\r\nhello again\r\n", ids[0])
			inbox, err := s.MailboxByName(ctx, ids[0], "inbox")
			if err != nil {
				t.Fatal(err)
			}
			refs, mb, err := s.Snapshot(ctx, inbox.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(refs) != 2 || refs[0].UID != 1 || refs[1].UID != 2 || mb.UIDNext != 3 {
				t.Fatalf("refs %+v uidnext %d", refs, mb.UIDNext)
			}
			msgs, err := s.Messages(ctx, inbox.ID, []uint32{1, 2})
			if err != nil {
				t.Fatal(err)
			}
			body, err := s.Body(ctx, msgs[0].ContentID)
			if err != nil {
				t.Fatal(err)
			}
			if string(body) != "Subject: one\r\n\r\nhello\r\n" {
				t.Fatalf("body %q", body)
			}
			// The second person's copy points at the same content.
			bInbox, _ := s.MailboxByName(ctx, ids[1], "INBOX")
			bMsgs, _ := s.Messages(ctx, bInbox.ID, []uint32{1})
			if len(bMsgs) != 1 || bMsgs[0].ContentID != msgs[0].ContentID {
				t.Fatalf("b's copy %+v, want content %d", bMsgs, msgs[0].ContentID)
			}
		})
	}
}

func TestFlagsModSeqAndChanges(t *testing.T) {
	ctx := context.Background()
	s := open(t, storetest.Options{})
	ids := addPeople(t, s, "a@nhs.test")
	for i := 0; i < 3; i++ {
		deliver(t, s, fmt.Sprintf("Subject: %d\r\n\r\nx\r\n", i), ids[0])
	}
	inbox, _ := s.MailboxByName(ctx, ids[0], "INBOX")
	_, before, _ := s.Snapshot(ctx, inbox.ID)

	upd, failed, err := s.SetFlags(ctx, inbox.ID, []uint32{1, 2}, store.FlagsAdd, []string{`\seen`, "$Important"}, 0)
	if err != nil || len(failed) != 0 || len(upd) != 2 {
		t.Fatalf("SetFlags: %v %v %v", upd, failed, err)
	}
	if !slices.Equal(upd[0].Flags, []string{store.FlagSeen, "$Important"}) || upd[0].ModSeq <= before.HighestModSeq {
		t.Fatalf("updated %+v (modseq before %d)", upd[0], before.HighestModSeq)
	}
	// Setting the same flags again changes nothing and takes no MODSEQ.
	upd2, _, _ := s.SetFlags(ctx, inbox.ID, []uint32{1}, store.FlagsAdd, []string{`\Seen`}, 0)
	if len(upd2) != 0 {
		t.Fatalf("no-op store reported changes: %+v", upd2)
	}
	// UNCHANGEDSINCE older than the message's MODSEQ fails for that message.
	_, failed, _ = s.SetFlags(ctx, inbox.ID, []uint32{1, 3}, store.FlagsAdd, []string{`\Flagged`}, before.HighestModSeq)
	if !slices.Equal(failed, []uint32{1}) {
		t.Fatalf("failed = %v, want [1]", failed)
	}
	st, _ := s.Status(ctx, inbox.ID)
	if st.Messages != 3 || st.Unseen != 1 {
		t.Fatalf("status %+v", st)
	}

	mid := st.HighestModSeq
	if _, _, err := s.SetFlags(ctx, inbox.ID, []uint32{2}, store.FlagsAdd, []string{`\Deleted`}, 0); err != nil {
		t.Fatal(err)
	}
	exp, err := s.Expunge(ctx, inbox.ID, nil)
	if err != nil || !slices.Equal(exp, []uint32{2}) {
		t.Fatalf("expunged %v, %v", exp, err)
	}
	changed, vanished, mb, err := s.Changes(ctx, inbox.ID, mid)
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != 0 || !slices.Equal(vanished, []uint32{2}) || mb.HighestModSeq <= mid {
		t.Fatalf("changes since %d: %+v vanished %v mb %+v", mid, changed, vanished, mb)
	}
}

func TestMoveKeepsUIDsIncreasing(t *testing.T) {
	ctx := context.Background()
	s := open(t, storetest.Options{})
	ids := addPeople(t, s, "a@nhs.test")
	deliver(t, s, "Subject: a\r\n\r\nx\r\n", ids[0])
	deliver(t, s, "Subject: b\r\n\r\nx\r\n", ids[0])
	inbox, _ := s.MailboxByName(ctx, ids[0], "INBOX")
	arch, _ := s.MailboxByName(ctx, ids[0], "Archive")
	from, to, err := s.Move(ctx, inbox, arch, []uint32{1, 2})
	if err != nil || !slices.Equal(from, []uint32{1, 2}) || !slices.Equal(to, []uint32{1, 2}) {
		t.Fatalf("move: %v %v %v", from, to, err)
	}
	deliver(t, s, "Subject: c\r\n\r\nx\r\n", ids[0])
	refs, _, _ := s.Snapshot(ctx, inbox.ID)
	if len(refs) != 1 || refs[0].UID != 3 {
		t.Fatalf("inbox after move and new mail: %+v", refs)
	}
}

func TestMailboxNames(t *testing.T) {
	ctx := context.Background()
	s := open(t, storetest.Options{})
	ids := addPeople(t, s, "a@nhs.test")
	if err := s.EnsureMailboxes(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateMailbox(ctx, ids[0], "Projects/2026/Q4", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateMailbox(ctx, ids[0], "Projects", ""); err != store.ErrExists {
		t.Fatalf("creating an existing parent: %v", err)
	}
	if err := s.RenameMailbox(ctx, ids[0], "Projects", "Work"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MailboxByName(ctx, ids[0], "Work/2026/Q4"); err != nil {
		t.Fatalf("child not renamed: %v", err)
	}
	// Names are case-sensitive (but for INBOX): renaming "Rota" leaves the
	// children of "rota" where they are, on every backend.
	for _, name := range []string{"Rota", "rota/old", "Rota_x/keep"} {
		if _, err := s.CreateMailbox(ctx, ids[0], name, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RenameMailbox(ctx, ids[0], "Rota", "Shifts"); err != nil {
		t.Fatal(err)
	}
	var names []string
	boxes, err := s.Mailboxes(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range boxes {
		names = append(names, b.Name)
	}
	if want := "Archive Drafts INBOX Junk Rota_x Rota_x/keep Sent Shifts Trash Work Work/2026 Work/2026/Q4 rota rota/old"; strings.Join(names, " ") != want {
		t.Errorf("after renaming Rota to Shifts:\n got %s\nwant %s", strings.Join(names, " "), want)
	}
	if err := s.DeleteMailbox(ctx, ids[0], "inbox"); err != store.ErrCannotDelete {
		t.Fatalf("deleting INBOX: %v", err)
	}
	for _, bad := range []string{"", "/x", "x/", "a//b", "with*star"} {
		if _, err := s.CreateMailbox(ctx, ids[0], bad, ""); err != store.ErrInvalidName {
			t.Errorf("CreateMailbox(%q) = %v, want ErrInvalidName", bad, err)
		}
	}
}

// Many concurrent deliveries share commits, and every one is there afterwards.
func TestGroupCommitUnderConcurrency(t *testing.T) {
	ctx := context.Background()
	s := open(t, storetest.Options{})
	ids := addPeople(t, s, "a@nhs.test", "b@nhs.test")
	var wg sync.WaitGroup
	const n = 200
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := s.PrepareContent(ctx, []byte(fmt.Sprintf("Subject: %d\r\n\r\nbody\r\n", i)), []byte(`{}`))
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := s.Deliver(ctx, c, ids, time.Now()); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	for _, id := range ids {
		inbox, _ := s.MailboxByName(ctx, id, "INBOX")
		refs, mb, _ := s.Snapshot(ctx, inbox.ID)
		if len(refs) != n || mb.UIDNext != n+1 {
			t.Fatalf("person %d has %d messages, uidnext %d; want %d", id, len(refs), mb.UIDNext, n)
		}
	}
}

func TestHubWakesSubscribersAfterCommit(t *testing.T) {
	ctx := context.Background()
	s := open(t, storetest.Options{})
	ids := addPeople(t, s, "a@nhs.test")
	if err := s.EnsureMailboxes(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	inbox, _ := s.MailboxByName(ctx, ids[0], "INBOX")
	sub := s.Hub().Subscribe(inbox.ID)
	defer sub.Close()
	deliver(t, s, "Subject: ping\r\n\r\nx\r\n", ids[0])
	select {
	case <-sub.C:
	case <-time.After(5 * time.Second):
		t.Fatal("no wake-up after a delivery")
	}
}

func TestEncryptionAtRest(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	key := filepath.Join(dir, "body.key")
	if err := blob.GenerateKeyFile(key); err != nil {
		t.Fatal(err)
	}
	be := storetest.New(t)
	s, err := be.OpenErr(storetest.Options{KeyFile: key, InlineMax: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ids := addPeople(t, s, "a@nhs.test")
	secret := "Subject: results\r\n\r\nPatient 4711 is fine\r\n"
	deliver(t, s, secret, ids[0])
	inbox, _ := s.MailboxByName(ctx, ids[0], "INBOX")
	msgs, _ := s.Messages(ctx, inbox.ID, []uint32{1})
	raw, err := os.ReadFile(filepath.Join(be.Dir, "blobs", msgs[0].Hash[:2], msgs[0].Hash))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "Patient 4711") {
		t.Fatal("the body is stored in clear text although a key is configured")
	}
	body, err := s.Body(ctx, msgs[0].ContentID)
	if err != nil || string(body) != secret {
		t.Fatalf("decrypted body %q, %v", body, err)
	}
	// Without the key the body is refused, not returned as ciphertext.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := be.OpenErr(storetest.Options{InlineMax: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := s2.Body(ctx, msgs[0].ContentID); err == nil {
		t.Fatal("an encrypted body was returned without the key")
	}
}

// Scattered UIDs (more runs than Messages reads one by one) come back
// exactly as asked: no neighbours, no gaps filled.
func TestMessagesScatteredUIDs(t *testing.T) {
	ctx := context.Background()
	s := open(t, storetest.Options{})
	ids := addPeople(t, s, "a@nhs.test")
	for i := 0; i < 40; i++ {
		deliver(t, s, fmt.Sprintf("Subject: %d\r\n\r\nx\r\n", i), ids[0])
	}
	inbox, _ := s.MailboxByName(ctx, ids[0], "INBOX")
	want := []uint32{1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 33, 38, 99}
	msgs, err := s.Messages(ctx, inbox.ID, want)
	if err != nil {
		t.Fatal(err)
	}
	var got []uint32
	for _, m := range msgs {
		got = append(got, m.UID)
	}
	if !slices.Equal(got, want[:len(want)-1]) {
		t.Fatalf("got UIDs %v, want %v", got, want[:len(want)-1])
	}
}
