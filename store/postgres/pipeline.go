package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"wardmail/store"
)

// Pipeline implements store.Pipeliner with pgx's batches: the statements go
// out together and their results come back together, one round trip for
// the lot, inside the transaction the writer has open on conn (PostgreSQL's
// extended query protocol lets a client send many Bind/Execute messages
// before one Sync; after an error the server skips the rest up to it).
func (Dialect) Pipeline(ctx context.Context, conn *sql.Conn, qs []store.Queued) (failed int, err error) {
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(validTextConn)
		if !ok {
			return fmt.Errorf("postgres: pipeline on a %T", dc)
		}
		b := &pgx.Batch{QueuedQueries: make([]*pgx.QueuedQuery, 0, len(qs))}
		for _, q := range qs {
			b.Queue(q.Query, validArgs(q.Args)...)
		}
		br := c.Conn.Conn().SendBatch(ctx, b)
		var first error
		for i, q := range qs {
			var err error
			if q.Dest == nil {
				var tag pgconn.CommandTag
				tag, err = br.Exec()
				if q.Affected != nil {
					*q.Affected = tag.RowsAffected()
				}
			} else {
				err = br.QueryRow().Scan(q.Dest...)
				if q.Found != nil {
					*q.Found = err == nil
					if errors.Is(err, pgx.ErrNoRows) {
						err = nil
					}
				}
			}
			if err != nil {
				failed, first = i, err
				break
			}
		}
		if err := br.Close(); first == nil && err != nil {
			failed, first = len(qs)-1, err
		}
		return first
	})
	return failed, err
}

// validArgs replaces the bytes of string arguments that are not UTF-8, as
// validTextConn does for statements sent through database/sql (text.go).
// The caller's slice is left as it was.
func validArgs(args []any) []any {
	out := args
	for i, a := range args {
		if s, ok := a.(string); ok && !utf8.ValidString(s) {
			if &out[0] == &args[0] {
				out = append([]any(nil), args...)
			}
			out[i] = strings.ToValidUTF8(s, "\uFFFD")
		}
	}
	return out
}

// CustomPlans implements store.CustomPlanner. pgx prepares every statement,
// and after five runs PostgreSQL may keep a generic plan: for the word
// index's probe of a common word's postings for 500 bodies, a filter over all
// 100,000 of them (1.8 s) instead of 500 index lookups (3.5 ms). Planning
// every statement of every read would double a small lookup's time, so
// only the searches ask for it.
func (Dialect) CustomPlans() string { return `SET LOCAL plan_cache_mode = force_custom_plan` }

// Analyze implements store.BulkAnalyzer.
func (Dialect) Analyze(table string) string { return `ANALYZE ` + table }
