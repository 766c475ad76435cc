package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"wardmail/store"
)

// ImportReport says what Import moved and how it checked it.
type ImportReport struct {
	SchemaVersion int
	Tables        []TableReport
	// Replaced counts text values that were not UTF-8 (an old client's
	// Latin-1 Subject) and had their invalid bytes replaced by U+FFFD, as
	// the PostgreSQL backend does for every string it stores.
	Replaced int
	Seconds  float64
}

// TableReport is one table's rows and checksum, the same on both sides.
type TableReport struct {
	Name     string
	Rows     int64
	Checksum string // hex: the sum of each row's SHA-256, so row order does not matter
}

// Import copies a snapshot of another backend's database (the embedded
// SQLite store, sqlite.OpenSnapshot) into the PostgreSQL database dsn names,
// then reads both again and compares each table's row count and checksum.
// The database is migrated to the snapshot's schema version first and must
// hold no people, mailboxes or messages yet; everything is copied in one
// transaction, so a failure leaves it as it was. Rows keep their ids, so
// mailboxes keep their UIDVALIDITY and UIDs and clients do not resync.
func Import(ctx context.Context, dsn string, src store.TransferSource, opt Options) (*ImportReport, error) {
	start := time.Now()
	version, err := src.SchemaVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the source's schema version: %w", err)
	}
	if version != len(Migrations) {
		return nil, fmt.Errorf("the source is at schema version %d and this wardmail's is %d: run this wardmail's serve on it once first", version, len(Migrations))
	}
	// Open migrates the database to this version (under the advisory lock).
	opt.IndexEvery = -1
	st, err := Open(ctx, dsn, opt)
	if err != nil {
		return nil, err
	}
	if err := st.Close(); err != nil {
		return nil, err
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: connecting: %w", err)
	}
	defer conn.Close(context.Background())

	for _, t := range []string{"people", "mailboxes", "mail"} {
		var n int64
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM `+ident(t)).Scan(&n); err != nil {
			return nil, err
		}
		if n > 0 {
			return nil, fmt.Errorf("the PostgreSQL database already holds %s (%d rows): import into a new, empty database", t, n)
		}
	}
	tables, err := src.Tables(ctx)
	if err != nil {
		return nil, err
	}
	types, err := columnTypes(ctx, conn)
	if err != nil {
		return nil, err
	}
	rep := &ImportReport{SchemaVersion: version}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	for _, t := range tables {
		if _, ok := types[t.Name]; !ok {
			return nil, fmt.Errorf("the source has a table %s that PostgreSQL's schema does not", t.Name)
		}
		// Migrations seed some tables (a counter's first row): the source's
		// rows replace them.
		if _, err := tx.Exec(ctx, `TRUNCATE `+ident(t.Name)); err != nil {
			return nil, err
		}
		n, err := copyTable(ctx, tx, src, t, types[t.Name], &rep.Replaced)
		if err != nil {
			return nil, fmt.Errorf("copying %s: %w", t.Name, err)
		}
		rep.Tables = append(rep.Tables, TableReport{Name: t.Name, Rows: n})
	}
	if err := resetIdentities(ctx, tx); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	// Read both sides again: counts and checksums must agree.
	for i, t := range tables {
		want, err := sourceSum(ctx, src, t, types[t.Name])
		if err != nil {
			return nil, err
		}
		got, err := tableSum(ctx, conn, t)
		if err != nil {
			return nil, err
		}
		if want.rows != got.rows || want.hex() != got.hex() {
			return nil, fmt.Errorf("verifying %s: the source has %d rows (checksum %s), PostgreSQL %d (checksum %s)",
				t.Name, want.rows, want.hex(), got.rows, got.hex())
		}
		rep.Tables[i].Rows, rep.Tables[i].Checksum = got.rows, got.hex()
	}
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

// columnTypes is each table's column types, as PostgreSQL names them.
func columnTypes(ctx context.Context, conn *pgx.Conn) (map[string]map[string]string, error) {
	rows, err := conn.Query(ctx, `SELECT table_name, column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema()`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]map[string]string{}
	for rows.Next() {
		var t, c, ty string
		if err := rows.Scan(&t, &c, &ty); err != nil {
			return nil, err
		}
		if out[t] == nil {
			out[t] = map[string]string{}
		}
		out[t][c] = ty
	}
	return out, rows.Err()
}

// convert makes a source value what the PostgreSQL column takes: bytes
// for bytea, valid UTF-8 for text. replaced counts the texts mended.
func convert(v any, pgType string, replaced *int) (any, error) {
	switch pgType {
	case "bytea":
		if s, ok := v.(string); ok {
			return []byte(s), nil
		}
	case "text":
		if b, ok := v.([]byte); ok {
			v = string(b)
		}
		if s, ok := v.(string); ok && !utf8.ValidString(s) {
			*replaced++
			return strings.ToValidUTF8(s, "\uFFFD"), nil
		}
	case "bigint":
		if s, ok := v.(string); ok {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%q in an integer column", s)
			}
			return n, nil
		}
	}
	return v, nil
}

// copyTable streams a table's rows into PostgreSQL with COPY.
func copyTable(ctx context.Context, tx pgx.Tx, src store.TransferSource, t store.TransferTable, types map[string]string, replaced *int) (int64, error) {
	for _, c := range t.Columns {
		if _, ok := types[c]; !ok {
			return 0, fmt.Errorf("column %s is not in PostgreSQL's schema", c)
		}
	}
	rows := make(chan []any, 1024)
	errc := make(chan error, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(rows)
		errc <- src.Scan(ctx, t, func(row []any) error {
			out := make([]any, len(row))
			for i, v := range row {
				if b, ok := v.([]byte); ok {
					v = append([]byte(nil), b...) // the source reuses its buffers
				}
				out[i] = v
			}
			select {
			case rows <- out:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	var convErr error
	n, err := tx.CopyFrom(ctx, pgx.Identifier{t.Name}, t.Columns, pgx.CopyFromFunc(func() ([]any, error) {
		row, ok := <-rows
		if !ok {
			return nil, nil
		}
		for i, v := range row {
			if row[i], convErr = convert(v, types[t.Columns[i]], replaced); convErr != nil {
				return nil, fmt.Errorf("column %s: %w", t.Columns[i], convErr)
			}
		}
		return row, nil
	}))
	cancel()
	for range rows { // let the reader finish
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, context.Canceled) {
		return n, serr
	}
	return n, err
}

// resetIdentities moves each identity column's sequence past the ids the
// copy brought, so the next row gets a new one.
func resetIdentities(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND is_identity = 'YES'`)
	if err != nil {
		return err
	}
	type col struct{ table, column string }
	var cols []col
	for rows.Next() {
		var c col
		if err := rows.Scan(&c.table, &c.column); err != nil {
			rows.Close()
			return err
		}
		cols = append(cols, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range cols {
		if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, $2), GREATEST(COALESCE((SELECT max(`+ident(c.column)+`) FROM `+ident(c.table)+`), 0), 1))`,
			c.table, c.column); err != nil {
			return fmt.Errorf("resetting %s.%s: %w", c.table, c.column, err)
		}
	}
	return nil
}

// checksum is a table's row count and the sum (mod 2^256) of each row's
// SHA-256: independent of row order, which the two databases need not share.
type checksum struct {
	rows int64
	sum  big.Int
}

var mod256 = new(big.Int).Lsh(big.NewInt(1), 256)

func (c *checksum) add(row []any) {
	h := sha256.New()
	var n [8]byte
	for _, v := range row {
		switch v := v.(type) {
		case nil:
			h.Write([]byte{'n'})
		case int64:
			h.Write([]byte{'i'})
			binary.BigEndian.PutUint64(n[:], uint64(v))
			h.Write(n[:])
		case float64:
			h.Write([]byte{'f'})
			h.Write([]byte(strconv.FormatFloat(v, 'g', -1, 64)))
		case string:
			h.Write([]byte{'s'})
			binary.BigEndian.PutUint64(n[:], uint64(len(v)))
			h.Write(n[:])
			h.Write([]byte(v))
		case []byte:
			h.Write([]byte{'b'})
			binary.BigEndian.PutUint64(n[:], uint64(len(v)))
			h.Write(n[:])
			h.Write(v)
		default:
			fmt.Fprintf(h, "?%T:%v", v, v)
		}
	}
	c.rows++
	c.sum.Add(&c.sum, new(big.Int).SetBytes(h.Sum(nil)))
	c.sum.Mod(&c.sum, mod256)
}

func (c *checksum) hex() string { return fmt.Sprintf("%064x", &c.sum) }

func sourceSum(ctx context.Context, src store.TransferSource, t store.TransferTable, types map[string]string) (*checksum, error) {
	var c checksum
	var replaced int
	err := src.Scan(ctx, t, func(row []any) error {
		conv := make([]any, len(row))
		for i, v := range row {
			var err error
			if conv[i], err = convert(v, types[t.Columns[i]], &replaced); err != nil {
				return err
			}
		}
		c.add(conv)
		return nil
	})
	return &c, err
}

func tableSum(ctx context.Context, conn *pgx.Conn, t store.TransferTable) (*checksum, error) {
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = ident(c)
	}
	rows, err := conn.Query(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM `+ident(t.Name))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var c checksum
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, err
		}
		c.add(vals)
	}
	return &c, rows.Err()
}
