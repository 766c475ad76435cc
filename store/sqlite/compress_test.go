package sqlite_test

import (
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"wardmail/store/sqlite"
)

// A 2 KB letter takes less room than a page of its own: bodies kept in
// SQL are deflated, and come back byte for byte, with or without a key
// file sealing them.
func TestSmallBodiesShareDatabasePages(t *testing.T) {
	// 600 made-up words of 2 to 10 letters with NHS numbers among them:
	// harder to compress than most mail text (deflate keeps 63% of it).
	vocab := rand.New(rand.NewPCG(3, 4))
	var words []string
	for range 600 {
		w := make([]byte, 2+vocab.IntN(9))
		for i := range w {
			w[i] = "etaoinshrdlucmfwypvbgkqjxz"[min(vocab.IntN(26), vocab.IntN(26))]
		}
		words = append(words, string(w))
	}
	letter := func(rng *rand.Rand, i int) []byte {
		var b bytes.Buffer
		fmt.Fprintf(&b, "From: gp%d@nhs.test\r\nTo: ward@nhs.test\r\nSubject: referral %d\r\nMessage-ID: <%d@nhs.test>\r\n\r\n", i%50, i, i)
		for b.Len() < 2000 {
			if rng.IntN(20) == 0 {
				fmt.Fprintf(&b, "%03d %03d %04d ", rng.IntN(1000), rng.IntN(1000), rng.IntN(10000))
			}
			b.WriteString(words[min(rng.IntN(len(words)), rng.IntN(len(words)))])
			if rng.IntN(12) == 0 {
				b.WriteString(".\r\n")
			} else {
				b.WriteByte(' ')
			}
		}
		b.WriteString("\r\n")
		return b.Bytes()
	}
	for _, sealed := range []bool{false, true} {
		t.Run(fmt.Sprint("sealed=", sealed), func(t *testing.T) {
			dir := t.TempDir()
			ctx := context.Background()
			opt := sqlite.Options{IndexEvery: -1}
			if sealed {
				opt.KeyFile = filepath.Join(t.TempDir(), "body.key")
				key := bytes.Repeat([]byte("k"), 32)
				if err := os.WriteFile(opt.KeyFile, []byte(fmt.Sprintf("%x\n", key)), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			s, err := sqlite.Open(ctx, dir, opt)
			if err != nil {
				t.Fatal(err)
			}
			ids := addPeopleB(t, s, []string{"ward@nhs.test"})
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			db := filepath.Join(dir, "wardmail.db")
			before := fileSize(t, db) + fileSize(t, db+"-wal")
			if s, err = sqlite.Open(ctx, dir, opt); err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			const n = 400
			var bodies [][]byte
			var cids []int64
			for i := range n {
				body := letter(rng, i)
				c, err := s.PrepareContent(ctx, body, []byte(`{}`))
				if err != nil {
					t.Fatal(err)
				}
				res, err := s.Deliver(ctx, c, ids, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				msgs, err := s.Messages(ctx, res[0].MailboxID, []uint32{res[0].UID})
				if err != nil || len(msgs) != 1 {
					t.Fatal(err, len(msgs))
				}
				bodies, cids = append(bodies, body), append(cids, msgs[0].ContentID)
			}
			for i, cid := range cids {
				got, err := s.Body(ctx, cid)
				if err != nil || !bytes.Equal(got, bodies[i]) {
					t.Fatalf("message %d came back as %d bytes (%v), not the %d delivered", i, len(got), err, len(bodies[i]))
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			per := float64(fileSize(t, db)+fileSize(t, db+"-wal")-before) / n
			t.Logf("%.0f bytes of database per 2 KB message (a body deflates to %d bytes)", per, deflated(bodies[0]))
			if per > 2500 {
				t.Errorf("each 2 KB message took %.0f bytes of database", per)
			}
		})
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func deflated(b []byte) int {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestSpeed)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Len()
}
