//go:build !wardmail_testhooks

package main

// testExtraMigrations: a release build plays no other release
// (testhooks_on.go is the test build's).
func testExtraMigrations() ([]string, error) { return nil, nil }
