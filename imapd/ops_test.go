package imapd

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

func TestStoreFlags(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 3; i++ {
		e.deliver(t, e.alice, simpleMsg)
	}
	c := e.client(t, "alice@nhs.test", nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.Store(imap.SeqSetNum(1, 2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged, "$Urgent"}}, nil).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || !slices.Contains(msgs[0].Flags, imap.FlagFlagged) || !slices.Contains(msgs[0].Flags, "$Urgent") {
		t.Errorf("+FLAGS: %+v", msgs)
	}
	msgs, err = c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsDel, Flags: []imap.Flag{"$urgent"}}, nil).Collect()
	if err != nil || len(msgs) != 1 || slices.Contains(msgs[0].Flags, "$Urgent") {
		t.Errorf("-FLAGS: %v %+v", err, msgs)
	}
	msgs, err = c.Store(imap.SeqSetNum(3), &imap.StoreFlags{Op: imap.StoreFlagsSet, Silent: true, Flags: []imap.Flag{imap.FlagAnswered}}, nil).Collect()
	if err != nil || len(msgs) != 0 {
		t.Errorf("FLAGS.SILENT: %v %+v", err, msgs)
	}
	all, err := c.Fetch(imap.SeqSetNum(1, 2, 3), &imap.FetchOptions{Flags: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]imap.Flag{{imap.FlagFlagged, `\Recent`}, {imap.FlagFlagged, "$Urgent", `\Recent`}, {imap.FlagAnswered, `\Recent`}}
	for i, m := range all {
		if !slices.Equal(m.Flags, want[i]) {
			t.Errorf("message %d flags %v, want %v", i+1, m.Flags, want[i])
		}
	}
	r := e.raw(t)
	r.login("alice@nhs.test")
	r.cmd("S", "SELECT INBOX")
	for _, tc := range []struct{ cmd, want string }{
		{`STORE 1 +FLAGS (\Bogus)`, `X BAD Unknown system flag "\\Bogus".`},
		{`STORE 1 FROB (\Seen)`, `X BAD Unknown STORE item "FROB".`},
	} {
		if got := last(r.cmd("X", tc.cmd)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.cmd, got, tc.want)
		}
	}
	r.cmd("E", "EXAMINE INBOX")
	if got := last(r.cmd("X", `STORE 1 +FLAGS (\Seen)`)); !strings.HasPrefix(got, "X NO [CANNOT]") {
		t.Errorf("STORE under EXAMINE: %q", got)
	}
}

// UNCHANGEDSINCE refuses messages changed since the client's MODSEQ and
// says which (RFC 7162 3.1.3).
func TestStoreUnchangedSince(t *testing.T) {
	e := newEnv(t)
	e.deliver(t, e.alice, simpleMsg)
	e.deliver(t, e.alice, simpleMsg)
	r := e.raw(t)
	r.login("alice@nhs.test")
	r.cmd("S", "SELECT INBOX (CONDSTORE)")
	got := r.cmd("A", "FETCH 1:2 (MODSEQ)")
	if got[0] != "* 1 FETCH (MODSEQ (2))" || got[1] != "* 2 FETCH (MODSEQ (3))" {
		t.Fatalf("MODSEQ: %q", got)
	}
	got = r.cmd("B", `STORE 1:2 (UNCHANGEDSINCE 2) +FLAGS (\Flagged)`)
	want := []string{
		`* 1 FETCH (UID 1 FLAGS (\Flagged \Recent) MODSEQ (4))`,
		`B OK [MODIFIED 2] Conditional STORE failed for some messages.`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("conditional STORE:\n got %q\nwant %q", got, want)
	}
	got = r.cmd("C", `UID STORE 1:2 (UNCHANGEDSINCE 4) +FLAGS.SILENT (\Seen)`)
	want = []string{
		`* 1 FETCH (UID 1 MODSEQ (5))`,
		`* 2 FETCH (UID 2 MODSEQ (5))`,
		`C OK UID STORE completed.`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("silent conditional STORE:\n got %q\nwant %q", got, want)
	}
}

func TestCopyMoveExpunge(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 4; i++ {
		e.deliver(t, e.alice, simpleMsg)
	}
	c := e.client(t, "alice@nhs.test", nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	cp, err := c.Copy(imap.SeqSetNum(1, 2), "Archive").Wait()
	if err != nil {
		t.Fatal(err)
	}
	arch, err := c.Status("Archive", &imap.StatusOptions{NumMessages: true, UIDValidity: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if cp.UIDValidity != arch.UIDValidity || cp.SourceUIDs.String() != "1:2" || cp.DestUIDs.String() != "1:2" || *arch.NumMessages != 2 {
		t.Errorf("COPYUID %+v, Archive %+v", cp, arch)
	}
	if _, err := c.Copy(imap.SeqSetNum(1), "Nowhere").Wait(); imapCode(err) != "TRYCREATE" {
		t.Errorf("copy to missing mailbox: %v", err)
	}
	mv, err := c.Move(imap.SeqSetNum(3), "Trash").Wait()
	if err != nil {
		t.Fatal(err)
	}
	if mv.SourceUIDs.String() != "3" || mv.DestUIDs.String() != "1" {
		t.Errorf("MOVE COPYUID %+v", mv)
	}
	if mb := c.Mailbox(); mb.NumMessages != 3 {
		t.Errorf("after MOVE the client counts %d messages", mb.NumMessages)
	}
	if err := c.Store(imap.SeqSetNum(1, 3), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	seqs, err := c.Expunge().Collect()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seqs, []uint32{3, 1}) {
		t.Errorf("EXPUNGE sequence numbers %v", seqs)
	}
	// UID EXPUNGE removes only the listed \Deleted messages.
	if err := c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if seqs, err := c.UIDExpunge(imap.UIDSetNum(99)).Collect(); err != nil || len(seqs) != 0 {
		t.Errorf("UID EXPUNGE 99: %v %v", seqs, err)
	}
	if seqs, err := c.UIDExpunge(imap.UIDSetNum(2)).Collect(); err != nil || !slices.Equal(seqs, []uint32{1}) {
		t.Errorf("UID EXPUNGE 2: %v %v", seqs, err)
	}
	st, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil || *st.NumMessages != 0 {
		t.Errorf("INBOX after expunges: %v %v", st, err)
	}
}

func TestCloseExpungesSilently(t *testing.T) {
	e := newEnv(t)
	e.deliver(t, e.alice, simpleMsg)
	e.deliver(t, e.alice, simpleMsg)
	r := e.raw(t)
	r.login("alice@nhs.test")
	r.cmd("S", "SELECT INBOX")
	r.cmd("A", `STORE 1 +FLAGS.SILENT (\Deleted)`)
	if got := r.cmd("B", "CLOSE"); len(got) != 1 || got[0] != "B OK CLOSE completed." {
		t.Errorf("CLOSE: %q", got)
	}
	if got := r.cmd("C", "STATUS INBOX (MESSAGES)"); got[0] != "* STATUS INBOX (MESSAGES 1)" {
		t.Errorf("after CLOSE: %q", got)
	}
	r.cmd("S", "SELECT INBOX")
	r.cmd("A", `STORE 1 +FLAGS.SILENT (\Deleted)`)
	r.cmd("U", "UNSELECT")
	if got := r.cmd("C", "STATUS INBOX (MESSAGES DELETED)"); got[0] != "* STATUS INBOX (MESSAGES 1 DELETED 1)" {
		t.Errorf("after UNSELECT: %q", got)
	}
}

func TestAppend(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, "alice@nhs.test", nil)
	date := time.Date(2024, 2, 1, 8, 30, 0, 0, time.FixedZone("", 3600))
	cmd := c.Append("Drafts", int64(len(simpleMsg)), &imap.AppendOptions{Flags: []imap.Flag{imap.FlagDraft, imap.FlagSeen}, Time: date})
	if _, err := cmd.Write([]byte(simpleMsg)); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	res, err := cmd.Wait()
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Status("Drafts", &imap.StatusOptions{UIDValidity: true, NumMessages: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if res.UID != 1 || res.UIDValidity != st.UIDValidity || *st.NumMessages != 1 {
		t.Errorf("APPENDUID %+v, status %+v", res, st)
	}
	if _, err := c.Select("Drafts", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{Flags: true, InternalDate: true, Envelope: true,
		BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("fetch appended: %v", err)
	}
	m := msgs[0]
	if !slices.Equal(m.Flags, []imap.Flag{imap.FlagSeen, imap.FlagDraft, `\Recent`}) || !m.InternalDate.Equal(date) ||
		m.Envelope.Subject != "Ward round at 9" || string(m.FindBodySection(&imap.FetchItemBodySection{})) != simpleMsg {
		t.Errorf("appended message: flags %v date %v env %+v", m.Flags, m.InternalDate, m.Envelope)
	}
	app := c.Append("Nowhere", 3, nil)
	_, _ = app.Write([]byte("a\r\n"))
	_ = app.Close()
	if _, err := app.Wait(); imapCode(err) != "TRYCREATE" {
		t.Errorf("append to missing mailbox: %v", err)
	}
	// Raw: LITERAL+ and the selected mailbox sees the new message.
	r := e.raw(t)
	r.login("alice@nhs.test")
	r.cmd("S", "SELECT INBOX")
	got := r.cmd("A", "APPEND INBOX (\\Flagged) {13+}\r\nSubject: x\r\n\r\n")
	if len(got) != 3 || got[0] != "* 1 EXISTS" || got[1] != "* 1 RECENT" || !strings.HasPrefix(got[2], "A OK [APPENDUID ") {
		t.Errorf("APPEND with LITERAL+: %q", got)
	}
}

func TestSearch(t *testing.T) {
	e := newEnv(t)
	e.deliver(t, e.alice, simpleMsg)
	e.deliver(t, e.alice, multipartMsg)
	e.deliver(t, e.alice, strings.Replace(simpleMsg, "Ward round at 9", "Rota for April", 1))
	c := e.client(t, "alice@nhs.test", nil)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(imap.SeqSetNum(2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagFlagged}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	test := func(crit *imap.SearchCriteria, want ...uint32) {
		t.Helper()
		res, err := c.UIDSearch(crit, nil).Wait()
		if err != nil {
			t.Errorf("search %+v: %v", crit, err)
			return
		}
		if got := res.AllUIDs(); !slices.Equal(uidsToNums(got), want) {
			t.Errorf("search %+v: %v, want %v", crit, got, want)
		}
	}
	test(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "From", Value: "CAROL"}}}, 1, 3)
	test(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "rota"}}}, 3)
	test(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: "scan@"}}}, 2)
	test(&imap.SearchCriteria{Body: []string{"ward 7"}}, 1, 3)
	test(&imap.SearchCriteria{Text: []string{"clear"}}, 2)
	test(&imap.SearchCriteria{Text: []string{"résults"}}, 2)
	test(&imap.SearchCriteria{Flag: []imap.Flag{imap.FlagFlagged}}, 2)
	test(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagFlagged}}, 1, 3)
	test(&imap.SearchCriteria{Larger: 400}, 2)
	test(&imap.SearchCriteria{Smaller: 400}, 1, 3)
	test(&imap.SearchCriteria{SentSince: time.Date(2024, 3, 6, 0, 0, 0, 0, time.UTC)}, 2)
	test(&imap.SearchCriteria{SentBefore: time.Date(2024, 3, 6, 0, 0, 0, 0, time.UTC)}, 1, 3)
	test(&imap.SearchCriteria{Since: time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC)}, 1, 2, 3)
	test(&imap.SearchCriteria{Before: time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC)})
	test(&imap.SearchCriteria{Or: [][2]imap.SearchCriteria{{{Flag: []imap.Flag{imap.FlagFlagged}}, {Body: []string{"april"}}}}}, 2)
	test(&imap.SearchCriteria{Not: []imap.SearchCriteria{{Header: []imap.SearchCriteriaHeaderField{{Key: "To", Value: "bob"}}}}}, 1, 3)
	test(&imap.SearchCriteria{UID: []imap.UIDSet{imap.UIDSetNum(2, 3)}, Header: []imap.SearchCriteriaHeaderField{{Key: "Cc", Value: "ward7"}}}, 2)

	res, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}},
		&imap.SearchOptions{ReturnMin: true, ReturnMax: true, ReturnCount: true, ReturnAll: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if res.Min != 1 || res.Max != 3 || res.Count != 3 || res.All.String() != "1:3" {
		t.Errorf("ESEARCH %+v", res)
	}

	r := e.raw(t)
	r.login("alice@nhs.test")
	r.cmd("S", "SELECT INBOX")
	for _, tc := range []struct{ cmd, want string }{
		{`SEARCH CHARSET UTF-8 (OR SUBJECT rota SUBJECT round) UNFLAGGED`, "* SEARCH 1 3"},
		{`SEARCH 2:* NOT DELETED`, "* SEARCH 2 3"},
		{`SEARCH RETURN (COUNT) NEW`, `* ESEARCH (TAG "X") COUNT 0`},
		{`SEARCH RETURN () ALL`, `* ESEARCH (TAG "X") ALL 1:3`},
		{`SEARCH HEADER Message-ID ""`, "* SEARCH 1 2 3"},
		// The first CONDSTORE-enabling command announces HIGHESTMODSEQ
		// (RFC 7162 3.1); the second does not.
		{`SEARCH MODSEQ 5`, "* OK [HIGHESTMODSEQ 5] Highest MODSEQ."},
		{`SEARCH MODSEQ 5`, "* SEARCH 2 (MODSEQ 5)"},
		{`SEARCH CHARSET KOI8-R ALL`, "X NO [BADCHARSET (UTF-8 US-ASCII)] Only UTF-8 and US-ASCII searches are supported."},
		{`SEARCH FROB`, `X BAD Unknown search key "FROB".`},
		{`SEARCH SUBJECT {5}`, ""},
	} {
		if tc.want == "" {
			continue
		}
		if got := r.cmd("X", tc.cmd); got[0] != tc.want {
			t.Errorf("%s: %q, want %q", tc.cmd, got, tc.want)
		}
	}
}

func uidsToNums(uids []imap.UID) []uint32 {
	out := make([]uint32, len(uids))
	for i, u := range uids {
		out[i] = uint32(u)
	}
	return out
}
