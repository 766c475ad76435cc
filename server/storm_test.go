package server_test

import (
	"crypto/tls"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"wardmail/server"
	"wardmail/store"
)

// fakeClock is the server's clock in these tests: windows slide and blocks
// end by moving it, not by sleeping.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var stormStart = time.Date(2026, 11, 14, 8, 29, 0, 0, time.UTC)

// stormEnv is a list server on a fake clock with a list of `members`
// people, its owner "orig@nhs.test", administrators nat (national) and
// loc (local), and repliers r01@... r20@ who can sign in.
type stormEnv struct {
	*listEnv
	clock *fakeClock
	// clients are signed-in API sessions by address.
	clients map[string]*apiClient
	list    string
}

func startStormServer(t *testing.T, members int, tweak func(*server.Config)) *stormEnv {
	t.Helper()
	clock := &fakeClock{t: stormStart}
	people := []who{{"orig@nhs.test", leeds, "Director", "LGI"}, {"nat@nhs.test", barts, "IT", "RLH"},
		{"loc@nhs.test", leeds, "IT", "LGI"}, {"outsider@nhs.test", barts, "Nurse", "RLH"}}
	for i := 1; i <= 20; i++ {
		people = append(people, who{fmt.Sprintf("r%02d@nhs.test", i), leeds, "Nurse", "LGI"})
	}
	e := startListServer(t, people, func(c *server.Config) {
		c.Now = clock.Now
		if tweak != nil {
			tweak(c)
		}
	})
	// The rest of the list: people who never sign in (no password).
	var recs []store.PersonRecord
	for i := len(people) - 3; i < members; i++ {
		recs = append(recs, store.PersonRecord{Email: fmt.Sprintf("staff%05d@nhs.test", i), Name: "Staff", Org: leeds, Role: "Nurse", Site: "LGI"})
	}
	if len(recs) > 0 {
		if _, _, err := e.st.UpsertPeople(e.ctx, recs); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.st.GrantAdmin(e.ctx, "test", e.id("nat@nhs.test"), store.RoleNational, 0); err != nil {
		t.Fatal(err)
	}
	loc, _ := e.st.PersonByEmail(e.ctx, "loc@nhs.test")
	if err := e.st.GrantAdmin(e.ctx, "test", loc.ID, store.RoleLocal, loc.OrgID); err != nil {
		t.Fatal(err)
	}
	// Everyone in Leeds: the list of the 2016 storm, under 50,000 people,
	// where an administrator let every member post (--post members).
	l := e.dynamicList("all-leeds@nhs.test", "orig@nhs.test", "*", "org:"+leeds)
	if int(l.Size) < members-1 {
		t.Fatalf("list size %d, want about %d", l.Size, members)
	}
	if err := e.st.SetPostPolicy(e.ctx, "nat@nhs.test", l.ID, "members", nil, e.id("nat@nhs.test")); err != nil {
		t.Fatal(err)
	}
	return &stormEnv{listEnv: e, clock: clock, list: l.Address}
}

// send submits with the envelope recipients apart from the header, so a
// list can be Bcc'd.
func (e *stormEnv) send(from string, envelope []string, header string) error {
	e.t.Helper()
	c, err := smtp.DialStartTLS(e.srv.Addrs["submission"], &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		e.t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(sasl.NewPlainClient("", from, "pw-"+from)); err != nil {
		e.t.Fatal(err)
	}
	return c.SendMail(from, envelope, strings.NewReader("From: <"+from+">\r\n"+header+"\r\nHello.\r\n"))
}

// post starts a thread on the list.
func (e *stormEnv) post(id, subject string) {
	e.t.Helper()
	if err := e.send("orig@nhs.test", []string{e.list}, "To: "+e.list+"\r\nSubject: "+subject+"\r\nMessage-ID: <"+id+">\r\n"); err != nil {
		e.t.Fatalf("posting %q: %v", subject, err)
	}
}

// replyAll replies to everyone: the list, with the thread's references.
func (e *stormEnv) replyAll(from, thread, subject string) error {
	e.t.Helper()
	return e.send(from, []string{e.list, "orig@nhs.test"}, fmt.Sprintf("To: %s, orig@nhs.test\r\nSubject: RE: %s\r\nIn-Reply-To: <%s>\r\nReferences: <%s>\r\n",
		e.list, subject, thread, thread))
}

func (e *stormEnv) api(as, method, path string, out any) int {
	e.t.Helper()
	if e.clients == nil {
		e.clients = map[string]*apiClient{}
	}
	if e.clients[as] == nil {
		e.clients[as] = newAPIClientAt(e.t, e.srv, as, e.clock.Now)
	}
	return e.clients[as].call(method, path, nil, out)
}

type boardThread struct {
	Thread, Subject, State string
	OriginalSender         string `json:"original_sender"`
	Audience, Replies      int64
	Blocked, Braked        int64
	InWindow               int64      `json:"replies_window"`
	BlockedUntil           *time.Time `json:"blocked_until"`
	BlockedBy              string     `json:"blocked_by"`
}

func (e *stormEnv) board() map[string]boardThread {
	e.t.Helper()
	var out struct {
		Threads []boardThread
		Rules   struct {
			MinAudience int64 `json:"min_audience"`
			Threshold   int   `json:"threshold"`
		}
	}
	if code := e.api("nat@nhs.test", "GET", "/api/v1/admin/storms", &out); code != 200 {
		e.t.Fatalf("storm board: %d", code)
	}
	// The board states the rules in force, for the console's sentence.
	if out.Rules.MinAudience <= 0 || out.Rules.Threshold <= 0 {
		e.t.Errorf("storm board rules: %+v", out.Rules)
	}
	m := map[string]boardThread{}
	for _, t := range out.Threads {
		m[t.Thread] = t
	}
	return m
}

// The 2016 setting with the default thresholds: a list of 3,000 people
// under 50,000, where an administrator let all members post. Ten
// reply-alls within the hour go through; the eleventh is refused with a
// 5.7.1 that says why, until when, and that replying to the sender alone
// works, which it does.
func TestStormBreaker2016Setting(t *testing.T) {
	if testing.Short() {
		t.Skip("3,000 people")
	}
	e := startStormServer(t, 3000, nil)
	e.post("flu-2016@nhs.test", "Flu jabs")
	for i := 1; i <= 10; i++ {
		e.clock.Add(time.Minute)
		if err := e.replyAll(fmt.Sprintf("r%02d@nhs.test", i), "flu-2016@nhs.test", "Flu jabs"); err != nil {
			t.Fatalf("reply-all %d: %v", i, err)
		}
	}
	blockedAt := e.clock.Now()
	e.clock.Add(time.Minute)
	err := e.replyAll("r11@nhs.test", "flu-2016@nhs.test", "Flu jabs")
	until := blockedAt.Add(6 * time.Hour).Format("2006-01-02 15:04 MST")
	if code(err) != "550 5.7.1" || !strings.Contains(err.Error(), until) || !strings.Contains(err.Error(), "Replying to the sender alone still works") ||
		!strings.Contains(err.Error(), "10 replies to 2,500 or more people within 60 minutes") {
		t.Errorf("the 11th reply-all: %v (want 550 5.7.1 until %s)", err, until)
	}
	// Replying to the sender alone still works on the blocked thread.
	if err := e.send("r11@nhs.test", []string{"orig@nhs.test"}, "To: orig@nhs.test\r\nSubject: RE: Flu jabs\r\nIn-Reply-To: <flu-2016@nhs.test>\r\nReferences: <flu-2016@nhs.test>\r\n"); err != nil {
		t.Errorf("reply to the sender alone on a blocked thread: %v", err)
	}
	b := e.board()["<flu-2016@nhs.test>"]
	if b.State != "blocked" || b.Replies != 10 || b.Blocked != 1 || b.Braked != 8 || b.Subject != "Flu jabs" ||
		b.OriginalSender != "orig@nhs.test" || b.Audience < 3000 || b.BlockedBy != "breaker" {
		t.Errorf("storm board: %+v", b)
	}
	// A member reading now sees the post and the first two replies: from
	// the third on, delivery to the list is braked, and a blocked thread's
	// braked posts wait for the block to end (or a purge).
	if got := e.subjects("r20@nhs.test"); len(got) != 3 {
		t.Errorf("a member sees %d messages during the storm, want 3: %q", len(got), got)
	}
	// Half an hour on, the brake's delay is over but the thread is blocked:
	// its braked replies stay held.
	e.clock.Add(30 * time.Minute)
	if n, err := e.srv.Storms.ReleaseBraked(e.ctx); err != nil || n != 0 {
		t.Errorf("released %d braked posts on a blocked thread (%v)", n, err)
	}
	// Six hours later the block has ended by itself and the window is empty;
	// the eight braked replies now reach the list.
	e.clock.Add(6 * time.Hour)
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := e.st.PendingCount(e.ctx, e.id("r20@nhs.test"))
		if err != nil {
			t.Fatal(err)
		}
		if n == 8 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("braked replies pending for a member after the block ended: %d, want 8", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := e.replyAll("r12@nhs.test", "flu-2016@nhs.test", "Flu jabs"); err != nil {
		t.Errorf("a reply-all after the block ended: %v", err)
	}
	if b := e.board()["<flu-2016@nhs.test>"]; b.State != "watch" || b.InWindow != 1 {
		t.Errorf("after the block: %+v", b)
	}
}

// The window slides: replies older than 60 minutes stop counting.
func TestStormWindowSlides(t *testing.T) {
	e := startStormServer(t, 10, func(c *server.Config) { c.StormMinAudience = 5 })
	e.post("w@nhs.test", "Window")
	for i := 1; i <= 9; i++ { // minutes 1..9
		e.clock.Add(time.Minute)
		if err := e.replyAll(fmt.Sprintf("r%02d@nhs.test", i), "w@nhs.test", "Window"); err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
	}
	// At minute 65 the replies of minutes 1..5 are out: 4 remain.
	e.clock.Add(56 * time.Minute)
	if b := e.board()["<w@nhs.test>"]; b.InWindow != 4 || b.State != "brake" {
		t.Errorf("after the window slid: %+v", b)
	}
	for i := 10; i <= 15; i++ { // 6 more: the window holds 10
		if err := e.replyAll(fmt.Sprintf("r%02d@nhs.test", i), "w@nhs.test", "Window"); err != nil {
			t.Fatalf("reply %d (window %d): %v", i, i-5, err)
		}
	}
	if err := e.replyAll("r16@nhs.test", "w@nhs.test", "Window"); code(err) != "550 5.7.1" {
		t.Errorf("the 11th in the window: %v", err)
	}
}

// Edge cases: a reply that drops the list, a new thread with the same
// subject, a list in Bcc, a large post that is not a reply.
func TestStormEdgeCases(t *testing.T) {
	e := startStormServer(t, 10, func(c *server.Config) { c.StormMinAudience = 5; c.StormReplies = 2 })
	e.post("a@nhs.test", "Parking")
	for i := 1; i <= 2; i++ {
		if err := e.replyAll(fmt.Sprintf("r%02d@nhs.test", i), "a@nhs.test", "Parking"); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.replyAll("r03@nhs.test", "a@nhs.test", "Parking"); code(err) != "550 5.7.1" {
		t.Fatalf("thread not blocked: %v", err)
	}
	// The webmail shows reply-all as unavailable on the blocked thread, and
	// why (UID 1 of the original sender's INBOX is the post itself).
	var view struct {
		Subject  string
		ReplyAll struct {
			Allowed bool
			Reason  string
			Until   time.Time
		}
	}
	if got := e.subjects("orig@nhs.test"); len(got) == 0 || got[0] != "Parking" {
		t.Fatalf("the original sender's INBOX: %q", got)
	}
	inbox, err := e.st.MailboxByName(e.ctx, e.id("orig@nhs.test"), "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if c := e.api("orig@nhs.test", "GET", fmt.Sprintf("/api/v1/folders/%d/messages/1?peek=1", inbox.ID), &view); c != 200 || view.Subject != "Parking" ||
		view.ReplyAll.Allowed || !strings.Contains(view.ReplyAll.Reason, "reply to the sender alone") || view.ReplyAll.Until.IsZero() {
		t.Errorf("webmail view of the blocked thread: %d %+v", c, view)
	}
	// A reply that drops the list reaches two people: allowed.
	if err := e.send("r03@nhs.test", []string{"orig@nhs.test", "r01@nhs.test"}, "To: orig@nhs.test, r01@nhs.test\r\nSubject: RE: Parking\r\nReferences: <a@nhs.test>\r\n"); err != nil {
		t.Errorf("a reply without the list: %v", err)
	}
	// The list in Bcc still counts as audience: refused.
	err = e.send("r04@nhs.test", []string{"orig@nhs.test", e.list}, "To: orig@nhs.test\r\nSubject: RE: Parking\r\nReferences: <a@nhs.test>\r\n")
	if code(err) != "550 5.7.1" {
		t.Errorf("a reply with the list in Bcc: %v", err)
	}
	// A reply deeper in the thread (References starts with the root).
	err = e.send("r04@nhs.test", []string{e.list}, "To: "+e.list+"\r\nSubject: RE: RE: Parking\r\nIn-Reply-To: <x@nhs.test>\r\nReferences: <a@nhs.test> <x@nhs.test>\r\n")
	if code(err) != "550 5.7.1" {
		t.Errorf("a reply to a reply: %v", err)
	}
	// A new thread with the same subject is another thread: not blocked,
	// and its replies count apart.
	e.post("b@nhs.test", "Parking")
	if err := e.replyAll("r05@nhs.test", "b@nhs.test", "Parking"); err != nil {
		t.Errorf("a reply on a new thread with the same subject: %v", err)
	}
	// A new large post that is not a reply is never counted.
	e.post("c@nhs.test", "RE: Parking")
	board := e.board()
	if board["<a@nhs.test>"].State != "blocked" || board["<a@nhs.test>"].Blocked != 3 || board["<b@nhs.test>"].Replies != 1 {
		t.Errorf("board: %+v", board)
	}
	if _, ok := board["<c@nhs.test>"]; ok {
		t.Errorf("a post that is not a reply is on the board")
	}
}

// The early brake: the third large-audience reply reaches the list only
// after the delay, and the thread is on the board as "brake" meanwhile.
func TestStormEarlyBrake(t *testing.T) {
	e := startStormServer(t, 10, func(c *server.Config) { c.StormMinAudience = 5; c.StormBrakeDelay = 10 * time.Minute })
	e.post("k@nhs.test", "Kit")
	for i := 1; i <= 3; i++ {
		e.clock.Add(time.Minute)
		if err := e.replyAll(fmt.Sprintf("r%02d@nhs.test", i), "k@nhs.test", "Kit"); err != nil {
			t.Fatal(err)
		}
	}
	if b := e.board()["<k@nhs.test>"]; b.State != "brake" || b.Braked != 1 || b.Replies != 3 {
		t.Errorf("board after the 3rd reply: %+v", b)
	}
	member := "r20@nhs.test" // a member not named in the replies
	if n, err := e.st.PendingCount(e.ctx, e.id(member)); err != nil || n != 3 {
		t.Errorf("pending for a member with the 3rd reply braked: %d %v, want 3", n, err)
	}
	// The original sender, named in the reply, has it at once.
	if got := e.subjects("orig@nhs.test"); len(got) != 4 {
		t.Errorf("the named recipient sees %q", got)
	}
	e.clock.Add(10 * time.Minute)
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := e.st.PendingCount(e.ctx, e.id(member))
		if err != nil {
			t.Fatal(err)
		}
		if n == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the braked reply was not released after the delay (pending %d)", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// It appears once in the original sender's INBOX (named and member).
	if got := e.subjects("orig@nhs.test"); len(got) != 4 {
		t.Errorf("after release the named recipient sees %q", got)
	}
}

// Administrators block and unblock by hand, through the API, audited; the
// board is theirs alone.
func TestStormBoardAndManualBlock(t *testing.T) {
	e := startStormServer(t, 10, func(c *server.Config) { c.StormMinAudience = 5 })
	e.post("m@nhs.test", "Rota")
	if err := e.replyAll("r01@nhs.test", "m@nhs.test", "Rota"); err != nil {
		t.Fatal(err)
	}
	if code := e.api("r02@nhs.test", "GET", "/api/v1/admin/storms", nil); code != 403 {
		t.Errorf("a non-administrator reading the storm board: %d", code)
	}
	path := "/api/v1/admin/storms/" + url.PathEscape("<m@nhs.test>")
	if code := e.api("r02@nhs.test", "POST", path+"/block", nil); code != 403 {
		t.Errorf("a non-administrator blocking: %d", code)
	}
	var th boardThread
	if code := e.api("loc@nhs.test", "POST", path+"/block", &th); code != 200 || th.State != "blocked" || th.BlockedBy != "loc@nhs.test" {
		t.Errorf("a local administrator blocking: %d %+v", code, th)
	}
	err := e.replyAll("r02@nhs.test", "m@nhs.test", "Rota")
	if code(err) != "550 5.7.1" || !strings.Contains(err.Error(), "an administrator stopped it") {
		t.Errorf("a reply-all on a thread blocked by hand: %v", err)
	}
	if code := e.api("loc@nhs.test", "POST", path+"/unblock", nil); code != 403 {
		t.Errorf("a local administrator unblocking: %d", code)
	}
	if code := e.api("nat@nhs.test", "POST", path+"/unblock", &th); code != 200 || th.State != "watch" || th.InWindow != 0 {
		t.Errorf("a national administrator unblocking: %d %+v", code, th)
	}
	e.clock.Add(time.Second)
	if err := e.replyAll("r02@nhs.test", "m@nhs.test", "Rota"); err != nil {
		t.Errorf("a reply-all after the unblock: %v", err)
	}
	if code := e.api("nat@nhs.test", "POST", "/api/v1/admin/storms/nothing@nhs.test/block", nil); code != 404 {
		t.Errorf("blocking an unknown thread: %d", code)
	}
	entries, err := e.st.AuditLog(e.ctx, store.AuditQuery{ActionPrefix: "storm.", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range entries {
		got = append(got, a.Actor+" "+a.Action)
	}
	if !strings.Contains(strings.Join(got, ","), "loc@nhs.test storm.block") || !strings.Contains(strings.Join(got, ","), "nat@nhs.test storm.unblock") {
		t.Errorf("audit: %q", got)
	}
}

// Sender limits, counted after list expansion: messages a minute, people a
// day, and a broadcast sender's own quota.
func TestSenderLimits(t *testing.T) {
	e := startStormServer(t, 10, func(c *server.Config) { c.SenderPerDay = 40 })
	for i := 0; i < 30; i++ {
		if err := e.send("r01@nhs.test", []string{"r02@nhs.test"}, fmt.Sprintf("To: r02@nhs.test\r\nSubject: n%d\r\n", i)); err != nil {
			t.Fatalf("message %d: %v", i+1, err)
		}
	}
	err := e.send("r01@nhs.test", []string{"r02@nhs.test"}, "To: r02@nhs.test\r\nSubject: n31\r\n")
	if code(err) != "450 4.7.1" || !strings.Contains(err.Error(), "30 a minute") {
		t.Errorf("the 31st message in a minute: %v", err)
	}
	e.clock.Add(61 * time.Second)
	if err := e.send("r01@nhs.test", []string{"r02@nhs.test"}, "To: r02@nhs.test\r\nSubject: later\r\n"); err != nil {
		t.Errorf("a minute later: %v", err)
	}
	// The list has 22 members: with 40 a day, r03 may post once.
	if err := e.send("r03@nhs.test", []string{e.list}, "To: "+e.list+"\r\nSubject: one\r\n"); err != nil {
		t.Fatalf("the first post: %v", err)
	}
	err = e.send("r03@nhs.test", []string{e.list}, "To: "+e.list+"\r\nSubject: two\r\n")
	if code(err) != "451 4.7.1" || !strings.Contains(err.Error(), "in the last 24 hours") {
		t.Errorf("past the daily recipients: %v", err)
	}
	// A list in Bcc counts too.
	err = e.send("r03@nhs.test", []string{"r04@nhs.test", e.list}, "To: r04@nhs.test\r\nSubject: bcc\r\n")
	if code(err) != "451 4.7.1" {
		t.Errorf("a Bcc'd list past the daily recipients: %v", err)
	}
	e.clock.Add(24 * time.Hour)
	if err := e.send("r03@nhs.test", []string{e.list}, "To: "+e.list+"\r\nSubject: tomorrow\r\n"); err != nil {
		t.Errorf("the next day: %v", err)
	}
	// A broadcast sender has a quota of their own.
	if err := e.st.SetBroadcastSender(e.ctx, "test", e.id("r06@nhs.test"), 100); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		if err := e.send("r06@nhs.test", []string{e.list}, fmt.Sprintf("To: %s\r\nSubject: bulletin %d\r\n", e.list, i)); err != nil {
			t.Fatalf("broadcast %d: %v", i, err)
		}
	}
	err = e.send("r06@nhs.test", []string{e.list}, "To: "+e.list+"\r\nSubject: bulletin 5\r\n")
	if code(err) != "451 4.7.1" || !strings.Contains(err.Error(), "broadcast quota is 100") {
		t.Errorf("past the broadcast quota: %v", err)
	}
}

// One message bigger than the day's quota is refused for good.
func TestSenderLimitOneMessageTooBig(t *testing.T) {
	e := startStormServer(t, 10, func(c *server.Config) { c.SenderPerDay = 20 })
	err := e.send("r01@nhs.test", []string{e.list}, "To: "+e.list+"\r\nSubject: all\r\n")
	if code(err) != "550 5.7.1" || !strings.Contains(err.Error(), "broadcast sender") {
		t.Errorf("a message to more people than a day's quota: %v", err)
	}
}
