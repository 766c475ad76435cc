package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"database/sql"
	"encoding/base32"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"wardmail/auth"
	"wardmail/server"
	"wardmail/store"
	"wardmail/store/sqlite"
)

// A data folder left readable by others (0755, a 0644 database) and TOTP
// secrets an older version kept in clear: after a start, the folder is the
// server user's alone, the secrets are sealed, and two-step sign-in still
// works, after a restart too.
func TestDataFolderPrivateAndTOTPSealed(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	const amira = "amira@nhs.test"

	// What an older version left: a person with TOTP on, its secret in
	// clear (a store opened with no TOTP key keeps it so).
	old, err := sqlite.Open(ctx, dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := auth.HashPassword(auth.TestParams(), "pw-"+amira)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := old.UpsertPeople(ctx, []store.PersonRecord{{Email: amira, Name: "Amira", Org: "Leeds", PasswordHash: h}}); err != nil {
		t.Fatal(err)
	}
	p, err := old.PersonByEmail(ctx, amira)
	if err != nil {
		t.Fatal(err)
	}
	secret := auth.NewTOTPSecret()
	if err := old.SetTOTPSecret(ctx, p.ID, secret); err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(30 * time.Second).Add(15 * time.Second)
	if ok, err := old.UseTOTPStep(ctx, amira, p.ID, now.Unix()/30-1, true); !ok || err != nil {
		t.Fatalf("enabling TOTP: %v %v", ok, err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	if got := storedTOTP(t, dir, p.ID); !bytes.Equal(got, secret) {
		t.Fatalf("the older version's secret is not in clear: the test does not start where it should")
	}
	for path, mode := range map[string]fs.FileMode{dir: 0o755, filepath.Join(dir, "wardmail.db"): 0o644, filepath.Join(dir, "blobs"): 0o755} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}

	start := func() *server.Server {
		t.Helper()
		cfg := server.Defaults()
		cfg.DataDir, cfg.Hostname = dir, "mx.nhs.test"
		cfg.SMTPAddr, cfg.SubmissionAddr, cfg.IMAPAddr, cfg.HTTPAddr = "", "127.0.0.1:0", "", "127.0.0.1:0"
		cfg.InlineMax = -1 // every body a blob file
		cfg.Now = func() time.Time { return now }
		srv, err := server.Start(ctx, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		return srv
	}
	srv := start()
	// A message, so there is a blob file and its folder.
	app, err := srv.Login.CreateAppPassword(ctx, amira, p, "phone", []string{auth.ScopeSMTP})
	if err != nil {
		t.Fatal(err)
	}
	c, err := smtp.DialStartTLS(srv.Addrs["submission"], clientTLS)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Auth(sasl.NewPlainClient("", amira, app)); err != nil {
		t.Fatal(err)
	}
	if err := c.SendMail(amira, []string{amira}, strings.NewReader("From: amira@nhs.test\r\nTo: amira@nhs.test\r\nSubject: note\r\n\r\nA note to self.\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = c.Quit()

	// Every folder 0700, every file 0600: the database and its -wal and
	// -shm, the keys, the TLS files, the blobs.
	var seen []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		rel, _ := filepath.Rel(dir, path)
		if info.Mode().Perm() != want {
			t.Errorf("%s is %v, want %v", rel, info.Mode().Perm(), want)
		}
		if strings.HasPrefix(rel, "blobs"+string(filepath.Separator)) && !d.IsDir() {
			rel = "a blob file"
		}
		seen = append(seen, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"wardmail.db", "wardmail.db-wal", "wardmail.db-shm", "totp.key", "signin.key", "tls-key.pem", "blobs", "a blob file"} {
		if !slices.Contains(seen, f) {
			t.Errorf("no %s in the data folder (%v)", f, seen)
		}
	}

	// The secret is sealed in the database file.
	stored := storedTOTP(t, dir, p.ID)
	b32 := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
	if bytes.Contains(stored, secret) || strings.Contains(string(stored), b32) {
		t.Error("the TOTP secret is still in clear in the database")
	}

	// Two-step sign-in works, before and after a restart.
	webSignIn := func(srv *server.Server, code string) int {
		t.Helper()
		c := &apiClient{t: t, base: "https://" + srv.Addrs["http"],
			http: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}}
		return c.do("POST", "/api/v1/session", map[string]string{"email": amira, "password": "pw-" + amira, "totp": code}, nil)
	}
	if code := webSignIn(srv, auth.TOTPCode(secret, now)); code != 200 {
		t.Errorf("web sign-in with a code after sealing: %d", code)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	srv = start()
	defer srv.Close()
	if code := webSignIn(srv, auth.TOTPCode(secret, now.Add(30*time.Second))); code != 200 {
		t.Errorf("web sign-in with a code after a restart: %d", code)
	}
}

// storedTOTP reads a person's TOTP secret as the database file holds it.
func storedTOTP(t *testing.T, dir string, personID int64) []byte {
	t.Helper()
	driver := "sqlite3"
	if !slices.Contains(sql.Drivers(), driver) {
		driver = "sqlite" // built with -tags modernc
	}
	db, err := sql.Open(driver, "file:"+filepath.Join(dir, "wardmail.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var b []byte
	if err := db.QueryRow(`SELECT secret FROM totp WHERE person_id = ?`, personID).Scan(&b); err != nil {
		t.Fatal(err)
	}
	return b
}
