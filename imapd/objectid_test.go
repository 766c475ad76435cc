package imapd

import (
	"regexp"
	"strings"
	"testing"
)

// RFC 8474 OBJECTID: MAILBOXID survives RENAME and comes with SELECT,
// CREATE and STATUS; EMAILID is the same for a message and its copy;
// THREADID is shared by a message and its replies; SEARCH finds by both.
func TestObjectID(t *testing.T) {
	e := newEnv(t)
	e.deliver(t, e.alice, simpleMsg) // Message-ID <round@nhs.test>
	e.deliver(t, e.alice, "From: bob@nhs.test\r\nSubject: Re: Ward round at 9\r\nMessage-ID: <r1@nhs.test>\r\n"+
		"In-Reply-To: <round@nhs.test>\r\nReferences: <round@nhs.test>\r\n\r\nYes.\r\n")
	e.deliver(t, e.alice, multipartMsg)
	e.deliver(t, e.alice, "From: carol@nhs.test\r\nSubject: Re: Re: Ward round\r\nMessage-ID: <r2@nhs.test>\r\n"+
		"References: <round@nhs.test> <r1@nhs.test>\r\n\r\nAgreed.\r\n")
	r := e.raw(t)
	r.login("alice@nhs.test")
	if got := r.cmd("C", "CAPABILITY")[0]; !strings.Contains(got, " OBJECTID ") {
		t.Errorf("CAPABILITY: %q", got)
	}
	created := last(r.cmd("C", "CREATE Rota"))
	id := regexp.MustCompile(`^C OK \[MAILBOXID \((M[0-9]+)\)\] CREATE completed\.$`).FindStringSubmatch(created)
	if id == nil {
		t.Fatalf("CREATE: %q", created)
	}
	r.cmd("R", "RENAME Rota Rota2024")
	if got := r.cmd("S", "STATUS Rota2024 (MAILBOXID MESSAGES)")[0]; got != `* STATUS "Rota2024" (MAILBOXID (`+id[1]+") MESSAGES 0)" {
		t.Errorf("STATUS after RENAME: %q, want id %s", got, id[1])
	}
	sel := strings.Join(r.cmd("S", "SELECT Rota2024"), "\n")
	if !strings.Contains(sel, "* OK [MAILBOXID ("+id[1]+")] Mailbox id.") {
		t.Errorf("SELECT: %s", sel)
	}

	r.cmd("S", "SELECT INBOX")
	r.cmd("C", "COPY 1 Rota2024")
	fetch := r.cmd("F", "FETCH 1:4 (EMAILID THREADID)")
	re := regexp.MustCompile(`^\* (\d) FETCH \(EMAILID \((E[0-9]+)\) THREADID \((T[0-9a-f]+)\)\)$`)
	var email, thread [5]string
	for _, l := range fetch[:4] {
		m := re.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("FETCH: %q", fetch)
		}
		n := int(m[1][0] - '0')
		email[n], thread[n] = m[2], m[3]
	}
	if thread[1] != thread[2] || thread[1] != thread[4] || thread[3] == thread[1] {
		t.Errorf("THREADIDs %v: 1, 2 and 4 are one conversation, 3 another", thread[1:])
	}
	if email[1] == email[2] || email[2] == email[3] {
		t.Errorf("EMAILIDs %v: different messages share an id", email[1:])
	}
	for _, tc := range []struct{ cmd, want string }{
		{"SEARCH THREADID " + thread[1], "* SEARCH 1 2 4"},
		{"SEARCH EMAILID " + email[3], "* SEARCH 3"},
		{"SEARCH EMAILID e" + email[3][1:], "* SEARCH"}, // ids are case-sensitive
	} {
		if got := r.cmd("X", tc.cmd); got[0] != tc.want {
			t.Errorf("%s: %q, want %q", tc.cmd, got, tc.want)
		}
	}
	r.cmd("S", "EXAMINE Rota2024")
	if got := r.cmd("F", "FETCH 1 (EMAILID THREADID)")[0]; got != "* 1 FETCH (EMAILID ("+email[1]+") THREADID ("+thread[1]+"))" {
		t.Errorf("the copy: %q, want %s %s", got, email[1], thread[1])
	}
}
