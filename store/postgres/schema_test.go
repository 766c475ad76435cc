package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"wardmail/store/postgres"
	"wardmail/store/sqlite"
	"wardmail/store/storetest"
)

// Every SQLite migration has its PostgreSQL translation at the same index:
// a schema version means the same thing in both databases.
func TestMigrationsOneForOne(t *testing.T) {
	if len(postgres.Migrations) != len(sqlite.Migrations) {
		t.Fatalf("store/sqlite has %d migrations and store/postgres %d: translate the new ones into store/postgres/schema.go, in the same order",
			len(sqlite.Migrations), len(postgres.Migrations))
	}
}

// After each migration step, both databases have the same tables, the same
// columns, the same named indexes and the same unique keys (primary keys
// and UNIQUE constraints, which ON CONFLICT clauses name). Step by step, so
// that a translation that lands a column one step late is caught too.
func TestSchemaMatchesSQLite(t *testing.T) {
	if !storetest.Postgres() {
		t.Skip("PostgreSQL tests need " + storetest.Env + " (make test-postgres)")
	}
	if len(postgres.Migrations) != len(sqlite.Migrations) {
		t.Skip("TestMigrationsOneForOne fails")
	}
	ctx := context.Background()
	pg, err := sql.Open("pgx", storetest.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	lite, err := sql.Open(sqliteDriver(t), "file:"+filepath.Join(t.TempDir(), "schema.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	for i := range sqlite.Migrations {
		if _, err := lite.ExecContext(ctx, sqlite.Migrations[i]); err != nil {
			t.Fatalf("SQLite step %d: %v", i+1, err)
		}
		if _, err := pg.ExecContext(ctx, postgres.Migrations[i]); err != nil {
			t.Fatalf("PostgreSQL step %d: %v", i+1, err)
		}
		want, got := describe(t, lite, sqliteCatalog), describe(t, pg, postgresCatalog)
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("after step %d, PostgreSQL lacks %s", i+1, w)
			}
		}
		for _, g := range got {
			if !slices.Contains(want, g) {
				t.Errorf("after step %d, PostgreSQL has %s, which SQLite has not", i+1, g)
			}
		}
		if t.Failed() {
			return
		}
	}
}

// Several nodes opening one new database at the same moment migrate it
// once: they wait on the migration lock instead of racing to create the
// same tables.
func TestNodesStartingTogetherMigrateOnce(t *testing.T) {
	if !storetest.Postgres() {
		t.Skip("PostgreSQL tests need " + storetest.Env + " (make test-postgres)")
	}
	dsn := storetest.Database(t)
	blobs := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := postgres.Open(context.Background(), dsn, postgres.Options{BlobDir: blobs})
			if err == nil {
				err = st.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: %v", i, err)
		}
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows, version int
	if err := db.QueryRow(`SELECT COUNT(*), MAX(version) FROM schema_version`).Scan(&rows, &version); err != nil {
		t.Fatal(err)
	}
	if rows != 1 || version != len(postgres.Migrations) {
		t.Fatalf("schema_version has %d rows, version %d; want 1 row at %d", rows, version, len(postgres.Migrations))
	}
}

// sqliteDriver is whichever SQLite driver store/sqlite was built with.
func sqliteDriver(t *testing.T) string {
	for _, d := range sql.Drivers() {
		if d == "sqlite3" || d == "sqlite" {
			return d
		}
	}
	t.Fatal("no SQLite driver registered")
	return ""
}

// Each catalog query returns (kind, table, detail) rows: a column, a named
// index, or a unique key with its columns in order.
const sqliteCatalog = `
SELECT 'column', m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c
	WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite%'
UNION ALL
SELECT 'index', tbl_name, name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'
UNION ALL
SELECT 'unique', m.name, (SELECT group_concat(name, ',') FROM (SELECT ii.name FROM pragma_index_info(il.name) ii ORDER BY ii.seqno))
	FROM sqlite_master m, pragma_index_list(m.name) il
	WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite%' AND il."unique" = 1
UNION ALL
SELECT 'unique', m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c
	WHERE m.type = 'table' AND c.pk = 1 AND lower(c.type) = 'integer'
	AND (SELECT COUNT(*) FROM pragma_table_info(m.name) WHERE pk > 0) = 1`

const postgresCatalog = `
SELECT 'column', table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = current_schema()
UNION ALL
SELECT 'index', tablename::text, indexname::text FROM pg_indexes i WHERE schemaname = current_schema()
	AND NOT EXISTS (SELECT 1 FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid WHERE c.relname = i.indexname AND x.indisunique)
UNION ALL
SELECT 'unique', t.relname::text, (SELECT string_agg(a.attname, ',' ORDER BY k.n)
		FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, n) JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum)
	FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace s ON s.oid = t.relnamespace
	WHERE s.nspname = current_schema() AND x.indisunique`

// describe lists a schema as sorted "kind table.detail" strings.
func describe(t *testing.T, db *sql.DB, query string) []string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var kind, table, detail string
		if err := rows.Scan(&kind, &table, &detail); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %s.%s", kind, table, strings.ToLower(detail)))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}
