package clustertest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"wardmail/auth"
	"wardmail/blob/s3blob/s3test"
	"wardmail/clustertest"
	"wardmail/store"
	"wardmail/store/postgres"
)

// A reply-all storm through two servers at once: people on both press
// reply-all on one conversation together, each through their own server's
// submission door. The breaker lets 10 through (storm_replies = 10):
// exactly 10 are accepted between the two servers, every other gets the
// breaker's 550 5.7.1, and the original sender's INBOX, read over IMAP,
// holds exactly the 10.
func TestReplyAllStormThroughTwoNodes(t *testing.T) {
	clustertest.Enabled(t)
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	pg := clustertest.StartPostgres(t, false)
	gw := s3test.Start(t)
	s3 := gw.Config("bodies")
	secret := filepath.Join(t.TempDir(), "s3.secret")
	if err := os.WriteFile(secret, []byte(s3.SecretKey), 0o600); err != nil {
		t.Fatal(err)
	}
	nodes := clustertest.StartNodes(t, 2, clustertest.NodeOptions{Database: pg.URL(), Config: []string{
		"s3_endpoint = " + s3.Endpoint, "s3_bucket = " + s3.Bucket, "s3_access_key = " + s3.AccessKey,
		"s3_secret_key_file = " + secret, "s3_insecure = on", "sender_limits = off",
		"storm_min_audience = 3", "storm_replies = 10",
	}})
	st, err := postgres.Open(context.Background(), pg.URL(), postgres.Options{BlobDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h, err := auth.HashPassword(auth.TestParams(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	var people []string
	var recs []store.PersonRecord
	for i := range 6 {
		u := fmt.Sprintf("ward%d@nhs.test", i)
		people = append(people, u)
		recs = append(recs, store.PersonRecord{Email: u, Name: u, Org: "Leeds Teaching Hospitals NHS Trust", PasswordHash: h})
	}
	if _, _, err := st.UpsertPeople(context.Background(), recs); err != nil {
		t.Fatal(err)
	}

	send := func(nd *clustertest.Node, from, msgID, inReplyTo string) error {
		cl, err := smtp.DialStartTLS(nd.Addrs["submission"], clientTLS)
		if err != nil {
			return err
		}
		defer cl.Close()
		cl.CommandTimeout, cl.SubmissionTimeout = 30*time.Second, 30*time.Second
		if err := cl.Auth(sasl.NewPlainClient("", from, "pw")); err != nil {
			return err
		}
		var to []string
		for _, p := range people {
			if p != from {
				to = append(to, p)
			}
		}
		hdr := ""
		if inReplyTo != "" {
			hdr = "In-Reply-To: " + inReplyTo + "\r\nReferences: " + inReplyTo + "\r\n"
		}
		return cl.SendMail(from, to, strings.NewReader(fmt.Sprintf(
			"From: %s\r\nTo: %s\r\nSubject: Re: Ward 4 rota\r\nMessage-ID: %s\r\n%s\r\nPlease remove me from this list.\r\n",
			from, strings.Join(to, ", "), msgID, hdr)))
	}
	const root = "<rota@nhs.test>"
	if err := send(nodes[0], people[0], root, ""); err != nil {
		t.Fatal(err)
	}
	// 30 reply-alls at once, 15 through each server, from everyone but
	// the original sender.
	var mu sync.Mutex
	accepted, refused := 0, 0
	var wg sync.WaitGroup
	for i := range 30 {
		nd, from := nodes[i%2], people[1+i%5]
		wg.Go(func() {
			err := send(nd, from, fmt.Sprintf("<reply%d@nhs.test>", i), root)
			var se *smtp.SMTPError
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				accepted++
			case errors.As(err, &se) && se.Code == 550 && se.EnhancedCode == smtp.EnhancedCode{5, 7, 1}:
				refused++
			default:
				t.Errorf("reply %d through %s: %v", i, nd.Name, err)
			}
		})
	}
	wg.Wait()
	if accepted != 10 || refused != 20 {
		t.Errorf("through two servers: %d reply-alls accepted, %d refused by the breaker; want 10 and 20", accepted, refused)
	}

	// What the original sender received, read through the other server.
	ic, err := imapclient.DialStartTLS(nodes[1].Addrs["imap"], &imapclient.Options{TLSConfig: clientTLS})
	if err != nil {
		t.Fatal(err)
	}
	defer ic.Close()
	if err := ic.Login(people[0], "pw").Wait(); err != nil {
		t.Fatal(err)
	}
	sel, err := ic.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	replies := 0
	if sel.NumMessages > 0 {
		msgs, err := ic.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{Envelope: true}).Collect()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if strings.HasPrefix(m.Envelope.MessageID, "reply") {
				replies++
			}
		}
	}
	if replies != 10 {
		t.Errorf("the original sender received %d reply-alls, want 10", replies)
	}
}
