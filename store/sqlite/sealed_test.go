package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"wardmail/blob"
	"wardmail/store"
	"wardmail/store/sqlite"
)

// The store's behaviour is tested in package store on both backends; what
// is tested here is SQLite's own: what lands in its files.

func addPeople(t *testing.T, s *store.Store, emails ...string) []int64 {
	t.Helper()
	return addPeopleB(t, s, emails)
}

func addPeopleB(t testing.TB, s *store.Store, emails []string) []int64 {
	t.Helper()
	ctx := context.Background()
	var recs []store.PersonRecord
	for _, e := range emails {
		recs = append(recs, store.PersonRecord{Email: e, Name: e, Org: "Test Trust"})
	}
	if _, _, err := s.UpsertPeople(ctx, recs); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, e := range emails {
		p, err := s.PersonByEmail(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	return ids
}

// With a key configured, TOTP secrets are sealed at rest too: the database
// file does not hold them in clear, and without the key they are refused.
func TestTOTPSecretSealedAtRest(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	key := filepath.Join(dir, "body.key")
	if err := blob.GenerateKeyFile(key); err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.Open(ctx, filepath.Join(dir, "data"), sqlite.Options{KeyFile: key})
	if err != nil {
		t.Fatal(err)
	}
	ids := addPeople(t, s, "admin@nhs.test")
	secret := []byte("TOTP-SECRET-0123456789")
	if err := s.SetTOTPSecret(ctx, ids[0], secret); err != nil {
		t.Fatal(err)
	}
	st, err := s.TOTP(ctx, ids[0])
	if err != nil || string(st.Secret) != string(secret) {
		t.Fatalf("TOTP with the key: %+v %v", st, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"wardmail.db", "wardmail.db-wal"} {
		raw, _ := os.ReadFile(filepath.Join(dir, "data", f))
		if strings.Contains(string(raw), string(secret)) {
			t.Fatalf("%s holds the TOTP secret in clear", f)
		}
	}
	s2, err := sqlite.Open(ctx, filepath.Join(dir, "data"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := s2.TOTP(ctx, ids[0]); err == nil || !strings.Contains(err.Error(), "body_key_file") {
		t.Fatalf("TOTP without the key: %v", err)
	}
}
