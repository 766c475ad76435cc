package postgres_test

import (
	"testing"

	"wardmail/store"
	"wardmail/store/postgres"
)

// From the step that records the rolling-upgrade rule on, every migration
// only adds, or is a contract step marked as such (docs/upgrades.md): a
// node of the previous release keeps running on the schema a newer one
// migrated.
func TestMigrationsAreExpandOnly(t *testing.T) {
	from := (postgres.Dialect{}).ExpandOnlyFrom()
	if from < 0 {
		t.Fatal("the step that records the rolling-upgrade rule is not among the migrations")
	}
	for i, step := range postgres.Migrations[from:] {
		rule, err := store.ParseStepRule(step)
		if err != nil {
			t.Errorf("step %d: %v", from+i+1, err)
			continue
		}
		if what := store.ExpandOnly(step); what != "" && !rule.Contract {
			t.Errorf("step %d is not expand-only (%s): add instead, or mark it as a contract step for a later release", from+i+1, what)
		}
	}
}
