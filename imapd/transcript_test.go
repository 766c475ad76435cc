package imapd

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden transcripts from the server's answers")

// TestTranscripts replays the exchanges in testdata/transcripts against a
// fresh server: "C: " lines are sent as they are, and the server's answer
// must be exactly the "S: " lines that follow (literals inline, with CR and
// LF written as \r and \n). A "C: " line ending in a non-synchronising
// literal ({n+}) is followed by "C: " lines that make up the literal (each
// with its CRLF) and the rest of the command, answered after its last line.
// An "O: " line is a command from a second client signed in as the same
// person; the "S: " lines after it are what the first client is sent
// without asking (NOTIFY, IDLE).
// Alice has the test messages below in her INBOX.
// transcriptClock is the store's time in the transcripts.
var transcriptClock = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/transcripts/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			// A fixed store clock: UIDVALIDITY values are taken from it
			// (store/uidvalidity.go), and the transcripts show them.
			e := newEnv(t, func(o *envOptions) { o.now = func() time.Time { return transcriptClock } })
			e.deliver(t, e.alice, simpleMsg)
			e.deliver(t, e.alice, multipartMsg)
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			r := e.raw(t)
			var other *rawConn // the second client, signed in as alice on first use
			var out []string
			lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
			literal := 0 // bytes of a literal still to send
			for i := 0; i < len(lines); i++ {
				l := lines[i]
				if strings.HasPrefix(l, "O: ") {
					// Another client's command; the "S: " lines after it
					// are what the first client is told without asking.
					out = append(out, l)
					if other == nil {
						other = e.raw(t)
						other.login("alice@nhs.test")
					}
					command := l[3:]
					// A non-synchronising literal: the "O: " lines after
					// it make up the literal and the rest of the command.
					for piece := command; strings.HasSuffix(piece, "+}"); {
						n, _ := literalSuffix(strings.TrimSuffix(piece, "+}") + "}")
						for n > 0 && i+1 < len(lines) && strings.HasPrefix(lines[i+1], "O: ") {
							i++
							out = append(out, lines[i])
							piece = lines[i][3:]
							command += "\r\n" + piece
							n -= len(piece) + 2
						}
						if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "O: ") && n == 0 {
							i++
							out = append(out, lines[i])
							piece = lines[i][3:]
							command += "\r\n" + piece
						} else {
							t.Fatalf("line %d: the literal does not end where its size says", i+1)
						}
					}
					tag, _, _ := strings.Cut(command, " ")
					if got := other.cmd(tag, strings.TrimPrefix(command, tag+" ")); !strings.HasPrefix(last(got), tag+" OK") {
						t.Fatalf("other client: %q", got)
					}
					var want []string
					for i+1 < len(lines) && strings.HasPrefix(lines[i+1], "S: ") {
						i++
						want = append(want, lines[i][3:])
					}
					var got []string
					if *updateGolden {
						got = r.quietResponses(500 * time.Millisecond)
					} else {
						for range want {
							got = append(got, escapeCRLF(r.readResponse()))
						}
					}
					for _, g := range got {
						out = append(out, "S: "+g)
					}
					if !*updateGolden && strings.Join(got, "\n") != strings.Join(want, "\n") {
						t.Errorf("after the other client's %q:\n got %s\nwant %s", l[3:], strings.Join(got, "\n     "), strings.Join(want, "\n     "))
					}
					continue
				}
				if !strings.HasPrefix(l, "C: ") {
					if strings.HasPrefix(l, "#") || l == "" {
						out = append(out, l)
					}
					continue
				}
				out = append(out, l)
				cmd := l[3:]
				r.send(cmd + "\r\n")
				if literal > 0 {
					if literal -= len(cmd) + 2; literal < 0 {
						t.Fatalf("line %d runs past its literal", i+1)
					}
					continue
				} else if n, ok := literalSuffix(strings.TrimSuffix(cmd, "+}") + "}"); ok && strings.HasSuffix(cmd, "+}") {
					literal = n
					continue
				}
				var want []string
				for i+1 < len(lines) && strings.HasPrefix(lines[i+1], "S: ") {
					i++
					want = append(want, lines[i][3:])
				}
				var got []string
				for {
					resp := r.readResponse()
					got = append(got, escapeCRLF(resp))
					// Untagged data goes on; a tagged answer or a
					// continuation request ends the exchange.
					if !strings.HasPrefix(resp, "* ") {
						break
					}
				}
				for _, g := range got {
					out = append(out, "S: "+g)
				}
				if !*updateGolden && strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("after %q:\n got %s\nwant %s", cmd, strings.Join(got, "\n     "), strings.Join(want, "\n     "))
				}
			}
			if *updateGolden {
				if err := os.WriteFile(file, []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func escapeCRLF(s string) string {
	return strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(s)
}

// quietResponses reads responses until none comes for quiet (only to
// write golden files, never to decide a test).
func (r *rawConn) quietResponses(quiet time.Duration) []string {
	var out []string
	for {
		_ = r.nc.SetReadDeadline(time.Now().Add(quiet))
		if _, err := r.br.Peek(1); err != nil {
			return out
		}
		out = append(out, escapeCRLF(r.readResponse()))
	}
}
