package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"wardmail/store/storetest"
)

// The admin commands take --database as serve does: people imported into
// a PostgreSQL database through one command are listed by another, and the
// data folder holds no SQLite database.
func TestAdminCommandsOnPostgres(t *testing.T) {
	if !storetest.Postgres() {
		t.Skip("needs PostgreSQL: " + storetest.Env + " (make test-postgres)")
	}
	bin := buildBinary(t)
	dir, db := t.TempDir(), storetest.Database(t)
	data := filepath.Join(dir, "data")
	csv := filepath.Join(dir, "people.csv")
	if err := os.WriteFile(csv, []byte("email,name,org\namira@nhs.test,Amira Khan,Leeds Teaching Hospitals NHS Trust\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("wardmail %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("directory", "import", "--data", data, "--database", db, csv)
	if out := run("user", "list", "--data", data, "--database", db); !strings.Contains(out, "amira@nhs.test") {
		t.Errorf("user list --database does not show the imported person:\n%s", out)
	}
	run("list", "create", "--data", data, "--database", db, "--address", "team@nhs.test", "--name", "Team", "--owner", "amira@nhs.test", "--members", "amira@nhs.test")
	if _, err := os.Stat(filepath.Join(data, "wardmail.db")); err == nil {
		t.Errorf("the commands made a SQLite database in the data folder besides PostgreSQL")
	}
	if out, err := exec.Command(bin, "user", "list", "--data", data).CombinedOutput(); err == nil && strings.Contains(string(out), "amira@nhs.test") {
		t.Errorf("without --database the SQLite folder shows PostgreSQL's people")
	}
}
