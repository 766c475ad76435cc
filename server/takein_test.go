package server_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"wardmail/server"
)

// A member's waiting list posts are taken into their INBOX as soon as they
// sign in over IMAP, before they open it: the write runs while the client
// sends its SELECT instead of after it. SELECT then shows every post once,
// in the order posted, and a post that arrives between LOGIN and SELECT is
// there too.
func TestListPostsTakenInAtSignIn(t *testing.T) {
	e := startListServer(t, []who{{"amira@nhs.test", leeds, "Nurse", "LGI"}, {"ben@nhs.test", leeds, "Doctor", "LGI"}},
		func(c *server.Config) { c.SenderLimitsOff = true })
	e.staticList("ward@nhs.test", "amira@nhs.test", "amira@nhs.test", "ben@nhs.test")
	const posts = 12
	var want []string
	for i := range posts {
		want = append(want, fmt.Sprintf("bulletin %02d", i))
		e.mustSubmit("amira@nhs.test", []string{"ward@nhs.test"}, want[i])
	}
	if n := e.materialised("ben@nhs.test"); n != 0 {
		t.Fatalf("ben's INBOX holds %d rows before he signs in; the posts should wait in the log", n)
	}

	ben := e.imap("ben@nhs.test", nil) // LOGIN, nothing else
	deadline := time.Now().Add(10 * time.Second)
	for e.materialised("ben@nhs.test") < posts {
		if time.Now().After(deadline) {
			t.Fatalf("ben's INBOX holds %d of the %d posts after he signed in: they were not taken in at LOGIN",
				e.materialised("ben@nhs.test"), posts)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n, err := e.st.PendingCount(e.ctx, e.id("ben@nhs.test")); err != nil || n != 0 {
		t.Errorf("ben has %d posts pending after the take-in at LOGIN (%v), want 0", n, err)
	}

	// One more post after LOGIN, before SELECT: SELECT shows what LOGIN
	// took in (or, a second later, takes in for itself); the client's next
	// poll brings the rest, as for any post to an open INBOX.
	want = append(want, "late bulletin")
	e.mustSubmit("amira@nhs.test", []string{"ward@nhs.test"}, want[len(want)-1])
	sel, err := ben.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if n := int(sel.NumMessages); n != posts && n != len(want) {
		t.Errorf("SELECT: %d messages, want the %d taken in at LOGIN (or %d)", n, posts, len(want))
	}
	if err := ben.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	msgs, err := ben.Fetch(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Envelope: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var last imap.UID
	for _, m := range msgs {
		if m.UID <= last {
			t.Errorf("UID %d after %d", m.UID, last)
		}
		last = m.UID
		got = append(got, m.Envelope.Subject)
	}
	if !equal(got, want) {
		t.Errorf("ben's INBOX in UID order:\n%q\nwant the posts in the order sent:\n%q", got, want)
	}
	if err := ben.Logout().Wait(); err != nil {
		t.Error(err)
	}
}

// A member who signs in and out without opening anything gets the posts
// once, however many sessions took them in at the same time.
func TestListPostsTakenInOnceBySeveralSignIns(t *testing.T) {
	e := startListServer(t, []who{{"amira@nhs.test", leeds, "Nurse", "LGI"}, {"ben@nhs.test", leeds, "Doctor", "LGI"}},
		func(c *server.Config) { c.SenderLimitsOff = true })
	e.staticList("ward@nhs.test", "amira@nhs.test", "amira@nhs.test", "ben@nhs.test")
	const posts = 6
	var want []string
	for i := range posts {
		want = append(want, fmt.Sprintf("notice %d", i))
		e.mustSubmit("amira@nhs.test", []string{"ward@nhs.test"}, want[i])
	}
	// Three devices sign in at once; the third opens the INBOX at once.
	for range 2 {
		c := e.imap("ben@nhs.test", nil)
		defer func() { _ = c.Logout().Wait() }()
	}
	if got := e.subjects("ben@nhs.test"); !equal(got, want) {
		t.Errorf("ben sees %q, want %q", got, want)
	}
	if n := e.materialised("ben@nhs.test"); n != posts {
		t.Errorf("ben's INBOX holds %d rows, want %d", n, posts)
	}
}

// The idle-time trickle leaves the writer to readers taking in their own
// posts, but not for ever: while one member keeps reading a busy list, the
// posts still reach the INBOX of a member who never signs in.
func TestTrickleStillRunsWhileMembersRead(t *testing.T) {
	e := startListServer(t, []who{{"amira@nhs.test", leeds, "Nurse", "LGI"}, {"ben@nhs.test", leeds, "Doctor", "LGI"},
		{"chloe@nhs.test", leeds, "Nurse", "SJUH"}},
		func(c *server.Config) { c.SenderLimitsOff = true; c.PostTrickle = 20 * time.Millisecond })
	e.staticList("ward@nhs.test", "amira@nhs.test", "amira@nhs.test", "ben@nhs.test", "chloe@nhs.test")
	ben := e.imap("ben@nhs.test", nil)
	if _, err := ben.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; ; i++ {
		// A post, and ben's client polling for it: each poll takes in.
		e.mustSubmit("amira@nhs.test", []string{"ward@nhs.test"}, fmt.Sprintf("update %d", i))
		if err := ben.Noop().Wait(); err != nil {
			t.Fatal(err)
		}
		if e.materialised("chloe@nhs.test") > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %d posts read by ben as they came, chloe's INBOX is still empty: the trickle never ran", i+1)
		}
	}
}
