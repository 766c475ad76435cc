package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"wardmail/message"
	"wardmail/store"
	"wardmail/store/storetest"
)

// BenchmarkTextSearch sets the store's word index (store/words.go) beside
// PostgreSQL's own full-text search (a tsvector per body under a GIN index)
// on the same bodies: 100,000 by default (WARDMAIL_BENCH_BODIES), spread
// over 10 INBOXes, each about 80 words drawn from a 20,000-word vocabulary
// with Zipf's law, as mail text is. It prints what building each index
// cost per body and the disk each takes, and measures a folder's search for
// a rare word, a common one, a prefix and two words, both ways, checking
// that both find the same messages. It runs only with WARDMAIL_TEST_POSTGRES
// (scripts/test-postgres.sh):
//
//	scripts/test-postgres.sh go test -run '^$' -bench TextSearch -benchtime 20x -timeout 1h ./store/postgres/
//
// The tsvector's build is given the text ready (the word index reads and
// decodes each body itself), and it runs with 'simple' (no stemming): both
// in its favour.
func BenchmarkTextSearch(b *testing.B) {
	if !storetest.Postgres() {
		b.Skip("PostgreSQL only: " + storetest.Env)
	}
	f := textSearchFixture(b)
	queries := []struct{ name, words string }{
		{"rare", "zebrafinch"},     // 1 body in 5,000, all in the folder
		{"common", f.vocab[0]},     // the commonest word: most bodies
		{"middling", f.vocab[200]}, // a few percent of bodies
		{"prefix", f.vocab[50][:3]},
		{"two", f.vocab[3] + " " + f.vocab[400]},
	}
	for _, q := range queries {
		words, tsv := -1, -1
		b.Run("words/"+q.name, func(b *testing.B) {
			for b.Loop() {
				words = f.searchWords(b, q.words)
			}
			b.ReportMetric(float64(words), "hits")
		})
		b.Run("tsvector/"+q.name, func(b *testing.B) {
			for b.Loop() {
				tsv = f.searchTsvector(b, q.words)
			}
			b.ReportMetric(float64(tsv), "hits")
		})
		if words >= 0 && tsv >= 0 && words != tsv {
			b.Errorf("%s: the word index found %d messages, the tsvector %d", q.name, words, tsv)
		}
	}
}

type textFixture struct {
	s       *store.Store
	db      *sql.DB
	vocab   []string
	mailbox int64
}

var (
	fixtureOnce sync.Once
	fixture     *textFixture
)

// textSearchFixture builds the bodies and both indexes once per run.
func textSearchFixture(b *testing.B) *textFixture {
	fixtureOnce.Do(func() { fixture = buildTextFixture(b) })
	if fixture == nil {
		b.Fatal("no fixture")
	}
	return fixture
}

func buildTextFixture(b *testing.B) *textFixture {
	ctx := context.Background()
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("WARDMAIL_BENCH_BODIES")); err == nil && v > 0 {
		n = v
	}
	be := storetest.New(b)
	s := be.Open(b, storetest.Options{IndexEvery: -1})
	db, err := sql.Open("pgx", be.DSN)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })

	var recs []store.PersonRecord
	for i := range 10 {
		recs = append(recs, store.PersonRecord{Email: fmt.Sprintf("reader%d@nhs.test", i), Name: "Reader", Org: "Bench Trust"})
	}
	if _, _, err := s.UpsertPeople(ctx, recs); err != nil {
		b.Fatal(err)
	}
	var people []int64
	for _, r := range recs {
		p, err := s.PersonByEmail(ctx, r.Email)
		if err != nil {
			b.Fatal(err)
		}
		people = append(people, p.ID)
	}

	vocab := makeVocabulary(20000)
	texts := make([]string, n)
	hashes := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for g := range 20 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 11))
			zipf := rand.NewZipf(rand.New(rand.NewPCG(uint64(g), 12)), 1.1, 1, uint64(len(vocab)-1))
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				var sb strings.Builder
				for w := range 80 {
					if w > 0 {
						sb.WriteByte(' ')
					}
					sb.WriteString(vocab[zipf.Uint64()])
				}
				if i%5000 == 10 { // all in the folder searched
					sb.WriteString(" zebrafinch")
				}
				subject := vocab[rng.IntN(2000)] + " " + vocab[rng.IntN(2000)]
				texts[i] = subject + " " + sb.String()
				raw := fmt.Sprintf("From: Sender <sender@nhs.test>\r\nTo: <reader@nhs.test>\r\nSubject: %s\r\nMessage-ID: <%d@bench>\r\n\r\n%s\r\n", subject, i, sb.String())
				sum, err := message.Summarize([]byte(raw))
				if err != nil {
					b.Error(err)
					return
				}
				c, err := s.PrepareContent(ctx, []byte(raw), sum.Marshal())
				if err != nil {
					b.Error(err)
					return
				}
				hashes[i] = c.Hash
				if _, err := s.Deliver(ctx, c, []int64{people[i%len(people)]}, time.Unix(1700000000+int64(i), 0)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		return nil
	}
	fmt.Printf("text search: %d bodies delivered in %.1fs\n", n, time.Since(start).Seconds())

	// The word index, as the background indexer builds it.
	start = time.Now()
	for {
		k, err := s.IndexWords(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if k == 0 {
			break
		}
	}
	el := time.Since(start)
	fmt.Printf("text search: word index built in %.1fs, %.0f µs a body\n", el.Seconds(), float64(el.Microseconds())/float64(n))

	// The tsvector: a table beside contents, as a migration would add it,
	// filled 16 bodies a statement as the indexer writes.
	if _, err := db.ExecContext(ctx, `CREATE TABLE content_tsv (content_id BIGINT PRIMARY KEY, tsv tsvector NOT NULL);
		CREATE INDEX content_tsv_gin ON content_tsv USING gin (tsv)`); err != nil {
		b.Fatal(err)
	}
	ids := map[string]int64{}
	rows, err := db.QueryContext(ctx, `SELECT id, hash FROM contents`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var h string
		if err := rows.Scan(&id, &h); err != nil {
			b.Fatal(err)
		}
		ids[h] = id
	}
	if err := rows.Close(); err != nil {
		b.Fatal(err)
	}
	start = time.Now()
	const per = 16
	for i := 0; i < n; i += per {
		var q strings.Builder
		q.WriteString(`INSERT INTO content_tsv (content_id, tsv) VALUES `)
		var args []any
		for j := i; j < min(i+per, n); j++ {
			if j > i {
				q.WriteString(", ")
			}
			fmt.Fprintf(&q, "($%d, to_tsvector('simple', $%d))", len(args)+1, len(args)+2)
			// As bodyWords: the subject, the addresses, the text.
			args = append(args, ids[hashes[j]], "Sender sender@nhs.test reader@nhs.test "+texts[j])
		}
		if _, err := db.ExecContext(ctx, q.String(), args...); err != nil {
			b.Fatal(err)
		}
	}
	// GIN defers its inserts to a pending list; merging it is part of the
	// cost (autovacuum would do it later).
	if _, err := db.ExecContext(ctx, `SELECT gin_clean_pending_list('content_tsv_gin')`); err != nil {
		b.Fatal(err)
	}
	el = time.Since(start)
	fmt.Printf("text search: tsvector built in %.1fs, %.0f µs a body\n", el.Seconds(), float64(el.Microseconds())/float64(n))
	for _, t := range []string{"contents", "mail", "body_words", "search_words", "content_tsv"} {
		if _, err := db.ExecContext(ctx, `VACUUM ANALYZE `+t); err != nil {
			b.Fatal(err)
		}
	}
	var wordsBytes, vocabBytes, tsvBytes, ginBytes int64
	if err := db.QueryRowContext(ctx, `SELECT pg_total_relation_size('body_words'), pg_total_relation_size('search_words'),
		pg_total_relation_size('content_tsv') - pg_relation_size('content_tsv_gin'), pg_relation_size('content_tsv_gin')`).Scan(&wordsBytes, &vocabBytes, &tsvBytes, &ginBytes); err != nil {
		b.Fatal(err)
	}
	fmt.Printf("text search: disk: word index %.1f MB (postings %.1f MB, vocabulary %.1f MB); tsvector %.1f MB (table %.1f MB, GIN %.1f MB)\n",
		float64(wordsBytes+vocabBytes)/1e6, float64(wordsBytes)/1e6, float64(vocabBytes)/1e6,
		float64(tsvBytes+ginBytes)/1e6, float64(tsvBytes)/1e6, float64(ginBytes)/1e6)

	inbox, err := s.MailboxByName(ctx, people[0], "INBOX")
	if err != nil {
		b.Fatal(err)
	}
	return &textFixture{s: s, db: db, vocab: vocab, mailbox: inbox.ID}
}

// searchWords asks the word index as the mail service does (mail/search.go):
// each word as a prefix of indexed words, then the folder's hits.
func (f *textFixture) searchWords(b *testing.B, query string) int {
	ctx := context.Background()
	var terms [][]int64
	for _, w := range strings.Fields(query) {
		keys, ok, err := f.s.ExpandWord(ctx, w)
		if err != nil || !ok {
			b.Fatal(err, ok)
		}
		terms = append(terms, keys)
	}
	hits, err := f.s.SearchIndex(ctx, f.mailbox, terms, time.Time{}, time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	return len(hits)
}

// searchTsvector asks the tsvector for the same: every word as a prefix.
func (f *textFixture) searchTsvector(b *testing.B, query string) int {
	ctx := context.Background()
	var parts []string
	for _, w := range strings.Fields(query) {
		parts = append(parts, w+":*")
	}
	rows, err := f.db.QueryContext(ctx, `SELECT m.uid, m.internal_date FROM mail m JOIN content_tsv t ON t.content_id = m.content_id
		WHERE m.mailbox_id = $1 AND t.tsv @@ to_tsquery('simple', $2) ORDER BY m.uid DESC`, f.mailbox, strings.Join(parts, " & "))
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var uid, date int64
		if err := rows.Scan(&uid, &date); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if err := rows.Close(); err != nil {
		b.Fatal(err)
	}
	return n
}

// makeVocabulary makes n distinct lower-case words of two to four
// syllables, in a fixed order (the first is the commonest under Zipf).
func makeVocabulary(n int) []string {
	syl := strings.Fields("ba be bi bo bu da de di do du ka ke ki ko ku la le li lo lu ma me mi mo mu na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo vu")
	rng := rand.New(rand.NewPCG(5, 5))
	seen := map[string]bool{"zebrafinch": true}
	var out []string
	for len(out) < n {
		var sb strings.Builder
		for range 2 + rng.IntN(3) {
			sb.WriteString(syl[rng.IntN(len(syl))])
		}
		if w := sb.String(); !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}
