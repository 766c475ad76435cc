package mail_test

import (
	"bytes"
	"testing"
	"time"

	"wardmail/mail"
	"wardmail/message"
)

// FuzzThread runs both RFC 5256 threading algorithms over messages whose
// ids, references and subjects come from the input (a small alphabet, so
// that duplicates, loops and self-references are common). Every message
// must come out exactly once, in a tree without cycles.
func FuzzThread(f *testing.F) {
	f.Add([]byte("a:b c:Re: x\nb:a:x\nc:c b:\n:a:Re: y\nb::y"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var msgs []mail.ThreadMessage
		for i, line := range bytes.Split(data, []byte("\n")) {
			if i >= 200 {
				break
			}
			parts := bytes.SplitN(line, []byte(":"), 3)
			m := mail.ThreadMessage{Order: i, Date: time.Unix(int64(len(line)%7), 0)}
			m.ID = string(parts[0])
			if len(parts) > 1 {
				for _, r := range bytes.Fields(parts[1]) {
					m.Refs = append(m.Refs, string(r))
				}
			}
			if len(parts) > 2 {
				m.Subject = message.NormalizeSubject(string(parts[2]))
				m.Reply = message.IsReplySubject(string(parts[2]))
			}
			msgs = append(msgs, m)
		}
		for _, roots := range [][]*mail.ThreadNode{mail.ThreadReferences(msgs), mail.ThreadOrderedSubject(msgs)} {
			seen := make([]int, len(msgs))
			visited := map[*mail.ThreadNode]bool{}
			var walk func(n *mail.ThreadNode, depth int)
			walk = func(n *mail.ThreadNode, depth int) {
				if visited[n] || depth > len(msgs)+1 {
					t.Fatalf("cycle in the thread tree")
				}
				visited[n] = true
				if n.Msg >= 0 {
					seen[n.Msg]++
				} else if len(n.Kids) == 0 {
					t.Fatalf("empty dummy in the output")
				}
				for _, k := range n.Kids {
					walk(k, depth+1)
				}
			}
			for _, r := range roots {
				walk(r, 0)
			}
			for i, n := range seen {
				if n != 1 {
					t.Fatalf("message %d appears %d times", i, n)
				}
			}
		}
	})
}
