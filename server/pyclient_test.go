package server_test

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"wardmail/auth"
	"wardmail/server"
	"wardmail/store"
	"wardmail/store/storetest"
)

// startTestServer runs a real server on loopback ports with cheap password
// hashing and the given people (password = "pw-"+email).
func startTestServer(t *testing.T, emails ...string) *server.Server {
	t.Helper()
	cfg := server.Defaults()
	cfg.DataDir = t.TempDir()
	cfg.Database = storetest.Database(t) // empty: SQLite in DataDir
	cfg.Hostname = "mx.nhs.test"
	cfg.SMTPAddr, cfg.SubmissionAddr, cfg.IMAPAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	srv, err := server.Start(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	})
	seedPeople(t, srv, emails...)
	return srv
}

// seedPeople adds people whose password is "pw-"+email.
func seedPeople(t *testing.T, srv *server.Server, emails ...string) {
	t.Helper()
	var recs []store.PersonRecord
	for _, e := range emails {
		h, err := auth.HashPassword(auth.TestParams(), "pw-"+e)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, store.PersonRecord{Email: e, Name: e, Org: "Leeds Teaching Hospitals NHS Trust", PasswordHash: h})
	}
	if _, _, err := srv.Store.UpsertPeople(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
}

// TestPythonClients drives the server with Python's smtplib and imaplib, a
// client stack that is not ours and not Go.
func TestPythonClients(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	srv := startTestServer(t, "amira@nhs.test", "ben@nhs.test")
	cmd := exec.Command(py, "testdata/pyclient.py")
	cmd.Env = append(os.Environ(),
		"WM_SUBMISSION="+srv.Addrs["submission"], "WM_IMAP="+srv.Addrs["imap"],
		"WM_USER=amira@nhs.test", "WM_PASS=pw-amira@nhs.test",
		"WM_TO=ben@nhs.test", "WM_TO_PASS=pw-ben@nhs.test")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python clients: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
