package imapd

import (
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
)

// RFC 8437 UNAUTHENTICATE through go-imap's client: a shared workstation
// signs Alice out and Bob in on the same connection; Bob sees his mailbox,
// not Alice's, and Alice's extensions are off.
func TestUnauthenticate(t *testing.T) {
	e := newEnv(t)
	e.deliver(t, e.alice, simpleMsg)
	e.deliver(t, e.alice, simpleMsg)
	e.deliver(t, e.bob, multipartMsg)
	c := e.client(t, "alice@nhs.test", nil)
	if !c.Caps().Has(imap.CapUnauthenticate) {
		t.Fatalf("no UNAUTHENTICATE in %v", c.Caps())
	}
	if _, err := c.Enable(imap.CapIMAP4rev2).Wait(); err != nil {
		t.Fatal(err)
	}
	if mb, err := c.Select("INBOX", nil).Wait(); err != nil || mb.NumMessages != 2 {
		t.Fatalf("Alice's INBOX: %v %v", mb, err)
	}
	if err := c.Unauthenticate().Wait(); err != nil {
		t.Fatalf("UNAUTHENTICATE: %v", err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err == nil {
		t.Errorf("SELECT after UNAUTHENTICATE succeeded")
	}
	if err := c.Login("bob@nhs.test", testPassword).Wait(); err != nil {
		t.Fatalf("Bob's sign-in: %v", err)
	}
	mb, err := c.Select("INBOX", nil).Wait()
	if err != nil || mb.NumMessages != 1 {
		t.Fatalf("Bob's INBOX: %v %v", mb, err)
	}

	// Raw: the state and the extensions are reset, and pre-authentication
	// capabilities are offered again.
	r := e.raw(t)
	r.login("alice@nhs.test")
	r.cmd("E", "ENABLE IMAP4rev2 CONDSTORE")
	r.cmd("S", "SELECT INBOX")
	if got := r.cmd("U", "UNAUTHENTICATE"); last(got) != "U OK UNAUTHENTICATE completed; sign in again or log out." {
		t.Fatalf("UNAUTHENTICATE: %q", got)
	}
	if got := r.cmd("C", "CAPABILITY")[0]; !strings.Contains(got, "AUTH=PLAIN") || strings.Contains(got, "UNAUTHENTICATE") {
		t.Errorf("CAPABILITY after UNAUTHENTICATE: %q", got)
	}
	if got := r.cmd("N", "NAMESPACE"); last(got) != "N BAD Sign in first." {
		t.Errorf("NAMESPACE after UNAUTHENTICATE: %q", got)
	}
	r.login("alice@nhs.test")
	got := r.cmd("S", "SELECT INBOX")
	for _, l := range got {
		if strings.HasPrefix(l, "* LIST") || strings.Contains(l, "CLOSED") {
			t.Errorf("IMAP4rev2 still on after UNAUTHENTICATE: %q", got)
		}
	}
	if !strings.Contains(strings.Join(got, "\n"), "RECENT") {
		t.Errorf("IMAP4rev1 SELECT expected: %q", got)
	}
}
