package imapd

import (
	"slices"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// RFC 5256 3 SORT and RFC 5957 SORT=DISPLAY, through go-imap's client and
// raw for the keys it does not name.
func TestSort(t *testing.T) {
	e := newEnv(t)
	msg := func(from, to, date, subject, body string) string {
		return "From: " + from + "\r\nTo: " + to + "\r\nDate: " + date + "\r\nSubject: " + subject + "\r\n\r\n" + body + "\r\n"
	}
	e.deliver(t, e.alice, msg("Zoe Young <a.young@nhs.test>", "b@nhs.test", "Wed, 06 Mar 2024 09:00:00 +0000", "Re: Rota", "x"))
	e.deliver(t, e.alice, msg("adam@nhs.test", "C@nhs.test", "Tue, 05 Mar 2024 09:00:00 +0000", "Audit", "longer body text"))
	e.deliver(t, e.alice, msg("\"Bea Marsh\" <Zed@nhs.test>", "a@nhs.test", "not a date", "rota", "mid body"))
	c := e.client(t, "alice@nhs.test", nil)
	if !c.Caps().Has("SORT") || !c.Caps().Has("SORT=DISPLAY") {
		t.Errorf("capabilities lack SORT: %v", c.Caps())
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	test := func(want []uint32, crit ...imapclient.SortCriterion) {
		t.Helper()
		got, err := c.Sort(&imapclient.SortOptions{SearchCriteria: &imap.SearchCriteria{}, SortCriteria: crit}).Wait()
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("SORT %v: %v %v, want %v", crit, got, err, want)
		}
	}
	test([]uint32{1, 2, 3}, imapclient.SortCriterion{Key: imapclient.SortKeyFrom})    // a.young, adam, Zed (the mailbox, case folded)
	test([]uint32{3, 1, 2}, imapclient.SortCriterion{Key: imapclient.SortKeyTo})      // a, b, C
	test([]uint32{2, 1, 3}, imapclient.SortCriterion{Key: imapclient.SortKeySubject}) // audit, rota, rota (ties in mailbox order)
	test([]uint32{3, 2, 1}, imapclient.SortCriterion{Key: imapclient.SortKeySize})    // 95, 112, 115 bytes
	test([]uint32{2, 3, 1}, imapclient.SortCriterion{Key: imapclient.SortKeyDate})    // no Date: the arrival date (5 Mar 10:00)
	test([]uint32{1, 3, 2}, imapclient.SortCriterion{Key: imapclient.SortKeyDate, Reverse: true})
	// Equal keys (same subject, same arrival) keep mailbox order.
	test([]uint32{1, 3, 2}, imapclient.SortCriterion{Key: imapclient.SortKeySubject, Reverse: true}, imapclient.SortCriterion{Key: imapclient.SortKeyArrival, Reverse: true})
	uids, err := c.UIDSort(&imapclient.SortOptions{SearchCriteria: &imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "rota"}}},
		SortCriteria: []imapclient.SortCriterion{{Key: imapclient.SortKeyFrom, Reverse: true}}}).Wait()
	if err != nil || !slices.Equal(uids, []uint32{3, 1}) {
		t.Errorf("UID SORT with criteria: %v %v", uids, err)
	}
	r := e.raw(t)
	r.login("alice@nhs.test")
	r.cmd("S", "EXAMINE INBOX")
	for _, tc := range []struct{ cmd, want string }{
		// RFC 5957: the display name, or the address when there is none.
		{"SORT (DISPLAYFROM) UTF-8 ALL", "* SORT 2 3 1"},
		{"SORT (REVERSE DISPLAYFROM) UTF-8 ALL", "* SORT 1 3 2"},
		{"SORT (DISPLAYTO) US-ASCII ALL", "* SORT 3 1 2"},
		{"SORT (REVERSE) UTF-8 ALL", "X BAD REVERSE must be followed by a sort key."},
		{"SORT (FROB) UTF-8 ALL", `X BAD Unknown sort criterion "FROB".`},
		{"SORT (DATE) KOI8-R ALL", "X NO [BADCHARSET (UTF-8 US-ASCII)] Only UTF-8 and US-ASCII searches are supported."},
		{"SORT (SIZE) UTF-8 MODSEQ 1", "* OK [HIGHESTMODSEQ 4] Highest MODSEQ."},
		{"SORT (SIZE) UTF-8 MODSEQ 1", "* SORT 3 2 1 (MODSEQ 4)"},
	} {
		if got := r.cmd("X", tc.cmd); got[0] != tc.want {
			t.Errorf("%s: %q, want %q", tc.cmd, got, tc.want)
		}
	}
}
