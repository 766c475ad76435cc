package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"

	"wardmail/store/sqlite"
)

// A data folder left at any earlier schema version by an older wardmail
// migrates to the current one, and ends with the schema a new folder gets.
func TestOlderDataFoldersMigrate(t *testing.T) {
	ctx := context.Background()
	fresh := t.TempDir()
	st, err := sqlite.Open(ctx, fresh, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	want := schemaOf(t, fresh)
	for v := 1; v < len(sqlite.Migrations); v++ {
		dir := t.TempDir()
		db, err := sql.Open(driver(t), "file:"+filepath.Join(dir, "wardmail.db"))
		if err != nil {
			t.Fatal(err)
		}
		// What an older wardmail left: the first v steps and their version.
		if _, err := db.Exec(`CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (?)`, v); err != nil {
			t.Fatal(err)
		}
		for _, step := range sqlite.Migrations[:v] {
			if _, err := db.Exec(step); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		st, err := sqlite.Open(ctx, dir, sqlite.Options{})
		if err != nil {
			t.Fatalf("from version %d: %v", v, err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		if got := schemaOf(t, dir); !slices.Equal(got, want) {
			t.Errorf("from version %d the schema is\n%q\nwant\n%q", v, got, want)
		}
	}
}

// schemaOf lists the schema of the database in dir, and its version.
func schemaOf(t *testing.T, dir string) []string {
	t.Helper()
	db, err := sql.Open(driver(t), "file:"+filepath.Join(dir, "wardmail.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT type || ' ' || name || ' ' || COALESCE(sql, '') FROM sqlite_master
		UNION ALL SELECT 'version ' || version FROM schema_version ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// driver is whichever SQLite driver store/sqlite was built with.
func driver(t *testing.T) string {
	for _, d := range sql.Drivers() {
		if d == "sqlite3" || d == "sqlite" {
			return d
		}
	}
	t.Fatal("no SQLite driver registered")
	return ""
}
