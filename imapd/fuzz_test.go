package imapd

import (
	"bufio"
	"bytes"
	"errors"
	"testing"

	"wardmail/imapd/wire"
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
