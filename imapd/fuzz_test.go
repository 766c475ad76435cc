package imapd

import (
	"bufio"
	"bytes"
	"errors"
	"testing"
	"time"

	"wardmail/imapd/wire"
	"wardmail/message"
)

// FuzzCommandArgs runs the argument interpreters of the commands (sequence
// sets, FETCH items and modifiers, SEARCH keys, flags, QRESYNC parameters,
// mailbox names and LIST patterns) over whatever the wire reader accepts.
// They must answer BAD or succeed, never panic.
func FuzzCommandArgs(f *testing.F) {
	for _, s := range []string{
		"a FETCH 1:3,5:* (FLAGS BODY.PEEK[1.2.HEADER.FIELDS.NOT (From \"To\")]<5.10> BINARY[2]) (CHANGEDSINCE 4 VANISHED)\r\n",
		"a SEARCH RETURN (MIN) CHARSET UTF-8 OR (FROM x NOT 2:4) HEADER Subject y SENTSINCE 1-Feb-2024 MODSEQ \"/flags/\\\\draft\" all 5\r\n",
		"a STORE 1 +FLAGS (\\Seen $Label)\r\n",
		"a UID SEARCH RETURN (SAVE MIN) OR $ UID $\r\n",
		"a UID SORT (REVERSE DATE DISPLAYFROM) UTF-8 OR FROM x SINCE 1-Feb-2024\r\n",
		"a UID SORT RETURN (MIN PARTIAL 1:5 UPDATE CONTEXT) (ARRIVAL) UTF-8 ALL\r\n",
		"a UID THREAD REFERENCES UTF-8 OR SUBJECT x THREADID T1f\r\n",
		"a SELECT INBOX (QRESYNC (1 2 1:5 (1:2 3:4)))\r\n",
		"a LIST \"\" \"R&AOk-union/%\"\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := wire.NewReader(bufio.NewReader(bytes.NewReader(data)), wire.Limits{MaxLine: 4096, MaxDepth: 8, MaxArgs: 200})
		r.LiteralLimit = func(string) int64 { return 1024 }
		for i := 0; i < 20; i++ {
			cmd, err := r.ReadCommand()
			if err != nil {
				var we *wire.Error
				if errors.As(err, &we) && !we.Fatal {
					continue
				}
				return
			}
			checkArgs(t, cmd)
		}
	})
}

func checkArgs(t *testing.T, cmd *wire.Command) {
	args := cmd.Args
	ok := func(err error) {
		var re *respError
		if err != nil && !errors.As(err, &re) {
			t.Fatalf("%s: error that is not an answer: %v", cmd.Name, err)
		}
	}
	switch cmd.Name {
	case "FETCH":
		if len(args) >= 2 {
			if args[0].Kind == wire.Atom {
				set, err := parseNumSet(args[0].S)
				ok(err)
				if err == nil {
					s := &selected{msgs: []msgState{{uid: 3}, {uid: 9}}}
					_, err = s.indices(set, cmd.UID)
					ok(err)
					formatSet([]uint32{3, 1, 2})
				}
			}
			items, err := parseFetchItems(args[1])
			ok(err)
			for _, it := range items {
				_ = it.sectionString()
			}
		}
		if len(args) == 3 {
			_, err := parseFetchOptions(args[2])
			ok(err)
		}
	case "SEARCH":
		_, rest, err := parseReturn(args)
		ok(err)
		if err == nil && len(rest) > 0 {
			args = rest
		}
		if len(args) > 0 {
			k, err := parseSearchKeys(args)
			ok(err)
			if err == nil {
				var n searchNeeds
				k.needs(&n)
				if !n.row {
					k.match(&searchMsg{seq: 1, m: msgState{uid: 5, flags: []string{`\Seen`}}}, 1, 5)
				}
			}
		}
	case "THREAD":
		if len(args) >= 3 {
			_, err := parseSearchKeys(args[2:])
			ok(err)
		}
	case "SORT":
		_, rest, err := parseReturn(args)
		ok(err)
		if err == nil {
			args = rest
		}
		if len(args) >= 3 && args[0].Kind == wire.List {
			_, err := parseSortCriteria(args[0].List)
			ok(err)
			_, err = parseSearchKeys(args[2:])
			ok(err)
		}
	case "STORE":
		_, err := parseFlags(args)
		ok(err)
	case "SELECT":
		if len(args) == 2 && args[1].Kind == wire.List && len(args[1].List) == 2 {
			_, err := parseQresync(args[1].List[1])
			ok(err)
		}
	default:
		for _, a := range args {
			name, err := mailboxArg(a)
			ok(err)
			if err == nil {
				matchPattern(name, "INBOX/a/b")
				if d, valid := decodeMUTF7(encodeMUTF7(name)); !valid || d != name {
					t.Fatalf("modified UTF-7 round trip of %q gives %q", name, d)
				}
			}
		}
	}
}

// FuzzThread runs both RFC 5256 threading algorithms over messages whose
// ids, references and subjects come from the input (a small alphabet, so
// that duplicates, loops and self-references are common). Every message
// must come out exactly once, in a tree without cycles.
func FuzzThread(f *testing.F) {
	f.Add([]byte("a:b c:Re: x\nb:a:x\nc:c b:\n:a:Re: y\nb::y"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var msgs []tmsg
		for i, line := range bytes.Split(data, []byte("\n")) {
			if i >= 200 {
				break
			}
			parts := bytes.SplitN(line, []byte(":"), 3)
			m := tmsg{idx: i, date: time.Unix(int64(len(line)%7), 0)}
			m.id = string(parts[0])
			if len(parts) > 1 {
				for _, r := range bytes.Fields(parts[1]) {
					m.refs = append(m.refs, string(r))
				}
			}
			if len(parts) > 2 {
				m.subject = message.NormalizeSubject(string(parts[2]))
				m.reply = message.IsReplySubject(string(parts[2]))
			}
			msgs = append(msgs, m)
		}
		for _, roots := range [][]*tnode{threadReferences(msgs), threadOrderedSubject(msgs)} {
			seen := make([]int, len(msgs))
			visited := map[*tnode]bool{}
			var walk func(n *tnode, depth int)
			walk = func(n *tnode, depth int) {
				if visited[n] || depth > len(msgs)+1 {
					t.Fatalf("cycle in the thread tree")
				}
				visited[n] = true
				if n.msg >= 0 {
					seen[n.msg]++
				} else if len(n.kids) == 0 {
					t.Fatalf("empty dummy in the output")
				}
				for _, k := range n.kids {
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
