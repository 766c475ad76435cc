package mail_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"wardmail/mail"
	"wardmail/message"
)

// appendThreaded appends a message with these header fields to the folder,
// arriving at second i.
func (e *env) appendThreaded(t *testing.T, box int64, i int, hdr string) uint32 {
	t.Helper()
	ctx := context.Background()
	body := []byte("From: a@nhs.test\r\nTo: bob@nhs.test\r\n" + hdr + "\r\nText.\r\n")
	sum, err := message.Summarize(body)
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.svc.PrepareContent(ctx, body, sum.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	uid, err := e.st.Append(ctx, box, c, nil, time.Unix(1_800_000_000+int64(i), 0))
	if err != nil {
		t.Fatal(err)
	}
	return uid
}

// shape is a grouping in an order-free form: each conversation's UIDs.
func shape(th *mail.Threads) string {
	var out []string
	for _, c := range th.List {
		u := slices.Clone(c.UIDs)
		slices.Sort(u)
		out = append(out, fmt.Sprint(u))
	}
	slices.Sort(out)
	return fmt.Sprint(th.Messages, out)
}

// The grouping kept up to date message by message is the grouping worked out
// from scratch, however the messages link up (late parents joining two
// conversations, replies by subject only); a burst of arrivals larger than
// a tenth of the folder is grouped afresh; removals take messages out.
func TestConversationsIncrementalMatchesFresh(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	box := e.box(t, e.bob, "INBOX").ID
	fresh := func() string {
		// A service of its own keeps no grouping: it reads the folder
		// from scratch.
		th, err := mail.New(e.st, nil).Conversations(ctx, box)
		if err != nil {
			t.Fatal(err)
		}
		return shape(th)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	add := func(i int) {
		hdr := fmt.Sprintf("Message-ID: <m%d@nhs.test>\r\nSubject: Topic %d\r\n", i, i%7)
		switch rnd.IntN(4) {
		case 0: // a reply to a message that may not have arrived yet
			hdr = fmt.Sprintf("Message-ID: <m%d@nhs.test>\r\nSubject: Re: Topic %d\r\nReferences: <m%d@nhs.test>\r\n", i, i%7, rnd.IntN(i+20))
		case 1: // by subject only
			hdr = fmt.Sprintf("Message-ID: <m%d@nhs.test>\r\nSubject: Re: Topic %d\r\n", i, i%7)
		}
		e.appendThreaded(t, box, i, hdr)
	}
	check := func(what string) {
		t.Helper()
		th, err := e.svc.Conversations(ctx, box)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := shape(th), fresh(); got != want {
			t.Fatalf("%s:\nkept  %s\nfresh %s", what, got, want)
		}
	}
	for i := 0; i < 120; i++ {
		add(i)
		if i%10 == 9 {
			check(fmt.Sprintf("after %d messages", i+1))
		}
	}
	for i := 120; i < 250; i++ { // more than the grouping brings up to date
		add(i)
	}
	check("after a burst of 130")

	// Removals: the message leaves its conversation, the rest stay.
	th, _ := e.svc.Conversations(ctx, box)
	victim := th.List[0].UIDs[0]
	if _, _, err := e.st.SetFlags(ctx, box, []uint32{victim}, mail.FlagsAdd, []string{mail.FlagDeleted}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.Expunge(ctx, box, []uint32{victim}); err != nil {
		t.Fatal(err)
	}
	th, err := e.svc.Conversations(ctx, box)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range th.List {
		n += len(c.UIDs)
		if slices.Contains(c.UIDs, victim) {
			t.Errorf("removed UID %d is still in a conversation", victim)
		}
	}
	if n != 249 || th.Messages != 249 {
		t.Errorf("after a removal: %d messages in conversations, %d counted", n, th.Messages)
	}
	check("after a removal")
}

// A page of conversations: newest conversation first, each with its size,
// its unread count and whether any message is flagged, read live; the UIDs
// a row carries are bounded, newest first.
func TestConversationList(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	box := e.box(t, e.bob, "INBOX").ID
	r1 := e.appendThreaded(t, box, 1, "Message-ID: <r1@nhs.test>\r\nSubject: Rota\r\n")
	w1 := e.appendThreaded(t, box, 2, "Message-ID: <w1@nhs.test>\r\nSubject: Weekly report\r\n")
	r2 := e.appendThreaded(t, box, 3, "Message-ID: <r2@nhs.test>\r\nSubject: Re: Rota\r\nIn-Reply-To: <r1@nhs.test>\r\n")
	r3 := e.appendThreaded(t, box, 4, "Message-ID: <r3@nhs.test>\r\nSubject: RE: rota\r\n") // by subject
	if _, _, err := e.st.SetFlags(ctx, box, []uint32{r1}, mail.FlagsAdd, []string{mail.FlagSeen, mail.FlagFlagged}, 0); err != nil {
		t.Fatal(err)
	}
	page, err := e.svc.ConversationList(ctx, box, 0, 10, 2)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%d/%d", page.Total, page.Messages)
	for _, c := range page.Conversations {
		got += fmt.Sprintf(" | %d: %d msgs %v unread %d flagged %v", c.Newest, c.Count, c.UIDs, c.Unread, c.Flagged)
	}
	// The rota row carries its two newest UIDs (r1, read and flagged,
	// is left out by the bound, so it counts for neither).
	want := fmt.Sprintf("2/4 | %d: 3 msgs [%d %d] unread 2 flagged false | %d: 1 msgs [%d] unread 1 flagged false", r3, r3, r2, w1, w1)
	if got != want {
		t.Fatalf("page:\n got %s\nwant %s", got, want)
	}
	// Reading and flagging show at once; the second page has the rest.
	if _, _, err := e.st.SetFlags(ctx, box, []uint32{r2}, mail.FlagsAdd, []string{mail.FlagSeen, mail.FlagFlagged}, 0); err != nil {
		t.Fatal(err)
	}
	page, err = e.svc.ConversationList(ctx, box, 0, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	if c := page.Conversations[0]; len(page.Conversations) != 1 || c.Unread != 1 || !c.Flagged || len(c.UIDs) != 3 {
		t.Errorf("after reading and flagging one: %+v", page.Conversations)
	}
	if page, err = e.svc.ConversationList(ctx, box, 1, 5, 10); err != nil || len(page.Conversations) != 1 || page.Conversations[0].Newest != w1 {
		t.Errorf("second page: %+v, %v", page, err)
	}
	if page, err = e.svc.ConversationList(ctx, box, 9, 5, 10); err != nil || len(page.Conversations) != 0 || page.Total != 2 {
		t.Errorf("past the end: %+v, %v", page, err)
	}
	th, ok, err := e.svc.ConversationOf(ctx, box, r1)
	if err != nil || !ok || !slices.Equal(th.UIDs, []uint32{r3, r2, r1}) {
		t.Errorf("conversation of r1: %+v %v %v", th, ok, err)
	}
	if _, ok, err := e.svc.ConversationOf(ctx, box, 999); ok || err != nil {
		t.Errorf("conversation of an unknown UID: %v %v", ok, err)
	}
}

// Readers group a folder while messages arrive (the webmail and IMAP share
// one service): every answer is a whole grouping, and the last one counts
// every message.
func TestConversationsWhileMessagesArrive(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	box := e.box(t, e.bob, "INBOX").ID
	done := make(chan struct{})
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			for {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				th, err := e.svc.Conversations(ctx, box)
				if err != nil {
					errs <- err
					return
				}
				n := 0
				for _, c := range th.List {
					n += len(c.UIDs)
				}
				if n != th.Messages {
					errs <- fmt.Errorf("%d messages in conversations, %d counted", n, th.Messages)
					return
				}
			}
		}()
	}
	for i := range 60 {
		e.appendThreaded(t, box, i, fmt.Sprintf("Message-ID: <m%d@nhs.test>\r\nSubject: Re: Topic %d\r\n", i, i%5))
	}
	close(done)
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	th, err := e.svc.Conversations(ctx, box)
	if err != nil || th.Messages != 60 || len(th.List) != 5 {
		t.Fatalf("after the arrivals: %d messages in %d conversations, %v", th.Messages, len(th.List), err)
	}
}
