package server_test

import (
	"strings"
	"testing"
)

// A message whose Subject and Message-ID carry raw 8-bit bytes that are not
// UTF-8 (Latin-1 from an old client) is accepted and delivered on every
// backend: PostgreSQL refuses such bytes in a text column, so the store must
// not hand them to one as they are.
func TestEightBitHeadersAreDelivered(t *testing.T) {
	e := startListServer(t, []who{{"amira@nhs.test", leeds, "", ""}, {"ben@nhs.test", leeds, "", ""}}, nil)
	e.mustSubmit("amira@nhs.test", []string{"ben@nhs.test"}, "Caf\xe9 rota", "Message-ID: <caf\xe9@nhs.test>\r\n")
	got := e.subjects("ben@nhs.test")
	if len(got) != 1 || !strings.HasPrefix(got[0], "Caf") || !strings.HasSuffix(got[0], " rota") {
		t.Fatalf("ben's INBOX: %q, want the Latin-1 message", got)
	}
}
