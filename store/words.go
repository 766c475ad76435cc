package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"wardmail/message"
)

// Word index limits.
const (
	WordMin       = 2    // runes; shorter words are not indexed
	WordMax       = 40   // runes; longer words are not indexed
	wordsPerBody  = 2000 // distinct words indexed per body
	wordText      = 1 << 20
	indexBatch    = 16    // bodies per indexing write
	prefixMax     = 256   // words a prefix may stand for before it is too broad to look up
	postingsSmall = 20000 // postings read into memory; a commoner word is probed per message
	knownWordsMax = 200000
	backlogRead   = 10000 // unindexed bodies read whole by a search
)

// Words splits text into lower-cased words of Unicode letters and digits,
// WordMin to WordMax runes long, each once, in order of first appearance,
// at most max of them (max <= 0: no bound).
func Words(text string, max int) []string {
	out, _ := splitWords(text, max)
	return out
}

// splitWords is Words, and whether the words are every word of text that a
// search may look up: false when a word longer than WordMax was left out or
// max cut the list short.
func splitWords(text string, max int) (out []string, whole bool) {
	whole = true
	seen := map[string]bool{}
	add := func(w string) bool {
		n := utf8.RuneCountInString(w)
		if n > WordMax {
			whole = false
		}
		if n < WordMin || n > WordMax || seen[w] {
			return true
		}
		seen[w] = true
		out = append(out, w)
		if max > 0 && len(out) >= max {
			whole = false // perhaps more words were left
			return false
		}
		return true
	}
	// Lower-cased first, as queries are (web.ParseQuery), so a word splits
	// the same way in the index and in a query.
	text = strings.ToLower(text)
	start := -1
	for i, r := range text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			if !add(text[start:i]) {
				return out, whole
			}
			start = -1
		}
	}
	if start >= 0 {
		add(text[start:])
	}
	return out, whole
}

// wordHash is a word's key in body_words: 64 bits of FNV-1a, or of
// HMAC-SHA256 under a key derived from the body encryption key when bodies
// are sealed, so that the index cannot be asked whether some body holds a
// word by whoever reads the database without the key. A collision (about one
// in 10^19 per pair) can only add a result, never lose one.
func (s *Store) wordHash(w string) int64 {
	if s.wordKey != nil {
		m := hmac.New(sha256.New, s.wordKey)
		m.Write([]byte(w))
		return int64(binary.BigEndian.Uint64(m.Sum(nil)))
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(w))
	return int64(h.Sum64())
}

// bodyWords is what a body is indexed by: the words of its subject, of the
// names and addresses it was sent from and to, and of its text. whole is
// false when the text was cut at wordText or a word was left out (longer
// than WordMax, or past wordsPerBody): such a body is marked indexPartial,
// and a substring search reads it (SearchIndex returns it as Pending).
func bodyWords(summary, body []byte) (words []string, whole bool) {
	var sum message.Summary
	if err := json.Unmarshal(summary, &sum); err != nil {
		return nil, false // an unreadable summary: nothing to index, the body is marked done
	}
	var sb strings.Builder
	sb.WriteString(sum.Envelope.Subject)
	for _, list := range [][]message.Address{sum.Envelope.From, sum.Envelope.To, sum.Envelope.Cc} {
		for _, a := range list {
			sb.WriteString(" " + a.Name + " " + a.Mailbox + "@" + a.Host)
		}
	}
	sb.WriteByte('\n')
	text := sum.Text(body, wordText)
	sb.WriteString(text)
	words, whole = splitWords(sb.String(), wordsPerBody)
	return words, whole && len(text) < wordText
}

// The states of contents.words_indexed.
const (
	indexWaiting = 0 // not indexed yet
	indexWhole   = 1 // every word of the body is in the index
	indexPartial = 2 // indexed, but some words are not (bodyWords): searches read it
)

// wordIndexer holds what the indexer keeps between batches.
type wordIndexer struct {
	mu    sync.Mutex // one batch at a time
	known map[string]bool
}

// IndexWords indexes the next batch of bodies not yet in the word index and
// returns how many it indexed (0: none waiting). The background indexer
// calls it; tests and benchmarks call it to catch up.
func (s *Store) IndexWords(ctx context.Context) (int, error) {
	s.words.mu.Lock()
	defer s.words.mu.Unlock()
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT id, hash, inline_body, summary FROM contents WHERE words_indexed = 0 ORDER BY id LIMIT ?`), indexBatch)
	if err != nil {
		return 0, err
	}
	type todo struct {
		id    int64
		words []string
		whole bool
	}
	var batch []todo
	type rawRow struct {
		id           int64
		hash         string
		inline, summ []byte
	}
	var raws []rawRow
	for rows.Next() {
		var r rawRow
		if err := rows.Scan(&r.id, &r.hash, &r.inline, &r.summ); err != nil {
			rows.Close()
			return 0, err
		}
		raws = append(raws, r)
	}
	if err := rows.Close(); err != nil {
		return 0, err
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, r := range raws {
		body, err := s.openBody(ctx, r.hash, r.inline)
		if err != nil {
			// Its subject and addresses are still indexed; a temporary
			// failure costs its text words, not the indexer's progress.
			s.log.Warn("word index: body unreadable, indexing its summary only", "content", r.id, "err", err)
			body = nil
		}
		words, whole := bodyWords(r.summ, body)
		batch = append(batch, todo{id: r.id, words: words, whole: whole && err == nil})
	}
	if len(batch) == 0 {
		return 0, nil
	}
	if s.words.known == nil || len(s.words.known) > knownWordsMax {
		s.words.known = map[string]bool{}
	}
	var postings []any
	var vocab []any
	newWords := map[string]bool{}
	for _, b := range batch {
		for _, w := range b.words {
			postings = append(postings, s.wordHash(w), b.id)
			if s.wordKey == nil && !s.words.known[w] && !newWords[w] {
				newWords[w] = true
				vocab = append(vocab, w)
			}
		}
	}
	err = s.Write(ctx, func(tx *Tx) error {
		if err := insertMany(tx, `INSERT INTO body_words (word_hash, content_id) VALUES `, "(?, ?)", 2, postings,
			` ON CONFLICT DO NOTHING`); err != nil {
			return err
		}
		if err := insertMany(tx, `INSERT INTO search_words (word) VALUES `, "(?)", 1, vocab, ` ON CONFLICT DO NOTHING`); err != nil {
			return err
		}
		for _, b := range batch {
			state := indexWhole
			if !b.whole {
				state = indexPartial
			}
			tx.Later(`UPDATE contents SET words_indexed = ? WHERE id = ?`, nil, state, b.id)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for w := range newWords {
		s.words.known[w] = true
	}
	s.metrics.wordsIndexed.Add(float64(len(batch)))
	return len(batch), nil
}

// StartIndexer starts a background word indexer that runs until Close or
// until stop is called: every interval (0: 250ms) it indexes while the
// writer is free, for at most a tenth of the interval, and only when runs
// (nil: always) says this process should. Where several processes share
// one database, runs is the cluster's lease on the job, so that each body is
// read and indexed by one node, and another takes over when it stops; a
// search on any node finds what is not indexed yet by reading it
// (SearchIndex's Pending hits). Store.Open starts one with no gate when
// Config.IndexEvery is not negative.
func (s *Store) StartIndexer(every time.Duration, runs func(context.Context) bool) (stop func()) {
	if every <= 0 {
		every = 250 * time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	s.idxDone.Add(2)
	go func() {
		defer s.idxDone.Done()
		select {
		case <-s.idxStop:
			cancel()
		case <-ctx.Done():
		}
	}()
	go func() {
		defer s.idxDone.Done()
		defer close(done)
		s.indexWords(ctx, every, runs)
	}()
	// Once stop returns, the indexer asks runs no more: a node leaving the
	// cluster stops it first, so it cannot take the lease again on its way out.
	return func() {
		cancel()
		<-done
	}
}

// indexWords runs the indexer until ctx ends.
func (s *Store) indexWords(ctx context.Context, every time.Duration, runs func(context.Context) bool) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if runs != nil && !runs(ctx) {
			continue
		}
		// Deliveries come first: a batch only while nothing else waits to
		// be written, and for at most a tenth of each interval, so a
		// delivery burst leaves the index behind (search checks the
		// unindexed tail itself) and it catches up when mail is quiet.
		until := time.Now().Add(every / 10)
		for s.WriteQueueLen() == 0 && time.Now().Before(until) {
			n, err := s.IndexWords(ctx)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("word index", "err", err)
				}
				break
			}
			if n == 0 {
				break
			}
		}
	}
}

// ExpandWord returns the keys of the indexed words that start with w (w
// itself included), up to prefixMax; with sealed bodies, w's alone. ok is
// false when w starts more words than that, or cannot be an indexed word at
// all: the caller then matches it another way.
func (s *Store) ExpandWord(ctx context.Context, w string) (keys []int64, ok bool, err error) {
	n := utf8.RuneCountInString(w)
	if n < WordMin || n > WordMax {
		return nil, false, nil
	}
	if s.wordKey != nil {
		return []int64{s.wordHash(w)}, true, nil // no vocabulary: whole words only
	}
	return s.vocabulary(ctx, `SELECT word FROM search_words WHERE word >= ? AND word < ? ORDER BY word LIMIT ?`,
		w, w+string(utf8.MaxRune), prefixMax+1)
}

// IndexHit is a message of a folder found by SearchIndex.
type IndexHit struct {
	UID  uint32
	Date time.Time
	// Pending is true for a message whose body is not indexed yet, or
	// only in part: it matched nothing, and the caller must match it itself.
	Pending bool
}

// SearchIndex returns the messages of a folder (received in [after, before)
// when set) whose bodies contain, for every term, one of the term's words
// (as ExpandWord gives them), and the messages whose bodies are not indexed
// yet, newest first. It reads the folder's rows once (about 100,000 a
// second) and the postings of each term: a term with few postings is read
// into memory, a common one is probed for the messages still in the running.
func (s *Store) SearchIndex(ctx context.Context, mailboxID int64, terms [][]int64, after, before time.Time) ([]IndexHit, error) {
	lo, hi := int64(-1<<62), int64(1<<62)
	if !after.IsZero() {
		lo = after.Unix()
	}
	if !before.IsZero() {
		hi = before.Unix()
	}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback() }()
	if cp, ok := s.dialect.(CustomPlanner); ok {
		// A common word's postings probed for 500 bodies: the plan made
		// for other arguments filters every posting of the word.
		if _, err := tx.ExecContext(ctx, cp.CustomPlans()); err != nil {
			return nil, err
		}
	}
	type row struct {
		uid  uint32
		date int64
	}
	byContent := map[int64][]row{}
	rows, err := tx.QueryContext(ctx, s.q(`SELECT uid, internal_date, content_id FROM mail WHERE mailbox_id = ? AND internal_date >= ? AND internal_date < ?`),
		mailboxID, lo, hi)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var r row
		var cid int64
		if err := rows.Scan(&r.uid, &r.date, &cid); err != nil {
			rows.Close()
			return nil, err
		}
		byContent[cid] = append(byContent[cid], r)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Bodies not indexed yet: the backlog of the indexer, normally a second
	// of deliveries, read whole; a long one (bodies stored before the index,
	// being caught up) is asked about for the folder's bodies only. Bodies
	// indexed in part (indexPartial) are found the same way.
	pending := map[int64]bool{}
	inFolder := func(id int64) {
		if _, ok := byContent[id]; ok {
			pending[id] = true
		}
	}
	for _, state := range []int{indexWaiting, indexPartial} {
		var backlog []int64
		if err := queryInts(ctx, tx, s.q(`SELECT id FROM contents WHERE words_indexed = ? LIMIT ?`), []any{state, backlogRead + 1},
			func(id int64) { backlog = append(backlog, id) }); err != nil {
			return nil, err
		}
		if len(backlog) <= backlogRead {
			for _, id := range backlog {
				inFolder(id)
			}
			continue
		}
		ids := make([]int64, 0, len(byContent))
		for id := range byContent {
			ids = append(ids, id)
		}
		for start := 0; start < len(ids); start += 500 {
			part := ids[start:min(len(ids), start+500)]
			q := s.dialect.Rebind(`SELECT id FROM contents WHERE words_indexed = ? AND id IN (` + placeholders(len(part)) + `)`)
			if err := queryInts(ctx, tx, q, append([]any{state}, int64Args(part)...), inFolder); err != nil {
				return nil, err
			}
		}
	}
	cands := make(map[int64]bool, len(byContent))
	for cid := range byContent {
		if !pending[cid] {
			cands[cid] = true
		}
	}
	// Rarest term first: count each term's postings up to postingsSmall.
	counts := make([]int, len(terms))
	for i, t := range terms {
		if len(t) == 0 {
			cands = map[int64]bool{}
			break
		}
		var c int
		if err := tx.QueryRowContext(ctx, s.dialect.Rebind(`SELECT COUNT(*) FROM (SELECT 1 FROM body_words WHERE word_hash IN (`+placeholders(len(t))+`) LIMIT ?) x`),
			append(int64Args(t), postingsSmall+1)...).Scan(&c); err != nil {
			return nil, err
		}
		counts[i] = c
	}
	order := make([]int, len(terms))
	for i := range order {
		order[i] = i
	}
	sortByKey(order, func(i int) int { return counts[i] })
	for _, i := range order {
		if len(cands) == 0 {
			break
		}
		t := terms[i]
		next := map[int64]bool{}
		keep := func(id int64) {
			if cands[id] {
				next[id] = true
			}
		}
		if counts[i] <= postingsSmall {
			if err := queryInts(ctx, tx, s.dialect.Rebind(`SELECT content_id FROM body_words WHERE word_hash IN (`+placeholders(len(t))+`)`), int64Args(t), keep); err != nil {
				return nil, err
			}
		} else {
			ids := make([]int64, 0, len(cands))
			for id := range cands {
				ids = append(ids, id)
			}
			for start := 0; start < len(ids); start += 500 {
				part := ids[start:min(len(ids), start+500)]
				q := s.dialect.Rebind(`SELECT content_id FROM body_words WHERE word_hash IN (` + placeholders(len(t)) + `) AND content_id IN (` + placeholders(len(part)) + `)`)
				if err := queryInts(ctx, tx, q, append(int64Args(t), int64Args(part)...), keep); err != nil {
					return nil, err
				}
			}
		}
		cands = next
	}
	var out []IndexHit
	for cid := range cands {
		for _, r := range byContent[cid] {
			out = append(out, IndexHit{UID: r.uid, Date: time.Unix(r.date, 0)})
		}
	}
	for cid := range pending {
		for _, r := range byContent[cid] {
			out = append(out, IndexHit{UID: r.uid, Date: time.Unix(r.date, 0), Pending: true})
		}
	}
	sortHits(out)
	return out, nil
}

func queryInts(ctx context.Context, tx *sql.Tx, q string, args []any, fn func(int64)) error {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		fn(id)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	return rows.Err()
}

func int64Args(v []int64) []any {
	out := make([]any, len(v))
	for i, x := range v {
		out[i] = x
	}
	return out
}

func sortByKey(order []int, key func(int) int) {
	sort.SliceStable(order, func(a, b int) bool { return key(order[a]) < key(order[b]) })
}

// sortHits orders hits newest first, as the message list is.
func sortHits(h []IndexHit) {
	sort.Slice(h, func(i, j int) bool {
		if !h[i].Date.Equal(h[j].Date) {
			return h[i].Date.After(h[j].Date)
		}
		return h[i].UID > h[j].UID
	})
}

// WordIndexBacklog counts the bodies the word indexer has not reached yet,
// up to max (the partial index contents_unindexed keeps this cheap while
// the indexer keeps up).
func (s *Store) WordIndexBacklog(ctx context.Context, max int) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM (SELECT 1 FROM contents WHERE words_indexed = 0 LIMIT ?) x`), max).Scan(&n)
	return n, err
}
