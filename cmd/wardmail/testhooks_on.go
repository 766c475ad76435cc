//go:build wardmail_testhooks

package main

import (
	"encoding/json"
	"fmt"
	"os"
)

// testExtraMigrations reads WARDMAIL_TEST_EXTRA_MIGRATIONS, a JSON array of
// SQL steps appended to the PostgreSQL migrations, so that one binary can
// play the next release in tests of rolling upgrades (clustertest). Only a
// build with the wardmail_testhooks tag has it; a release build ignores the
// variable (testhooks_off.go).
func testExtraMigrations() ([]string, error) {
	v := os.Getenv("WARDMAIL_TEST_EXTRA_MIGRATIONS")
	if v == "" {
		return nil, nil
	}
	var steps []string
	if err := json.Unmarshal([]byte(v), &steps); err != nil {
		return nil, fmt.Errorf("WARDMAIL_TEST_EXTRA_MIGRATIONS: %w", err)
	}
	return steps, nil
}
