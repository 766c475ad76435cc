package imapd

import (
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

// UIDVALIDITY as a caching client sees it (RFC 9051 2.3.1.1): a data folder
// rebuilt later must not hand out the values of the one before (the client
// would show the old folder's cached messages under the new UIDs), and a
// mailbox deleted and created again must have a greater value.
func TestUIDValidityDiffersAcrossInstallationsAndRecreation(t *testing.T) {
	var mu sync.Mutex
	clock := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	withClock := func(o *envOptions) { o.now = now }

	validity := func(e *testEnv, mailbox string) uint32 {
		t.Helper()
		c := e.client(t, "alice@nhs.test", nil)
		data, err := c.Select(mailbox, nil).Wait()
		if err != nil {
			t.Fatalf("SELECT %s: %v", mailbox, err)
		}
		if data.UIDValidity == 0 {
			t.Fatalf("SELECT %s: UIDVALIDITY 0", mailbox)
		}
		st, err := c.Status(mailbox, &imap.StatusOptions{UIDValidity: true}).Wait()
		if err != nil {
			t.Fatalf("STATUS %s: %v", mailbox, err)
		}
		if st.UIDValidity != data.UIDValidity {
			t.Errorf("%s: STATUS says UIDVALIDITY %d, SELECT %d", mailbox, st.UIDValidity, data.UIDValidity)
		}
		if err := c.Logout().Wait(); err != nil {
			t.Error(err)
		}
		return data.UIDValidity
	}

	first := newEnv(t, withClock)
	inbox1 := validity(first, "INBOX")
	sent1 := validity(first, "Sent")
	if inbox1 == sent1 {
		t.Errorf("INBOX and Sent share UIDVALIDITY %d", inbox1)
	}

	// The same people in a data folder made again a day later.
	advance(24 * time.Hour)
	second := newEnv(t, withClock)
	if inbox2 := validity(second, "INBOX"); inbox2 <= inbox1 {
		t.Errorf("a rebuilt data folder's INBOX has UIDVALIDITY %d, the old one's %d: a caching client keeps the old messages", inbox2, inbox1)
	}

	// A folder deleted and created again under the same name, in the same
	// second: a greater value.
	c := first.client(t, "alice@nhs.test", nil)
	if err := c.Create("Ward 7", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	before := validity(first, "Ward 7")
	if err := c.Delete("Ward 7").Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Create("Ward 7", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if after := validity(first, "Ward 7"); after <= before {
		t.Errorf("Ward 7 recreated: UIDVALIDITY %d, before %d", after, before)
	}
}
