package store_test

import (
	"strings"
	"testing"

	"wardmail/store"
)

func TestExpandOnly(t *testing.T) {
	test := func(step string, breaks bool) {
		t.Helper()
		what := store.ExpandOnly(step)
		if breaks && what == "" {
			t.Errorf("%q passed as expand-only", step)
		}
		if !breaks && what != "" {
			t.Errorf("%q refused: %s", step, what)
		}
	}
	// What only adds.
	test(`CREATE TABLE ward_rounds (id INTEGER PRIMARY KEY, ward TEXT NOT NULL UNIQUE)`, false)
	test(`CREATE TABLE IF NOT EXISTS a (x TEXT); CREATE UNIQUE INDEX a_x ON a (x); ALTER TABLE a ADD CONSTRAINT c CHECK (x <> '')`, false)
	test(`ALTER TABLE mail ADD COLUMN triage TEXT`, false)
	test(`ALTER TABLE mail ADD COLUMN triage INTEGER NOT NULL DEFAULT 0`, false)
	test(`ALTER TABLE mail ADD COLUMN type TEXT`, false) // a column named type is not a retype
	test(`CREATE INDEX mail_seen ON mail (seen)`, false)
	test(`INSERT INTO notes (body) VALUES ('DROP TABLE mail; RENAME')`, false) // data, not statements
	test(`-- DROP TABLE mail
/* RENAME */ CREATE TABLE b (x TEXT)`, false)
	test(`CREATE FUNCTION f() RETURNS void AS $body$ DROP TABLE mail $body$ LANGUAGE sql`, false)
	test(`UPDATE mail SET triage = 'x'; DELETE FROM held WHERE 1 = 0`, false)
	// What a node of the previous release may trip over.
	test(`DROP TABLE mail`, true)
	test(`drop index mail_seen`, true)
	test(`ALTER TABLE mail DROP COLUMN seen`, true)
	test(`ALTER TABLE mail RENAME COLUMN seen TO read`, true)
	test(`ALTER TABLE "mail" RENAME TO letters`, true)
	test(`ALTER TABLE mail ALTER COLUMN size TYPE BIGINT`, true)
	test(`ALTER TABLE mail ALTER COLUMN size SET DATA TYPE BIGINT`, true)
	test(`ALTER TABLE mail ALTER COLUMN size SET NOT NULL`, true)
	test(`ALTER TABLE mail ALTER COLUMN size DROP DEFAULT`, true)
	test(`ALTER TABLE mail ADD COLUMN triage TEXT NOT NULL`, true)
	test(`ALTER TABLE mail ADD CONSTRAINT one UNIQUE (mailbox_id, uid)`, true)
	test(`CREATE UNIQUE INDEX mail_one ON mail (content_id)`, true)
	test(`CREATE TABLE a (x TEXT); TRUNCATE mail`, true)
}

func TestParseStepRule(t *testing.T) {
	test := func(step string, want store.StepRule, fails bool) {
		t.Helper()
		got, err := store.ParseStepRule(step)
		if (err != nil) != fails || got != want {
			t.Errorf("%q: %+v, %v; want %+v (error: %v)", step, got, err, want, fails)
		}
	}
	test("CREATE TABLE a (x TEXT)", store.StepRule{}, false)
	test("\n-- wardmail:contract after=61\nALTER TABLE mail DROP COLUMN seen", store.StepRule{Contract: true, After: 61}, false)
	test("-- a comment\n-- wardmail:contract after=61\nDROP TABLE a", store.StepRule{}, false) // the marker is the first line
	test("-- wardmail:contract\nDROP TABLE a", store.StepRule{}, true)
	test("-- wardmail:contract after=0\nDROP TABLE a", store.StepRule{}, true)
	test("-- wardmail:contract after=x\nDROP TABLE a", store.StepRule{}, true)
	test("-- wardmail:contarct after=3\nDROP TABLE a", store.StepRule{}, true)
}

func FuzzExpandOnly(f *testing.F) {
	for _, s := range []string{`CREATE TABLE a (x TEXT)`, `ALTER TABLE "m" DROP COLUMN x`, `$a$ DROP $a$; DROP`,
		`'it''s'; /* x */ -- y`, "\"unterminated", "$$", "/*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		what := store.ExpandOnly(sql)
		// A step refused stays refused when something is added after it.
		if what != "" && store.ExpandOnly(sql+";\nCREATE TABLE zz (x TEXT)") == "" && !strings.ContainsAny(sql, "'\"$/-") {
			t.Errorf("%q refused (%s) alone but not with a table after it", sql, what)
		}
	})
}

func FuzzParseStepRule(f *testing.F) {
	for _, s := range []string{"-- wardmail:contract after=61\nDROP TABLE a", "-- wardmail:", "CREATE TABLE a (x TEXT)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, step string) {
		r, err := store.ParseStepRule(step)
		if err == nil && r.Contract && (r.After < 1 || !strings.Contains(step, "-- wardmail:contract after=")) {
			t.Errorf("%q: %+v", step, r)
		}
		if err != nil && r.Contract {
			t.Errorf("%q: a contract rule with an error", step)
		}
	})
}
