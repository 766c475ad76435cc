package imapd

import (
	"bufio"
	"bytes"
	"errors"
	"testing"

	"wardmail/imapd/wire"
)

// FuzzNotify runs the NOTIFY reader (RFC 5465) over whatever the wire
// reader accepts after "a NOTIFY ". It must answer (BAD, NO [BADEVENT],
// NO [LIMIT]) or give groups that keep RFC 5465's rules, never panic.
func FuzzNotify(f *testing.F) {
	for _, s := range []string{
		"NONE",
		"SET STATUS (SELECTED (MessageNew (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)]) MessageExpunge FlagChange)) (PERSONAL (MailboxName SubscriptionChange))",
		"SET (SUBTREE (Ward \"R&AOk-union\") (MessageNew MessageExpunge)) (MAILBOXES INBOX NONE)",
		"SET (INBOXES (MessageNew MessageExpunge AnnotationChange)) (SUBSCRIBED (MailboxName))",
		"SET (SELECTED-DELAYED (MessageNew MessageExpunge)) (SELECTED NONE)",
	} {
		f.Add("a NOTIFY " + s + "\r\n")
	}
	f.Fuzz(func(t *testing.T, line string) {
		r := wire.NewReader(bufio.NewReader(bytes.NewReader([]byte(line))), wire.Limits{MaxLine: 4096, MaxDepth: 8, MaxArgs: 200})
		r.LiteralLimit = func(string) int64 { return 1024 }
		cmd, err := r.ReadCommand()
		if err != nil {
			return
		}
		spec, err := parseNotify(cmd.Args, mailboxArg)
		var re *respError
		if err != nil {
			if !errors.As(err, &re) {
				t.Fatalf("error that is not an answer: %v", err)
			}
			return
		}
		if spec == nil {
			return
		}
		if len(spec.groups) == 0 {
			t.Fatalf("SET without groups accepted: %q", line)
		}
		for _, g := range spec.groups {
			newMsg, expunge := g.events&evMessageNew != 0, g.events&evMessageExpunge != 0
			if newMsg != expunge || (g.events&evFlagChange != 0 && !newMsg) {
				t.Fatalf("events %b accepted: %q", g.events, line)
			}
			if len(g.fetch) > 0 && g.filter != filterSelected && g.filter != filterSelectedDelayed {
				t.Fatalf("fetch attributes for filter %d accepted: %q", g.filter, line)
			}
			for _, it := range g.fetch {
				if it.needsBody() && !it.peek {
					t.Fatalf("a notification would mark a message read: %q", line)
				}
			}
		}
	})
}
