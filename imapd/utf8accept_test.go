package imapd

import (
	"testing"

	"github.com/emersion/go-imap/v2"
)

// TestUTF8AcceptClient: go-imap's client turns UTF8=ACCEPT on with ENABLE
// (RFC 6855 3) and gets a mailbox with a UTF-8 name back as it made it.
func TestUTF8AcceptClient(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, "alice@nhs.test", nil)
	if !c.Caps().Has(imap.CapUTF8Accept) {
		t.Fatalf("UTF8=ACCEPT not advertised: %v", c.Caps())
	}
	data, err := c.Enable(imap.CapUTF8Accept).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if !data.Caps.Has(imap.CapUTF8Accept) {
		t.Fatalf("ENABLED %v, want UTF8=ACCEPT", data.Caps)
	}
	if err := c.Create("Überweisung/Zoë & Co", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	list, err := c.List("", "*berweisung/*", nil).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Mailbox != "Überweisung/Zoë & Co" {
		t.Errorf("LIST: %+v", list)
	}
}
