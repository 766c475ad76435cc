package server_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"wardmail/auth"
	"wardmail/server"
	"wardmail/store"
	"wardmail/store/storetest"
)

const (
	leeds = "Leeds Teaching Hospitals NHS Trust"
	barts = "Barts Health NHS Trust"
)

// listEnv is a running server with people in two organisations.
type listEnv struct {
	t   *testing.T
	srv *server.Server
	st  *store.Store
	ctx context.Context
}

type who struct{ email, org, role, site string }

func startListServer(t *testing.T, people []who, tweak func(*server.Config)) *listEnv {
	t.Helper()
	cfg := server.Defaults()
	cfg.DataDir = t.TempDir()
	cfg.Database = storetest.Database(t) // empty: SQLite in DataDir
	cfg.Hostname = "mx.nhs.test"
	cfg.SMTPAddr, cfg.SubmissionAddr, cfg.IMAPAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.PostTrickle = 0 // tests see pending posts stay pending until read
	if tweak != nil {
		tweak(&cfg)
	}
	srv, err := server.Start(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	})
	e := &listEnv{t: t, srv: srv, st: srv.Store, ctx: context.Background()}
	e.upsert(people...)
	return e
}

func (e *listEnv) upsert(people ...who) {
	e.t.Helper()
	var recs []store.PersonRecord
	for _, p := range people {
		h, err := auth.HashPassword(auth.TestParams(), "pw-"+p.email)
		if err != nil {
			e.t.Fatal(err)
		}
		recs = append(recs, store.PersonRecord{Email: p.email, Name: strings.Split(p.email, "@")[0], Org: p.org, Role: p.role, Site: p.site, PasswordHash: h})
	}
	if _, _, err := e.st.UpsertPeople(e.ctx, recs); err != nil {
		e.t.Fatal(err)
	}
}

func (e *listEnv) id(email string) int64 {
	e.t.Helper()
	p, err := e.st.PersonByEmail(e.ctx, email)
	if err != nil {
		e.t.Fatalf("%s: %v", email, err)
	}
	return p.ID
}

func (e *listEnv) ids(emails ...string) []int64 {
	var out []int64
	for _, m := range emails {
		out = append(out, e.id(m))
	}
	return out
}

func (e *listEnv) staticList(addr, owner string, members ...string) *store.List {
	e.t.Helper()
	l, err := e.st.CreateList(e.ctx, "test", store.ListSpec{Address: addr, Name: addr, Kind: store.ListStatic,
		Owners: e.ids(owner), Members: e.ids(members...)})
	if err != nil {
		e.t.Fatal(err)
	}
	return l
}

func (e *listEnv) dynamicList(addr, owner, rule, scope string) *store.List {
	e.t.Helper()
	l, err := e.st.CreateList(e.ctx, "test", store.ListSpec{Address: addr, Name: addr, Kind: store.ListDynamic,
		Owners: e.ids(owner), Rule: rule, Scope: scope})
	if err != nil {
		e.t.Fatal(err)
	}
	return l
}

// submit sends a message through the submission door, signed in as from.
func (e *listEnv) submit(from string, to []string, subject string, extra ...string) error {
	e.t.Helper()
	c, err := smtp.DialStartTLS(e.srv.Addrs["submission"], &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		e.t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(sasl.NewPlainClient("", from, "pw-"+from)); err != nil {
		e.t.Fatal(err)
	}
	hdr := fmt.Sprintf("From: <%s>\r\nTo: %s\r\nSubject: %s\r\n%s\r\n", from, strings.Join(to, ", "), subject, strings.Join(extra, ""))
	return c.SendMail(from, to, strings.NewReader(hdr+"Hello.\r\n"))
}

func (e *listEnv) mustSubmit(from string, to []string, subject string, extra ...string) {
	e.t.Helper()
	if err := e.submit(from, to, subject, extra...); err != nil {
		e.t.Fatalf("%s sending %q: %v", from, subject, err)
	}
}

// imap signs in as a person.
func (e *listEnv) imap(email string, opts *imapclient.Options) *imapclient.Client {
	e.t.Helper()
	if opts == nil {
		opts = &imapclient.Options{}
	}
	opts.TLSConfig = &tls.Config{InsecureSkipVerify: true}
	c, err := imapclient.DialStartTLS(e.srv.Addrs["imap"], opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = c.Close() })
	if err := c.Login(email, "pw-"+email).Wait(); err != nil {
		e.t.Fatal(err)
	}
	return c
}

// subjects opens a person's INBOX over IMAP and returns the subjects in UID
// order, checking that UIDs increase.
func (e *listEnv) subjects(email string) []string {
	e.t.Helper()
	c := e.imap(email, nil)
	defer c.Logout()
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		e.t.Fatal(err)
	}
	msgs, err := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Envelope: true}).Collect()
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	var last imap.UID
	for _, m := range msgs {
		if m.UID <= last {
			e.t.Errorf("%s: UID %d after %d", email, m.UID, last)
		}
		last = m.UID
		out = append(out, m.Envelope.Subject)
	}
	return out
}

// materialised counts the rows in a person's INBOX without reading it
// through IMAP (which would materialise pending posts).
func (e *listEnv) materialised(email string) int {
	e.t.Helper()
	mb, err := e.st.MailboxByName(e.ctx, e.id(email), "INBOX")
	if errors.Is(err, store.ErrNotFound) {
		return 0
	}
	if err != nil {
		e.t.Fatal(err)
	}
	st, err := e.st.Status(e.ctx, mb.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return int(st.Messages)
}

func code(err error) string {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return fmt.Sprintf("%d %d.%d.%d", se.Code, se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2])
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

func equal(a, b []string) bool { return strings.Join(a, "|") == strings.Join(b, "|") }

// A post to a list is one write: members' mailboxes stay untouched until
// they read, then hold it exactly once; an open IDLE session sees it at once.
func TestListPostIsOneWriteAndMaterialisesOnRead(t *testing.T) {
	e := startListServer(t, []who{
		{"amira@nhs.test", leeds, "Nurse", "LGI"}, {"ben@nhs.test", leeds, "Doctor", "LGI"},
		{"chloe@nhs.test", leeds, "Nurse", "SJUH"}, {"dev@nhs.test", barts, "Nurse", "RLH"},
	}, nil)
	e.staticList("ward-7@nhs.test", "amira@nhs.test", "amira@nhs.test", "ben@nhs.test", "chloe@nhs.test")

	// Ben waits in IDLE on his INBOX.
	exists := make(chan uint32, 4)
	ben := e.imap("ben@nhs.test", &imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				exists <- *d.NumMessages
			}
		}}})
	if _, err := ben.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	idle, err := ben.Idle()
	if err != nil {
		t.Fatal(err)
	}

	e.mustSubmit("amira@nhs.test", []string{"ward-7@nhs.test"}, "Handover at 8")
	select {
	case n := <-exists:
		if n != 1 {
			t.Errorf("IDLE: EXISTS %d, want 1", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Ben's IDLE session was not told of the post")
	}
	_ = idle.Close()
	_ = idle.Wait()

	if n := e.materialised("chloe@nhs.test"); n != 0 {
		t.Errorf("chloe's INBOX holds %d rows before she reads it; the post should wait in the log", n)
	}
	if n, err := e.st.PendingCount(e.ctx, e.id("chloe@nhs.test")); err != nil || n != 1 {
		t.Errorf("chloe's pending count: %d %v, want 1", n, err)
	}
	if got := e.subjects("chloe@nhs.test"); !equal(got, []string{"Handover at 8"}) {
		t.Errorf("chloe sees %q", got)
	}
	if got := e.subjects("chloe@nhs.test"); len(got) != 1 {
		t.Errorf("reading twice: chloe sees %q", got)
	}
	if got := e.subjects("dev@nhs.test"); len(got) != 0 {
		t.Errorf("dev, not a member, sees %q", got)
	}
	// STATUS materialises too, and counts it unseen.
	amira := e.imap("amira@nhs.test", nil)
	st, err := amira.Status("INBOX", &imap.StatusOptions{NumMessages: true, NumUnseen: true}).Wait()
	if err != nil || *st.NumMessages != 1 || *st.NumUnseen != 1 {
		t.Errorf("amira STATUS INBOX: %+v %v", st, err)
	}
}

// Invariant 1: a member sees exactly the posts made while a member, also
// when a person moves organisation under a dynamic list.
func TestListMembersSeeExactlyTheirPosts(t *testing.T) {
	e := startListServer(t, []who{
		{"owner@nhs.test", leeds, "Manager", "LGI"}, {"nina@nhs.test", leeds, "Nurse", "LGI"},
		{"omar@nhs.test", barts, "Nurse", "RLH"},
	}, nil)
	l := e.dynamicList("leeds-nurses@nhs.test", "owner@nhs.test", `role = "Nurse"`, "org:"+leeds)
	if l.Size != 1 {
		t.Fatalf("leeds-nurses has %d members, want 1 (nina)", l.Size)
	}
	e.mustSubmit("owner@nhs.test", []string{"leeds-nurses@nhs.test"}, "post 1")
	// Nina moves to Barts before reading: she keeps post 1.
	e.upsert(who{"nina@nhs.test", barts, "Nurse", "RLH"})
	// Omar moves to Leeds: he joins at the end of the log.
	e.upsert(who{"omar@nhs.test", leeds, "Nurse", "LGI"})
	e.mustSubmit("owner@nhs.test", []string{"leeds-nurses@nhs.test"}, "post 2")
	if got := e.subjects("nina@nhs.test"); !equal(got, []string{"post 1"}) {
		t.Errorf("nina (member for post 1 only) sees %q", got)
	}
	if got := e.subjects("omar@nhs.test"); !equal(got, []string{"post 2"}) {
		t.Errorf("omar (member for post 2 only) sees %q", got)
	}

	// Nested lists: adding a list to a list brings its members in from now.
	e.upsert(who{"pat@nhs.test", barts, "Porter", "RLH"})
	porters := e.staticList("porters@nhs.test", "owner@nhs.test", "pat@nhs.test")
	all := e.staticList("all-staff@nhs.test", "owner@nhs.test", "owner@nhs.test")
	e.mustSubmit("owner@nhs.test", []string{"all-staff@nhs.test"}, "before nesting")
	if err := e.st.AddListMembers(e.ctx, "test", all.ID, nil, []int64{porters.ID}); err != nil {
		t.Fatal(err)
	}
	e.mustSubmit("owner@nhs.test", []string{"all-staff@nhs.test"}, "after nesting")
	// Cycles are refused.
	if err := e.st.AddListMembers(e.ctx, "test", porters.ID, nil, []int64{all.ID}); !errors.Is(err, store.ErrListCycle) {
		t.Errorf("nesting all-staff in porters (a cycle): %v", err)
	}
	if err := e.st.RemoveListMembers(e.ctx, "test", all.ID, nil, []int64{porters.ID}); err != nil {
		t.Fatal(err)
	}
	e.mustSubmit("owner@nhs.test", []string{"all-staff@nhs.test"}, "after un-nesting")
	if got := e.subjects("pat@nhs.test"); !equal(got, []string{"after nesting"}) {
		t.Errorf("pat sees %q, want only the post made while porters was nested", got)
	}
}

// Invariant 2: one copy per mailbox, whether the message came by name and by
// two lists at once.
func TestListMessageAppearsOnce(t *testing.T) {
	e := startListServer(t, []who{{"amira@nhs.test", leeds, "Nurse", "LGI"}, {"ben@nhs.test", leeds, "Doctor", "LGI"}}, nil)
	e.staticList("a@nhs.test", "amira@nhs.test", "amira@nhs.test", "ben@nhs.test")
	e.staticList("b@nhs.test", "amira@nhs.test", "amira@nhs.test", "ben@nhs.test")
	e.mustSubmit("amira@nhs.test", []string{"ben@nhs.test", "a@nhs.test", "b@nhs.test"}, "three ways")
	e.mustSubmit("amira@nhs.test", []string{"ben@nhs.test"}, "direct only")
	if got := e.subjects("ben@nhs.test"); !equal(got, []string{"three ways", "direct only"}) {
		t.Errorf("ben sees %q", got)
	}
}

// Invariant 3: a purged post disappears from every mailbox, materialised or
// pending, and an open session sees EXPUNGE.
func TestPurgeRemovesEverywhere(t *testing.T) {
	e := startListServer(t, []who{{"amira@nhs.test", leeds, "Nurse", "LGI"}, {"ben@nhs.test", leeds, "Doctor", "LGI"},
		{"chloe@nhs.test", leeds, "Nurse", "SJUH"}}, nil)
	e.staticList("ward@nhs.test", "amira@nhs.test", "amira@nhs.test", "ben@nhs.test", "chloe@nhs.test")
	e.mustSubmit("amira@nhs.test", []string{"ward@nhs.test"}, "keep me")
	e.mustSubmit("amira@nhs.test", []string{"ward@nhs.test"}, "test email", "Message-ID: <oops@nhs.test>\r\n")
	e.mustSubmit("amira@nhs.test", []string{"ward@nhs.test"}, "Re: test email", "Message-ID: <reply@nhs.test>\r\nIn-Reply-To: <oops@nhs.test>\r\nReferences: <oops@nhs.test>\r\n")

	// Ben has read both (materialised) and keeps his session open.
	expunged := make(chan uint32, 4)
	ben := e.imap("ben@nhs.test", &imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Expunge: func(seq uint32) { expunged <- seq }}})
	if sel, err := ben.Select("INBOX", nil).Wait(); err != nil || sel.NumMessages != 3 {
		t.Fatalf("ben SELECT: %v %v", sel, err)
	}
	// Chloe has not read anything: hers are pending.
	res, err := e.st.Purge(e.ctx, "test", "oops@nhs.test", true)
	if err != nil {
		t.Fatal(err)
	}
	if res.Submissions != 2 || res.Removed != 2 || res.Mailboxes != 1 || res.Pending != 4 {
		t.Errorf("purge: %+v; want 2 submissions, ben's 2 rows, amira's and chloe's 4 pending", res)
	}
	if err := ben.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	if len(expunged) != 2 {
		t.Errorf("ben's open session saw %d EXPUNGEs, want 2", len(expunged))
	}
	for _, p := range []string{"ben@nhs.test", "chloe@nhs.test", "amira@nhs.test"} {
		if got := e.subjects(p); !equal(got, []string{"keep me"}) {
			t.Errorf("%s after the purge sees %q", p, got)
		}
	}
	audit, _ := e.st.AuditLog(e.ctx, store.AuditQuery{ActionPrefix: "message.purge"})
	if len(audit) != 1 || audit[0].Target != "thread <oops@nhs.test>" {
		t.Errorf("audit: %+v", audit)
	}
}

// The November 2016 case: a rule meant for one organisation can never reach
// beyond its scope, whatever its text says, and a mistyped organisation is
// an error, not "everyone".
func TestDynamicListScopeBoundsTheRule(t *testing.T) {
	e := startListServer(t, []who{{"amira@nhs.test", leeds, "Nurse", "LGI"}, {"ben@nhs.test", leeds, "Doctor", "LGI"},
		{"dev@nhs.test", barts, "Nurse", "RLH"}, {"eve@nhs.test", barts, "Doctor", "RLH"}}, nil)
	// "Everyone except a (mistyped) organisation" would be the whole
	// country without a scope; here it is Leeds.
	l := e.dynamicList("leeds-all@nhs.test", "amira@nhs.test", `not org = "Leeds Teachng Hospitals NHS Trust"`, "org:"+leeds)
	if l.Size != 2 {
		t.Errorf("the rule reached %d people; the scope holds 2", l.Size)
	}
	l = e.dynamicList("leeds-star@nhs.test", "amira@nhs.test", `*`, "org:"+leeds)
	if l.Size != 2 {
		t.Errorf("* in org scope reached %d people, want 2", l.Size)
	}
	// A scope that names an organisation nobody has is refused, with a
	// suggestion.
	_, err := e.st.CreateList(e.ctx, "test", store.ListSpec{Address: "typo@nhs.test", Name: "typo", Kind: store.ListDynamic,
		Owners: e.ids("amira@nhs.test"), Rule: "*", Scope: "org:Leeds Teaching Hospital NHS Trust"})
	if err == nil || !strings.Contains(err.Error(), `no organisation called "Leeds Teaching Hospital NHS Trust"`) || !strings.Contains(err.Error(), leeds) {
		t.Errorf("a mistyped scope: %v", err)
	}
	// A rule that cannot parse is refused with its position.
	_, err = e.st.CreateList(e.ctx, "test", store.ListSpec{Address: "bad@nhs.test", Name: "bad", Kind: store.ListDynamic,
		Owners: e.ids("amira@nhs.test"), Rule: `org = Leeds`, Scope: "national"})
	if err == nil || !strings.Contains(err.Error(), "column 7") {
		t.Errorf("a bad rule: %v", err)
	}
	e.mustSubmit("amira@nhs.test", []string{"leeds-all@nhs.test"}, "test email")
	if got := e.subjects("dev@nhs.test"); len(got) != 0 {
		t.Errorf("dev at Barts got %q from a Leeds list", got)
	}
}

// The idle-time trickle materialises pending posts without anyone reading.
func TestPostTrickle(t *testing.T) {
	e := startListServer(t, []who{{"amira@nhs.test", leeds, "Nurse", "LGI"}, {"ben@nhs.test", leeds, "Doctor", "LGI"}},
		func(c *server.Config) { c.PostTrickle = 20 * time.Millisecond })
	e.staticList("ward@nhs.test", "amira@nhs.test", "amira@nhs.test", "ben@nhs.test")
	e.mustSubmit("amira@nhs.test", []string{"ward@nhs.test"}, "trickled")
	deadline := time.Now().Add(10 * time.Second)
	for e.materialised("ben@nhs.test") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the trickle never materialised ben's pending post")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n, _ := e.st.PendingCount(e.ctx, e.id("ben@nhs.test")); n != 0 {
		t.Errorf("ben still has %d pending after the trickle", n)
	}
}

// A person who joins a list while their IMAP session idles gets its next
// post at once.
func TestJoinerInIdleGetsPosts(t *testing.T) {
	e := startListServer(t, []who{{"amira@nhs.test", leeds, "Nurse", "LGI"}, {"ben@nhs.test", leeds, "Doctor", "LGI"}}, nil)
	l := e.staticList("ward@nhs.test", "amira@nhs.test", "amira@nhs.test")
	exists := make(chan uint32, 4)
	ben := e.imap("ben@nhs.test", &imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				exists <- *d.NumMessages
			}
		}}})
	if _, err := ben.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	idle, err := ben.Idle()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = idle.Close(); _ = idle.Wait() }()
	if err := e.st.AddListMembers(e.ctx, "test", l.ID, e.ids("ben@nhs.test"), nil); err != nil {
		t.Fatal(err)
	}
	e.mustSubmit("amira@nhs.test", []string{"ward@nhs.test"}, "welcome")
	select {
	case n := <-exists:
		if n != 1 {
			t.Errorf("EXISTS %d, want 1", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ben, who joined while idling, was not told of the post")
	}
}

// A FETCH on an open INBOX answers from what is there: a list post that
// arrived meanwhile waits for the client's next poll (NOOP) or IDLE, so a
// flood of posts puts no write in front of each command. Nothing is lost:
// NOOP takes it in, and so does IDLE after a FETCH saw the wake-up.
func TestListPostReachesOpenInboxAtPollNotFetch(t *testing.T) {
	e := startListServer(t, []who{{"amira@nhs.test", leeds, "Nurse", "LGI"}, {"ben@nhs.test", leeds, "Doctor", "LGI"}}, nil)
	e.staticList("ward@nhs.test", "amira@nhs.test", "amira@nhs.test", "ben@nhs.test")
	e.mustSubmit("amira@nhs.test", []string{"ward@nhs.test"}, "first")
	exists := make(chan uint32, 8)
	ben := e.imap("ben@nhs.test", &imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				exists <- *d.NumMessages
			}
		}}})
	sel, err := ben.Select("INBOX", nil).Wait()
	if err != nil || sel.NumMessages != 1 {
		t.Fatalf("SELECT: %+v %v, want the first post", sel, err)
	}
	all := imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}
	fetchSubjects := func() []string {
		t.Helper()
		msgs, err := ben.Fetch(all, &imap.FetchOptions{UID: true, Envelope: true}).Collect()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range msgs {
			out = append(out, m.Envelope.Subject)
		}
		return out
	}
	told := func(want uint32, after string) {
		t.Helper()
		for {
			select {
			case n := <-exists:
				if n == want {
					return
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("after %s: no EXISTS %d", after, want)
			}
		}
	}

	e.mustSubmit("amira@nhs.test", []string{"ward@nhs.test"}, "second")
	if got := fetchSubjects(); !equal(got, []string{"first"}) {
		t.Errorf("FETCH after the second post: %q, want only what SELECT showed", got)
	}
	select {
	case n := <-exists:
		t.Errorf("FETCH reported EXISTS %d: it took the post in", n)
	default:
	}
	if n := e.materialised("ben@nhs.test"); n != 1 {
		t.Errorf("ben's INBOX holds %d rows after the FETCH, want 1 (the post still in the log)", n)
	}
	if err := ben.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	told(2, "NOOP")
	if got := fetchSubjects(); !equal(got, []string{"first", "second"}) {
		t.Errorf("FETCH after NOOP: %q", got)
	}

	// A post whose wake-up a FETCH saw still reaches an IDLE that follows.
	e.mustSubmit("amira@nhs.test", []string{"ward@nhs.test"}, "third")
	if got := fetchSubjects(); len(got) != 2 {
		t.Errorf("FETCH after the third post: %q", got)
	}
	idle, err := ben.Idle()
	if err != nil {
		t.Fatal(err)
	}
	told(3, "IDLE")
	_ = idle.Close()
	_ = idle.Wait()
}
