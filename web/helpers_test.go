package web_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"wardmail/admin"
	"wardmail/auth"
	"wardmail/directory"
	"wardmail/listsvc"
	"wardmail/lockout"
	"wardmail/mail"
	"wardmail/store"
	"wardmail/store/postgres"
	"wardmail/store/sqlite"
	"wardmail/store/storetest"
	"wardmail/submit"
	"wardmail/web"
)

// testServer is the web door over TLS on loopback with a real SQLite store
// and the real submission pipeline.
type testServer struct {
	t     testing.TB
	URL   string
	Store *store.Store
	Pipe  *submit.Pipeline
	srv   *httptest.Server

	mu  sync.Mutex
	now time.Time
}

func (ts *testServer) Now() time.Time {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.now
}

// Advance moves the web door's clock.
func (ts *testServer) Advance(d time.Duration) {
	ts.mu.Lock()
	ts.now = ts.now.Add(d)
	ts.mu.Unlock()
}

type storm struct{}

func (storm) ReplyAllBlocked(ctx context.Context, thread string) (bool, string, time.Time, error) {
	if strings.Contains(thread, "storm") {
		return true, "Reply-all storm on this thread", time.Date(2026, 11, 22, 15, 0, 0, 0, time.UTC), nil
	}
	return false, "", time.Time{}, nil
}

func startWeb(t *testing.T, people ...string) *testServer {
	t.Helper()
	ts := startWebIn(t, t.TempDir())
	ts.addPeople(people...)
	return ts
}

// addPeople adds people (password "pw-"+email) to the store.
func (ts *testServer) addPeople(people ...string) {
	t := ts.t
	t.Helper()
	ctx := context.Background()
	st := ts.Store
	var recs []store.PersonRecord
	for _, e := range people {
		h, err := auth.HashPassword(auth.TestParams(), "pw-"+e)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.ToUpper(e[:1]) + e[1:strings.IndexByte(e, '@')] + " Tester"
		recs = append(recs, store.PersonRecord{Email: e, Name: name, Org: "Leeds Teaching Hospitals NHS Trust", PasswordHash: h})
	}
	if _, _, err := st.UpsertPeople(ctx, recs); err != nil {
		t.Fatal(err)
	}
}

// startWebIn starts the web door over the store in dir.
func startWebIn(t testing.TB, dir string) *testServer {
	t.Helper()
	return startWebWith(t, dir, sqlite.Options{InlineMax: 8192})
}

// testDatabases remembers the PostgreSQL database each test folder's store
// lives in, so that reopening a folder reopens its data.
var testDatabases sync.Map // dir -> DSN

// openTestStore opens the store of a test folder: SQLite in dir or, with
// WARDMAIL_TEST_POSTGRES set (make test-postgres), a database of its own
// with the bodies in dir/blobs. opt's fields apply to either.
func openTestStore(t testing.TB, dir string, opt sqlite.Options) *store.Store {
	t.Helper()
	if !storetest.Postgres() {
		st, err := sqlite.Open(context.Background(), dir, opt)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	dsn, ok := testDatabases.Load(dir)
	if !ok {
		dsn = storetest.Database(t)
		testDatabases.Store(dir, dsn)
	}
	st, err := postgres.Open(context.Background(), dsn.(string), postgres.Options{BlobDir: filepath.Join(dir, "blobs"),
		KeyFile: opt.KeyFile, InlineMax: opt.InlineMax, IndexEvery: opt.IndexEvery, Now: opt.Now, Logger: opt.Logger})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// startWebWith starts the web door over a store opened with opt.
func startWebWith(t testing.TB, dir string, opt sqlite.Options) *testServer {
	t.Helper()
	st := openTestStore(t, dir, opt)
	ts := &testServer{t: t, Store: st, now: time.Now()}
	ts.Pipe = submit.New(submit.Config{Store: st, Hostname: "mx.nhs.test"})
	lock, err := lockout.New(context.Background(), lockout.Config{Store: st, Policy: lockout.Policy{Threshold: 3, LockBase: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	login := auth.New(auth.Config{Store: st, Hasher: auth.NewHasher(auth.TestParams(), 2, 2*time.Second), Lockout: lock})
	cfg := services(st, ts.Pipe, login, lock, ts.Now)
	cfg.ReplyAll = storm{}
	h := web.New(cfg)
	ts.srv = httptest.NewTLSServer(h)
	ts.URL = ts.srv.URL
	t.Cleanup(func() {
		ts.srv.Close()
		if err := errors.Join(login.Close(), lock.Close(), st.Close()); err != nil {
			t.Error(err)
		}
	})
	return ts
}

// services is the web door's configuration over st, with every service the
// server wires (server/server.go) built over the same store.
func services(st *store.Store, pipe *submit.Pipeline, login *auth.Login, lock *lockout.Engine, now func() time.Time) web.Config {
	return web.Config{Pipeline: pipe, Login: login, TLS: true, Now: now,
		Mail:      mail.New(st, nil),
		Sessions:  auth.NewWebSessions(auth.WebSessionsConfig{Store: st, Now: now}),
		Directory: directory.NewService(st),
		Lists:     listsvc.New(listsvc.Config{Store: st, Governance: pipe.Governance(), Notify: pipe}),
		Admin: admin.New(admin.Config{Store: st, Hasher: login.Hasher(), Locks: admin.EngineLocks{Engine: lock},
			CheckPassword: auth.CheckPasswordPolicy}),
	}
}

// client is one browser: a cookie jar and the CSRF token of its session.
type client struct {
	ts   *testServer
	hc   *http.Client
	csrf string
	user string // HTTP Basic when set
	pass string
}

func (ts *testServer) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{ts: ts, hc: &http.Client{Jar: jar, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}}
}

// signIn signs in as email (password "pw-"+email) and keeps the session.
func (ts *testServer) signIn(email string) *client {
	ts.t.Helper()
	c := ts.client()
	var info struct{ CSRF string }
	if code := c.do("POST", "/api/v1/session", map[string]string{"email": email, "password": "pw-" + email}, &info); code != 200 {
		ts.t.Fatalf("sign-in as %s: %d", email, code)
	}
	c.csrf = info.CSRF
	return c
}

// do sends a JSON request (body nil: none) and decodes a JSON answer into
// out (when not nil); it returns the status.
func (c *client) do(method, path string, body, out any) int {
	c.ts.t.Helper()
	resp := c.raw(method, path, body)
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			c.ts.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

func (c *client) raw(method, path string, body any) *http.Response {
	c.ts.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	case []byte:
		rd, ct = bytes.NewReader(b), "application/octet-stream"
	default:
		j, _ := json.Marshal(b)
		rd, ct = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, c.ts.URL+path, rd)
	if err != nil {
		c.ts.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.ts.t.Fatal(err)
	}
	return resp
}

// problemOf is a decoded problem+json answer.
type problemOf struct {
	Type, Title, Detail, Field, SMTP, Until string
	Status                                  int
}

// deliver puts a raw message into the recipients' INBOXes through the pipeline.
func (ts *testServer) deliver(from string, to []string, raw string) {
	ts.t.Helper()
	ctx := context.Background()
	var rcpts []submit.Recipient
	for _, a := range to {
		r, err := ts.Pipe.CheckRecipient(ctx, &submit.Sender{Door: "smtp"}, a)
		if err != nil {
			ts.t.Fatal(err)
		}
		rcpts = append(rcpts, r)
	}
	raw = strings.ReplaceAll(raw, "\n", "\r\n")
	if _, err := ts.Pipe.Submit(ctx, &submit.Sender{Door: "smtp"}, from, rcpts, []byte(raw)); err != nil {
		ts.t.Fatal(err)
	}
}

type folder struct {
	ID     int64
	Name   string
	Role   string
	Total  int64
	Unread int64
}

func (c *client) folders() map[string]folder {
	c.ts.t.Helper()
	var out struct{ Folders []folder }
	if code := c.do("GET", "/api/v1/folders", nil, &out); code != 200 {
		c.ts.t.Fatalf("folders: %d", code)
	}
	m := map[string]folder{}
	for _, f := range out.Folders {
		m[f.Name] = f
	}
	return m
}

type item struct {
	UID           uint32
	Folder        int64
	Subject       string
	Seen, Flagged bool
	HasAttachment bool
	Thread        string
	From          []struct{ Name, Email string }
}

func (c *client) list(folderID int64, query string) (items []item, total int) {
	c.ts.t.Helper()
	var out struct {
		Total    int
		Messages []item
	}
	path := "/api/v1/folders/" + itoa(folderID) + "/messages" + query
	if code := c.do("GET", path, nil, &out); code != 200 {
		c.ts.t.Fatalf("GET %s: %d", path, code)
	}
	return out.Messages, out.Total
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func readJSONBody(t testing.TB, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
