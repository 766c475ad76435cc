package store

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"
)

// SubstringTerms turns a string searched for as a case-insensitive
// substring (IMAP SEARCH BODY and TEXT, RFC 9051 6.4.4) into word index
// terms for SearchIndex: a body holding the string holds, for every term,
// one of its words. The string is split as the index splits text (Words);
// each of its words is looked up by where it may sit in the body's word:
//
//   - between other characters of the string ("ward" in "a ward round"):
//     that whole word;
//   - at the end of the string ("rou" in "ward rou"): the words it starts
//     (ExpandWord);
//   - at the start of the string ("ard" in "ard round"): the indexed words
//     ending with it, and for a string of one word, those holding it
//     anywhere, read from the vocabulary.
//
// A word the index cannot answer for (shorter than WordMin, standing for more
// than prefixMax indexed words, a part of a word when bodies are sealed and
// the vocabulary is not kept) gives no term. ok is false when no word gave
// one (punctuation only, one short word): the caller then reads every body.
// Bodies whose words are not all indexed are returned by SearchIndex as
// Pending, so the terms only narrow; the caller checks the string on each
// message it returns.
func (s *Store) SubstringTerms(ctx context.Context, needle string) (terms [][]int64, ok bool, err error) {
	text := strings.ToLower(needle)
	type run struct {
		word        string
		open, close bool // may continue before / after the string
	}
	var runs []run
	start := -1
	for i, r := range text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			runs = append(runs, run{word: text[start:i], open: start == 0})
			start = -1
		}
	}
	if start >= 0 {
		runs = append(runs, run{word: text[start:], open: start == 0, close: true})
	}
	for _, r := range runs {
		n := utf8.RuneCountInString(r.word)
		if n < WordMin || n > WordMax {
			continue
		}
		var keys []int64
		found := true
		switch {
		case !r.open && !r.close:
			keys = []int64{s.wordHash(r.word)}
		case s.wordKey != nil:
			continue // sealed: whole words only
		case !r.open:
			keys, found, err = s.ExpandWord(ctx, r.word)
		case !r.close:
			keys, found, err = s.vocabularyLike(ctx, "%"+r.word)
		default:
			keys, found, err = s.vocabularyLike(ctx, "%"+r.word+"%")
		}
		if err != nil {
			return nil, false, err
		}
		if found {
			terms = append(terms, keys)
		}
	}
	return terms, len(terms) > 0, nil
}

// vocabularyLike returns the keys of the indexed words matching a LIKE
// pattern of letters, digits and "%", up to prefixMax; ok is false when more
// match. It reads the whole vocabulary, which is far smaller than the
// bodies it stands for.
func (s *Store) vocabularyLike(ctx context.Context, pattern string) (keys []int64, ok bool, err error) {
	return s.vocabulary(ctx, `SELECT word FROM search_words WHERE word LIKE ? LIMIT ?`, pattern, prefixMax+1)
}

// vocabulary returns the keys of the indexed words a query on search_words
// selects (LIMIT prefixMax+1); ok is false when more than prefixMax match.
func (s *Store) vocabulary(ctx context.Context, query string, args ...any) (keys []int64, ok bool, err error) {
	rows, err := s.r.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	for rows.Next() {
		var w string
		if err := rows.Scan(&w); err != nil {
			return nil, false, err
		}
		keys = append(keys, s.wordHash(w))
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	if len(keys) > prefixMax {
		return nil, false, nil
	}
	return keys, true, nil
}
