package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"wardmail/message"
	"wardmail/store"
	"wardmail/store/storetest"
)

// Two nodes: two *store.Store opened on one PostgreSQL database, each with
// its own group-commit writer, as two `wardmail serve` processes would be.
// The rules below hold because the database enforces them, not because one
// process writes.

func twoNodes(t *testing.T) (a, b *store.Store) {
	t.Helper()
	if !storetest.Postgres() {
		t.Skip("several processes share a database only on PostgreSQL: " + storetest.Env + " (make test-postgres)")
	}
	be := storetest.New(t)
	return be.Open(t, storetest.Options{IndexEvery: -1}), be.Open(t, storetest.Options{IndexEvery: -1})
}

func content(t *testing.T, s *store.Store, body string) *store.Content {
	t.Helper()
	sum, err := message.Summarize([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.PrepareContent(context.Background(), []byte(body), sum.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// inboxContents returns how many rows of each body a person's INBOX holds.
func inboxContents(t *testing.T, s *store.Store, person int64) map[string]int {
	t.Helper()
	ctx := context.Background()
	mb, err := s.MailboxByName(ctx, person, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	refs, _, err := s.Snapshot(ctx, mb.ID)
	if err != nil {
		t.Fatal(err)
	}
	var uids []uint32
	for _, r := range refs {
		uids = append(uids, r.UID)
	}
	msgs, err := s.Messages(ctx, mb.ID, uids)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, m := range msgs {
		out[m.Hash]++
	}
	return out
}

// Posts to two lists go in through both nodes while both nodes materialise
// every member over and over: each member ends with every post exactly
// once. A position that passed a post still being committed by the other
// node would lose it; two materialisers adding the same post would show it
// twice.
func TestTwoNodesMaterialiseEveryPostOnce(t *testing.T) {
	a, b := twoNodes(t)
	ctx := context.Background()
	var emails []string
	for i := range 12 {
		emails = append(emails, fmt.Sprintf("m%d@nhs.test", i))
	}
	people := addPeople(t, a, emails...)
	var listIDs []int64
	for i := range 2 {
		l, err := a.CreateList(ctx, "test", store.ListSpec{Address: fmt.Sprintf("l%d@nhs.test", i), Name: "L", Kind: store.ListStatic,
			Owners: people[:1], Members: people})
		if err != nil {
			t.Fatal(err)
		}
		listIDs = append(listIDs, l.ID)
	}
	const perWriter = 25
	hashes := map[string]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 100)
	for n, node := range []*store.Store{a, b} {
		for w := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range perWriter {
					body := fmt.Sprintf("From: p@nhs.test\r\nSubject: n%d w%d #%d\r\n\r\nbody\r\n", n, w, i)
					c := content(t, node, body)
					mu.Lock()
					hashes[c.Hash] = true
					mu.Unlock()
					l := listIDs[(n+w+i)%2]
					if _, err := node.Submit(ctx, &store.Submission{QueueID: fmt.Sprintf("Q%d.%d.%d", n, w, i), Subject: "x", Sender: "p@nhs.test",
						Content: c, Lists: []int64{l}, Date: time.Now()}); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
	}
	var readers sync.WaitGroup
	for _, node := range []*store.Store{a, b, a, b} {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, p := range people {
					if _, err := node.Materialise(ctx, p); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, p := range people {
		if _, err := a.Materialise(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if len(hashes) != 2*3*perWriter {
		t.Fatalf("%d distinct bodies", len(hashes))
	}
	for i, p := range people {
		got := inboxContents(t, b, p)
		var missing, twice int
		for h := range hashes {
			switch got[h] {
			case 0:
				missing++
			case 1:
			default:
				twice++
			}
		}
		if missing != 0 || twice != 0 || len(got) != len(hashes) {
			t.Errorf("%s: %d posts missing, %d shown more than once, %d bodies for %d posts", emails[i], missing, twice, len(got), len(hashes))
		}
	}
}

// The database itself refuses a second row of a post in a mailbox.
func TestPostRowOnceIsEnforcedByTheDatabase(t *testing.T) {
	s := open(t, storetest.Options{IndexEvery: -1})
	ctx := context.Background()
	people := addPeople(t, s, "owner@nhs.test", "member@nhs.test")
	l, err := s.CreateList(ctx, "test", store.ListSpec{Address: "l@nhs.test", Name: "L", Kind: store.ListStatic, Owners: people[:1], Members: people})
	if err != nil {
		t.Fatal(err)
	}
	c := content(t, s, "From: p@nhs.test\r\nSubject: once\r\n\r\nbody\r\n")
	if _, err := s.Submit(ctx, &store.Submission{QueueID: "Q1", Sender: "p@nhs.test", Content: c, Lists: []int64{l.ID}, Date: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Materialise(ctx, people[1]); err != nil || n != 1 {
		t.Fatalf("materialised %d, %v", n, err)
	}
	mb, err := s.MailboxByName(ctx, people[1], "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	err = s.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(`INSERT INTO mail (mailbox_id, uid, content_id, flags, keywords, modseq, internal_date, saved_date, via_post)
			SELECT mailbox_id, uid + 100, content_id, 0, '', modseq + 100, internal_date, saved_date, 1 FROM mail WHERE mailbox_id = ?`, mb.ID)
		return err
	})
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "unique") {
		t.Fatalf("a second row of the same post was accepted: %v", err)
	}
}

// Two moderators approve at the same moment through two nodes: one
// approval counts, the other is told it was already decided, and the post
// reaches the log once. A post held by two lists and approved by each,
// through each node at once, reaches the log once too (not twice, and not
// never).
func TestTwoNodesDecideHeldPostOnce(t *testing.T) {
	a, b := twoNodes(t)
	ctx := context.Background()
	people := addPeople(t, a, "owner@nhs.test", "member@nhs.test", "poster@nhs.test")
	var ls []*store.List
	for i := range 2 {
		l, err := a.CreateList(ctx, "test", store.ListSpec{Address: fmt.Sprintf("mod%d@nhs.test", i), Name: "Mod", Kind: store.ListStatic,
			Owners: people[:1], Members: people[:2], PostPolicy: "moderated"})
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
	}
	posts := func(sub int64) int {
		t.Helper()
		var n int
		if err := a.Write(ctx, func(tx *store.Tx) error {
			return tx.QueryRow(`SELECT COUNT(*) FROM posts WHERE submission_id = ?`, sub).Scan(&n)
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for round := range 8 {
		expires := time.Now().Add(time.Hour)
		// The same held entry, approved on both nodes.
		c := content(t, a, fmt.Sprintf("From: poster@nhs.test\r\nSubject: same %d\r\n\r\nhi\r\n", round))
		res, err := a.Submit(ctx, &store.Submission{QueueID: fmt.Sprintf("S%d", round), Sender: "poster@nhs.test", Content: c, Date: time.Now(),
			Held: []store.HeldPost{{ListID: ls[0].ID, Reason: "moderated", Expires: expires}}})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, node := range []*store.Store{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = node.DecideHeld(ctx, "owner@nhs.test", res.Held[0], true, "", people[0])
			}()
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("round %d, one entry approved on two nodes: errors %v and %v; want exactly one refusal", round, errs[0], errs[1])
		}
		if n := posts(res.ID); n != 1 {
			t.Fatalf("round %d, one entry approved on two nodes: %d posts", round, n)
		}

		// Held by both lists for a post to the first: each list's
		// moderator approves through a different node.
		c = content(t, a, fmt.Sprintf("From: poster@nhs.test\r\nSubject: both %d\r\n\r\nhi\r\n", round))
		res, err = a.Submit(ctx, &store.Submission{QueueID: fmt.Sprintf("B%d", round), Sender: "poster@nhs.test", Content: c, Date: time.Now(),
			Held: []store.HeldPost{
				{ListID: ls[0].ID, PostListID: ls[0].ID, Reason: "moderated", Expires: expires},
				{ListID: ls[1].ID, PostListID: ls[0].ID, Reason: "moderated", Expires: expires},
			}})
		if err != nil {
			t.Fatal(err)
		}
		for i, node := range []*store.Store{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = node.DecideHeld(ctx, "owner@nhs.test", res.Held[i], true, "", people[0])
			}()
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("round %d: %v, %v", round, errs[0], errs[1])
		}
		if n := posts(res.ID); n != 1 {
			t.Fatalf("round %d, approved by both lists through two nodes: %d posts, want 1", round, n)
		}
	}
}

// A subscriber on one node is woken by mail delivered through the other:
// the hub's announcements cross processes (LISTEN/NOTIFY).
func TestTwoNodesHubCrossesProcesses(t *testing.T) {
	a, b := twoNodes(t)
	ctx := context.Background()
	people := addPeople(t, a, "reader@nhs.test", "other@nhs.test")
	deliver(t, a, "Subject: first\r\n\r\nx\r\n", people...)
	mb, err := a.MailboxByName(ctx, people[0], "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	sub := a.Hub().Subscribe(mb.ID)
	defer sub.Close()
	select {
	case <-sub.C:
	default:
	}
	// Mail to someone else wakes nobody watching this INBOX.
	deliver(t, b, "Subject: not yours\r\n\r\nx\r\n", people[1])
	deliver(t, b, "Subject: yours\r\n\r\nx\r\n", people[0])
	select {
	case <-sub.C:
	case <-time.After(30 * time.Second):
		t.Fatal("a delivery through node B never woke the subscriber on node A")
	}
	refs, _, err := a.Snapshot(ctx, mb.ID)
	if err != nil || len(refs) != 2 {
		t.Fatalf("node A sees %d messages, %v", len(refs), err)
	}
}

// Both nodes deliver to the same two people at once, each through its own
// group commit: every delivery answered OK is in the INBOX once, under a
// UID of its own, and UIDNEXT and HIGHESTMODSEQ are past every row. A
// delivery that loses the race for a UID to the other node's takes the
// next one; none is refused.
func TestTwoNodesDeliverToOneInbox(t *testing.T) {
	ctx := context.Background()
	a, b := twoNodes(t)
	ids := addPeople(t, a, "busy@nhs.test", "other@nhs.test")
	deliver(t, a, "Subject: first\r\n\r\nx\r\n", ids...) // the INBOXes exist
	const each = 150
	var wg sync.WaitGroup
	for n, s := range []*store.Store{a, b} {
		for g := range 5 {
			wg.Go(func() {
				for i := range each / 5 {
					c := content(t, s, fmt.Sprintf("Subject: node %d writer %d message %d\r\n\r\nx\r\n", n, g, i))
					if _, err := s.Deliver(ctx, c, ids, time.Now()); err != nil {
						t.Errorf("node %d: %v", n, err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	for _, p := range ids {
		got := inboxContents(t, b, p)
		if len(got) != 2*each+1 {
			t.Errorf("person %d: %d distinct messages, want %d", p, len(got), 2*each+1)
		}
		for h, n := range got {
			if n != 1 {
				t.Errorf("person %d: body %s %d times", p, h[:8], n)
			}
		}
		mb, err := a.MailboxByName(ctx, p, "INBOX")
		if err != nil {
			t.Fatal(err)
		}
		refs, _, err := a.Snapshot(ctx, mb.ID)
		if err != nil {
			t.Fatal(err)
		}
		var maxUID uint32
		var maxMod uint64
		for _, r := range refs {
			maxUID, maxMod = max(maxUID, r.UID), max(maxMod, r.ModSeq)
		}
		if mb.UIDNext <= maxUID || mb.HighestModSeq < maxMod {
			t.Errorf("person %d: UIDNEXT %d, HIGHESTMODSEQ %d, but a row has UID %d, MODSEQ %d", p, mb.UIDNext, mb.HighestModSeq, maxUID, maxMod)
		}
	}
}

// Both nodes deliver one-to-one messages to the same two people at once:
// the statements of such a delivery go out with the rest of its batch and
// its outcome is read after them, so a delivery that lost its UID to the
// other node's takes the next one afterwards. Every delivery answered OK
// is in the INBOX once, under the UID it was answered with.
func TestTwoNodesDeliverOneToOne(t *testing.T) {
	ctx := context.Background()
	a, b := twoNodes(t)
	ids := addPeople(t, a, "busy@nhs.test", "other@nhs.test")
	deliver(t, a, "Subject: first\r\n\r\nx\r\n", ids...) // the INBOXes exist
	const each = 200
	var wg sync.WaitGroup
	var mu sync.Mutex
	answered := map[[2]int64]string{} // mailbox and UID: the body's hash
	for n, s := range []*store.Store{a, b} {
		for g := range 10 {
			wg.Go(func() {
				for i := range each / 10 {
					c := content(t, s, fmt.Sprintf("Subject: node %d writer %d message %d\r\n\r\nx\r\n", n, g, i))
					out, err := s.Deliver(ctx, c, ids[i%2:i%2+1], time.Now())
					if err != nil {
						t.Errorf("node %d: %v", n, err)
						return
					}
					mu.Lock()
					k := [2]int64{out[0].MailboxID, int64(out[0].UID)}
					if _, ok := answered[k]; ok || out[0].UID == 0 {
						t.Errorf("mailbox %d UID %d answered twice", k[0], k[1])
					}
					answered[k] = c.Hash
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	for _, p := range ids {
		if got := inboxContents(t, b, p); len(got) != each+1 {
			t.Errorf("person %d: %d distinct messages, want %d", p, len(got), each+1)
		}
		mb, err := a.MailboxByName(ctx, p, "INBOX")
		if err != nil {
			t.Fatal(err)
		}
		refs, _, err := a.Snapshot(ctx, mb.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range refs {
			delete(answered, [2]int64{mb.ID, int64(r.UID)})
		}
	}
	if len(answered) != 0 {
		t.Errorf("%d deliveries answered with a UID that holds no message", len(answered))
	}
}
