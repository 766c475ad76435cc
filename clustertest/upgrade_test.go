package clustertest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"wardmail/auth"
	"wardmail/clustertest"
	"wardmail/store"
	"wardmail/store/postgres"
)

// TestRollingUpgrade: two nodes of release N (this build) serve while a
// node of release N+1 (the same code built with the test hooks and one
// more migration step, expand-only) starts and migrates the database.
// Mail delivered through any node is read through every other; a node of
// release N restarted mid-upgrade runs on the newer schema; `wardmail
// cluster status` shows each node's version and schema step. Steps the
// rule forbids are refused with a sentence: one that drops without being a
// contract step, and a contract step while a node that uses what it drops
// is alive. Once the N nodes have stopped the contract step runs, and an N
// node can no longer start.
func TestRollingUpgrade(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	pg := clustertest.StartPostgres(t, false)
	opt := clustertest.NodeOptions{Database: pg.URL(), Keys: clustertest.Keys(t), Config: []string{"sender_limits = off"}}
	old := clustertest.StartNodes(t, 2, opt)
	people := []string{"amira@nhs.test", "ben@nhs.test"}
	seed(t, pg.URL(), people)
	k := len(postgres.Migrations)

	// Release N+1: one more step, which only adds.
	expand := `CREATE TABLE ward_rounds (id INTEGER PRIMARY KEY, ward TEXT NOT NULL);
ALTER TABLE people ADD COLUMN pager TEXT`
	env := func(extra ...string) []string {
		steps, _ := json.Marshal(append([]string{expand}, extra...))
		return []string{"WARDMAIL_TEST_EXTRA_MIGRATIONS=" + string(steps)}
	}
	next := func(name string, extra ...string) *clustertest.Node {
		o := opt
		o.Binary, o.Env = clustertest.NextRelease(t), env(extra...)
		return clustertest.NewNode(t, name, o)
	}
	node3 := next("node3")
	node3.Start()
	if t.Failed() {
		t.FailNow()
	}
	status := clustertest.Status(t, pg.URL())
	for _, want := range []string{
		fmt.Sprintf("schema: step %d; a node must know at least step 0", k+1),
		fmt.Sprintf("node1  alive  version dev, schema step %d (the database is at %d", k, k+1),
		fmt.Sprintf("node3  alive  version next, schema step %d,", k+1),
	} {
		if !strings.Contains(status, want) {
			t.Errorf("cluster status lacks %q:\n%s", want, status)
		}
	}

	// Mail through each node, read through each node.
	sent := map[string]string{} // Message-ID → recipient
	send := func(via *clustertest.Node, from, to string) {
		t.Helper()
		id := fmt.Sprintf("%s.%d@ward.test", via.Name, len(sent))
		if err := submitTo(via.Addrs["submission"], from, to, id); err != nil {
			t.Fatalf("submitting through %s: %v", via.Name, err)
		}
		sent[id] = to
	}
	readAll := func(nodes ...*clustertest.Node) {
		t.Helper()
		for _, nd := range nodes {
			for _, u := range people {
				got := readInbox(t, nd.Addrs["imap"], u)
				for id, to := range sent {
					if to == u && got[id] != 1 {
						t.Errorf("%s through %s: <%s> is there %d times with its body, want once", u, nd.Name, id, got[id])
					}
				}
			}
		}
	}
	send(old[0], people[0], people[1])
	send(node3, people[1], people[0])
	send(old[1], people[0], people[1])
	readAll(old[0], old[1], node3)

	// A node of release N restarted during the upgrade runs on the newer schema.
	old[1].Kill()
	old[1].Start()
	send(old[1], people[1], people[0])
	readAll(old[1], node3)

	// Steps the rule forbids.
	refused := func(nd *clustertest.Node, sentence string) {
		t.Helper()
		ended, log := nd.Refused()
		if !ended || !strings.Contains(log, sentence) {
			t.Errorf("%s: ended by itself %v, want the sentence %q in:\n%s", nd.Name, ended, sentence, log)
		}
	}
	refused(next("node4", `ALTER TABLE people DROP COLUMN pager`),
		fmt.Sprintf("refusing migration step %d: it is not expand-only (ALTER TABLE PEOPLE ... DROP)", k+2))
	contract := fmt.Sprintf("-- wardmail:contract after=%d\nALTER TABLE people DROP COLUMN pager", k+1)
	refused(next("node5", contract), fmt.Sprintf("refusing contract migration step %d: it removes what nodes knowing fewer than %d schema steps use, and node node1 (version dev, schema step %d) is alive", k+2, k+1, k))
	if s := clustertest.Status(t, pg.URL()); !strings.Contains(s, fmt.Sprintf("schema: step %d;", k+1)) {
		t.Errorf("a refused step changed the schema:\n%s", s)
	}

	// Once every node of release N has stopped, the contract step runs,
	// and a node of release N can no longer start.
	for _, nd := range old {
		nd.Stop()
	}
	node5 := next("node5b", contract)
	node5.Start()
	if s := clustertest.StatusWith(t, pg.URL(), clustertest.NextRelease(t), env(contract)); !strings.Contains(s, fmt.Sprintf("schema: step %d; a node must know at least step %d", k+2, k+1)) {
		t.Errorf("after the contract step:\n%s", s)
	}
	refused(old[0], fmt.Sprintf("this wardmail knows schema steps up to %d, and the database (at step %d) needs a node that knows at least step %d", k, k+2, k+1))
	send(node5, people[0], people[1])
	readAll(node3, node5)
}

// seed adds people through the store, as `directory import` would.
func seed(t *testing.T, database string, people []string) {
	t.Helper()
	st, err := postgres.Open(context.Background(), database, postgres.Options{BlobDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h, err := auth.HashPassword(auth.TestParams(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	var recs []store.PersonRecord
	for _, u := range people {
		recs = append(recs, store.PersonRecord{Email: u, Name: u, Org: "Leeds Teaching Hospitals NHS Trust", PasswordHash: h})
	}
	if _, _, err := st.UpsertPeople(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
}

// submitTo sends one message through a node's submission door.
func submitTo(addr, from, to, msgID string) error {
	cl, err := smtp.DialStartTLS(addr, clientTLS)
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := cl.Auth(sasl.NewPlainClient("", from, "pw")); err != nil {
		return err
	}
	return cl.SendMail(from, []string{to}, strings.NewReader(fmt.Sprintf(
		"From: %s\r\nTo: %s\r\nSubject: handover %s\r\nMessage-ID: <%s>\r\n\r\nBed 4 needs obs at 2am.\r\n", from, to, msgID, msgID)))
}

var messageID = regexp.MustCompile(`(?m)^Message-ID: <([^>]+)>`)

// readInbox counts the messages in user's INBOX through one node's IMAP
// door by the Message-ID in their bodies, so a message counts only when
// its body reads back.
func readInbox(t *testing.T, addr, user string) map[string]int {
	t.Helper()
	ic, err := imapclient.DialStartTLS(addr, &imapclient.Options{TLSConfig: clientTLS})
	if err != nil {
		t.Fatal(err)
	}
	defer ic.Close()
	if err := ic.Login(user, "pw").Wait(); err != nil {
		t.Fatal(err)
	}
	sel, err := ic.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	if sel.NumMessages == 0 {
		return got
	}
	msgs, err := ic.Fetch(imap.SeqSet{{Start: 1, Stop: sel.NumMessages}},
		&imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		for _, b := range m.BodySection {
			if mm := messageID.FindSubmatch(b.Bytes); mm != nil && bytes.Contains(b.Bytes, []byte("Bed 4")) {
				got[string(mm[1])]++
			}
		}
	}
	return got
}
