package imapd

import (
	"fmt"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// threadMsg builds a message with the threading headers; empty ones are
// left out.
func threadMsg(id, refs, inReplyTo, subject, date string) string {
	var b strings.Builder
	b.WriteString("From: carol@nhs.test\r\nTo: alice@nhs.test\r\n")
	if id != "" {
		fmt.Fprintf(&b, "Message-ID: <%s@nhs.test>\r\n", id)
	}
	if refs != "" {
		b.WriteString("References:")
		for _, r := range strings.Fields(refs) {
			fmt.Fprintf(&b, " <%s@nhs.test>", r)
		}
		b.WriteString("\r\n")
	}
	if inReplyTo != "" {
		fmt.Fprintf(&b, "In-Reply-To: <%s@nhs.test>\r\n", inReplyTo)
	}
	fmt.Fprintf(&b, "Subject: %s\r\nDate: %s\r\n\r\nText.\r\n", subject, date)
	return b.String()
}

// RFC 5256 THREAD=REFERENCES and THREAD=ORDEREDSUBJECT: replies hang under
// what they reference (References, else In-Reply-To), siblings go by sent
// date, a missing parent becomes a dummy holding its replies, roots with
// the same base subject are joined, and the output is RFC 5256 4's
// thread-list, which go-imap's client parses.
func TestThread(t *testing.T) {
	e := newEnv(t)
	for _, m := range []string{
		threadMsg("a", "", "", "Rota", "Fri, 01 Mar 2024 10:00:00 +0000"),        // 1
		threadMsg("b", "a", "", "Re: Rota", "Fri, 01 Mar 2024 11:00:00 +0000"),   // 2
		threadMsg("c", "a b", "", "Re: Rota", "Fri, 01 Mar 2024 12:00:00 +0000"), // 3
		threadMsg("d", "", "a", "Re: Rota", "Fri, 01 Mar 2024 10:30:00 +0000"),   // 4: In-Reply-To only
		threadMsg("e", "x", "", "Audit", "Sat, 02 Mar 2024 09:00:00 +0000"),      // 5: its parent x is not here
		threadMsg("f", "x", "", "Re: Audit", "Sat, 02 Mar 2024 08:00:00 +0000"),  // 6
		threadMsg("g", "", "", "Lunch", "Sun, 03 Mar 2024 12:00:00 +0000"),       // 7
		threadMsg("h", "", "", "Re: Lunch", "Sun, 03 Mar 2024 13:00:00 +0000"),   // 8: joined by subject
		threadMsg("", "", "", "Misc", "Thu, 29 Feb 2024 09:00:00 +0000"),         // 9: no Message-ID
	} {
		e.deliver(t, e.alice, m)
	}
	r := e.raw(t)
	r.login("alice@nhs.test")
	if got := r.cmd("C", "CAPABILITY")[0]; !strings.Contains(got, " THREAD=ORDEREDSUBJECT THREAD=REFERENCES ") {
		t.Errorf("CAPABILITY: %q", got)
	}
	r.cmd("S", "EXAMINE INBOX")
	for _, tc := range []struct{ cmd, want string }{
		{"THREAD REFERENCES UTF-8 ALL", "* THREAD (9)(1 (4)(2 3))((6)(5))(7 8)"},
		// Without message 1, its replies hang from a dummy.
		{"UID THREAD REFERENCES US-ASCII 2:8", "* THREAD ((4)(2 3))((6)(5))(7 8)"},
		{"THREAD ORDEREDSUBJECT UTF-8 ALL", "* THREAD (9)(1 (4)(2)(3))(6 5)(7 8)"},
		{"THREAD ORDEREDSUBJECT UTF-8 SUBJECT nothing", "* THREAD"},
		{"THREAD JWZ UTF-8 ALL", `X BAD Unknown threading algorithm "JWZ".`},
		{"THREAD REFERENCES KOI8-R ALL", "X NO [BADCHARSET (UTF-8 US-ASCII)] Only UTF-8 and US-ASCII searches are supported."},
	} {
		if got := r.cmd("X", tc.cmd); got[0] != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.cmd, got, tc.want)
		}
	}

	c := e.client(t, "alice@nhs.test", nil)
	if algs := c.Caps().ThreadAlgorithms(); len(algs) != 2 {
		t.Errorf("thread algorithms: %v", algs)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	data, err := c.UIDThread(&imapclient.ThreadOptions{Algorithm: imap.ThreadReferences, SearchCriteria: &imap.SearchCriteria{}}).Wait()
	if err != nil || len(data) != 4 {
		t.Fatalf("UID THREAD: %v %v", data, err)
	}
	// (1 (4)(2 3)): a chain of 1, then two subthreads.
	if th := data[1]; len(th.Chain) != 1 || th.Chain[0] != 1 || len(th.SubThreads) != 2 ||
		th.SubThreads[0].Chain[0] != 4 || len(th.SubThreads[1].Chain) != 2 {
		t.Errorf("second thread: %+v", th)
	}
}
