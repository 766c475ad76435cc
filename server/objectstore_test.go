package server_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"

	"wardmail/blob/s3blob/s3test"
	"wardmail/server"
	"wardmail/store/storetest"
)

// With s3_endpoint set, bodies live in the object store (a real S3 gateway
// that checks signatures): a message delivered over SMTP is an object there
// and nothing in DATA/blobs, and IMAP reads it back. While the object store
// is unreachable a delivery gets a temporary failure and is not stored,
// mailbox views (SELECT, flags, envelopes kept in the database) keep working,
// and once the store is back delivery works again.
func TestBodiesInAnObjectStore(t *testing.T) {
	g := s3test.Start(t)
	s3 := g.Config("wardmail-bodies")
	secret := filepath.Join(t.TempDir(), "s3.secret")
	if err := os.WriteFile(secret, []byte(s3.SecretKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := server.Defaults()
	cfg.DataDir = t.TempDir()
	cfg.Database = storetest.Database(t)
	cfg.Hostname = "mx.nhs.test"
	cfg.SMTPAddr, cfg.SubmissionAddr, cfg.IMAPAddr, cfg.HTTPAddr = "127.0.0.1:0", "", "127.0.0.1:0", "127.0.0.1:0"
	cfg.InlineMax = -1 // every body an object, however small
	cfg.S3Endpoint, cfg.S3Bucket, cfg.S3AccessKey, cfg.S3SecretKeyFile, cfg.S3Insecure = s3.Endpoint, s3.Bucket, s3.AccessKey, secret, true
	srv, err := server.Start(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	seedPeople(t, srv, "amira@nhs.test")

	send := func(subject string) error {
		c, err := smtp.DialStartTLS(srv.Addrs["smtp"], &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			return err
		}
		defer c.Close()
		return c.SendMail("ward7@gp-surgery.example", []string{"amira@nhs.test"}, strings.NewReader(
			"From: ward7@gp-surgery.example\r\nTo: amira@nhs.test\r\nSubject: "+subject+"\r\n\r\nDischarge summary attached.\r\n"))
	}
	if err := send("Discharge summary"); err != nil {
		t.Fatal(err)
	}
	objects := countFiles(t, filepath.Join(g.Dir, s3.Bucket))
	if objects == 0 {
		t.Fatal("no object in the bucket after a delivery")
	}
	if n := countFiles(t, filepath.Join(cfg.DataDir, "blobs")); n != 0 {
		t.Fatalf("%d body files in DATA/blobs with an object store configured", n)
	}

	c, err := imapclient.DialStartTLS(srv.Addrs["imap"], &imapclient.Options{TLSConfig: &tls.Config{InsecureSkipVerify: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("amira@nhs.test", "pw-amira@nhs.test").Wait(); err != nil {
		t.Fatal(err)
	}
	body := func() (string, error) {
		if _, err := c.Select("INBOX", nil).Wait(); err != nil {
			return "", err
		}
		msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{}}}).Collect()
		if err != nil || len(msgs) != 1 {
			return "", errors.Join(err, errors.New("no message 1"))
		}
		for _, b := range msgs[0].BodySection {
			return string(b.Bytes), nil
		}
		return "", errors.New("no body section")
	}
	if got, err := body(); err != nil || !strings.Contains(got, "Discharge summary attached.") {
		t.Fatalf("IMAP body from the object store: %q, %v", got, err)
	}

	// The object store goes away.
	g.Stop()
	err = send("Sent while the object store is down")
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code/100 != 4 {
		t.Fatalf("delivery with the object store down: %v, want a 4xx temporary failure", err)
	}
	// The node stays in a load balancer's rotation (its database answers)
	// and says what is missing; it is alive either way.
	if code, health := getHealth(t, srv, "/healthz"); code != http.StatusOK || health["status"] != "degraded" ||
		!strings.HasPrefix(fmt.Sprint(health["object_store"]), "unavailable") {
		t.Errorf("/healthz with the object store down: %d %v", code, health)
	}
	if code, live := getHealth(t, srv, "/healthz/live"); code != http.StatusOK || live["status"] != "alive" {
		t.Errorf("/healthz/live: %d %v", code, live)
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil || sel.NumMessages != 1 {
		t.Fatalf("SELECT with the object store down: %v, %+v (want the one stored message)", err, sel)
	}
	env, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{Envelope: true, Flags: true}).Collect()
	if err != nil || len(env) != 1 || env[0].Envelope == nil || env[0].Envelope.Subject != "Discharge summary" {
		t.Fatalf("FETCH ENVELOPE with the object store down: %v %+v", err, env)
	}

	// Back again: delivery works, and only the acknowledged messages exist.
	g.Restart()
	if code, health := getHealth(t, srv, "/healthz"); code != http.StatusOK || health["status"] != "ok" || health["object_store"] != "ok" {
		t.Errorf("/healthz with the object store back: %d %v", code, health)
	}
	if err := send("After the object store came back"); err != nil {
		t.Fatal(err)
	}
	sel, err = c.Select("INBOX", nil).Wait()
	if err != nil || sel.NumMessages != 2 {
		t.Fatalf("after the store came back: %v, %d messages, want 2", err, sel.NumMessages)
	}
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasPrefix(d.Name(), ".") {
			n++
		}
		return err
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return n
}

func getHealth(t *testing.T, srv *server.Server, path string) (int, map[string]any) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := client.Get("https://" + srv.Addrs["http"] + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}
