package clustertest_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
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

var clientTLS = &tls.Config{InsecureSkipVerify: true}

// cluster is three nodes on one PostgreSQL and one S3 gateway behind HAProxy.
type cluster struct {
	pg    *clustertest.Postgres
	s3    *s3test.Gateway
	nodes []*clustertest.Node
	lb    *clustertest.Balancer
	users []string
}

func startCluster(t *testing.T, nodes, people int, standby bool) *cluster {
	t.Helper()
	c := &cluster{pg: clustertest.StartPostgres(t, standby), s3: s3test.Start(t)}
	s3 := c.s3.Config("bodies")
	secret := filepath.Join(t.TempDir(), "s3.secret")
	if err := os.WriteFile(secret, []byte(s3.SecretKey), 0o600); err != nil {
		t.Fatal(err)
	}
	c.nodes = clustertest.StartNodes(t, nodes, clustertest.NodeOptions{Database: c.pg.URL(), Config: []string{
		"s3_endpoint = " + s3.Endpoint, "s3_bucket = " + s3.Bucket, "s3_access_key = " + s3.AccessKey,
		"s3_secret_key_file = " + secret, "s3_insecure = on", "sender_limits = off", "inline_body_max = 256",
	}})
	c.lb = clustertest.StartHAProxy(t, c.nodes)
	// People, through the store as `directory import` would.
	st, err := postgres.Open(context.Background(), c.pg.URL(), postgres.Options{BlobDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h, err := auth.HashPassword(auth.TestParams(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	var recs []store.PersonRecord
	for i := range people {
		u := fmt.Sprintf("nurse%02d@nhs.test", i)
		c.users = append(c.users, u)
		recs = append(recs, store.PersonRecord{Email: u, Name: u, Org: "Leeds Teaching Hospitals NHS Trust", PasswordHash: h})
	}
	if _, _, err := st.UpsertPeople(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	return c
}

// submit sends one message through the balancer's submission door and
// reports whether it got 250.
func (c *cluster) submit(from, to, msgID string) error {
	cl, err := smtp.DialStartTLS(c.lb.Addrs["submission"], clientTLS)
	if err != nil {
		return err
	}
	defer cl.Close()
	cl.CommandTimeout, cl.SubmissionTimeout = 20*time.Second, 20*time.Second
	if err := cl.Auth(sasl.NewPlainClient("", from, "pw")); err != nil {
		return err
	}
	return cl.SendMail(from, []string{to}, strings.NewReader(fmt.Sprintf(
		"From: %s\r\nTo: %s\r\nSubject: handover %s\r\nMessage-ID: <%s>\r\n\r\nBed 4 needs obs at 2am. %s\r\n", from, to, msgID, msgID, strings.Repeat("x", 400))))
}

// count returns how many messages in user's INBOX carry msgID, through the balancer.
func (c *cluster) inbox(t *testing.T, user string) map[string]int {
	t.Helper()
	var ic *imapclient.Client
	var err error
	for range 20 {
		if ic, err = imapclient.DialStartTLS(c.lb.Addrs["imap"], &imapclient.Options{TLSConfig: clientTLS}); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer ic.Close()
	if err := ic.Login(user, "pw").Wait(); err != nil {
		t.Fatal(err)
	}
	sel, err := ic.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{}
	if sel.NumMessages == 0 {
		return ids
	}
	msgs, err := ic.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{Envelope: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		ids[m.Envelope.MessageID]++
	}
	return ids
}

// idler is an IMAP client in IDLE on its INBOX through the balancer,
// counting the messages the server tells it of.
type idler struct {
	user   string
	c      *imapclient.Client
	exists atomic.Uint32
	closed chan struct{}
}

func (c *cluster) idle(t *testing.T, user string) *idler {
	t.Helper()
	d := &idler{user: user, closed: make(chan struct{})}
	var err error
	d.c, err = imapclient.DialStartTLS(c.lb.Addrs["imap"], &imapclient.Options{TLSConfig: clientTLS,
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{Mailbox: func(m *imapclient.UnilateralDataMailbox) {
			if m.NumMessages != nil {
				d.exists.Store(*m.NumMessages)
			}
		}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.c.Login(user, "pw").Wait(); err != nil {
		t.Fatal(err)
	}
	sel, err := d.c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	d.exists.Store(sel.NumMessages)
	cmd, err := d.c.Idle()
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(d.closed) }()
	t.Cleanup(func() { _ = d.c.Close() })
	return d
}

func (d *idler) alive() bool {
	select {
	case <-d.closed:
		return false
	default:
		return true
	}
}

// TestNodeLoss: three nodes behind HAProxy; twenty people submit through
// the balancer while twenty IMAP clients wait in IDLE; one node is killed
// with SIGKILL mid-stream. Every message that got 250 is in its
// recipient's INBOX exactly once, clients that lost their node reconnect
// through the balancer and see everything, and IDLE sessions on the
// surviving nodes keep being told of new mail, whichever node took it.
func TestNodeLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	const people, perSender = 20, 12
	c := startCluster(t, 3, people, false)
	var idlers []*idler
	for _, u := range c.users {
		idlers = append(idlers, c.idle(t, u))
	}

	var mu sync.Mutex
	acked := map[string]string{} // Message-ID → recipient
	var sent atomic.Int32
	var wg sync.WaitGroup
	for i, from := range c.users {
		to := c.users[(i+1)%people]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < perSender; k++ {
				for attempt := 0; attempt < 10; attempt++ {
					id := fmt.Sprintf("%s.%d.%d@ward.test", strings.TrimSuffix(from, "@nhs.test"), k, attempt)
					err := c.submit(from, to, id)
					if err == nil {
						mu.Lock()
						acked[id] = to
						mu.Unlock()
						sent.Add(1)
						break
					}
					time.Sleep(200 * time.Millisecond) // the client retries, as a mail client would
				}
			}
		}()
	}
	for sent.Load() < people*perSender/3 {
		time.Sleep(20 * time.Millisecond)
	}
	c.nodes[1].Kill()
	wg.Wait()
	if len(acked) != people*perSender {
		t.Errorf("%d of %d messages got 250 after retries", len(acked), people*perSender)
	}

	// Every acknowledged message exactly once, read through the balancer.
	want := map[string]int{}
	for _, to := range acked {
		want[to]++
	}
	for _, u := range c.users {
		got := c.inbox(t, u)
		for id, to := range acked {
			if to == u && got[id] != 1 {
				t.Errorf("%s: message <%s> (acknowledged) is there %d times", u, id, got[id])
			}
		}
		for id, n := range got {
			if n > 1 {
				t.Errorf("%s: message <%s> is there %d times", u, id, n)
			}
		}
	}

	// IDLE on surviving nodes heard of every message, whichever node took it.
	deadline := time.Now().Add(10 * time.Second)
	survivors := 0
	for _, d := range idlers {
		if !d.alive() {
			continue
		}
		survivors++
		total := len(c.inbox(t, d.user))
		for int(d.exists.Load()) < total && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if got := int(d.exists.Load()); got != total {
			t.Errorf("%s in IDLE on a surviving node was told of %d messages, the INBOX has %d", d.user, got, total)
		}
	}
	if survivors == 0 || survivors == len(idlers) {
		t.Errorf("%d of %d IDLE sessions survived: the killed node held none or all", survivors, len(idlers))
	}
	t.Logf("%d messages acknowledged; %d of %d IDLE sessions were on surviving nodes", len(acked), survivors, len(idlers))
}

// stream has every person send perSender messages through the balancer,
// retrying what gets no 250 as a mail client would, and calls during once
// a third of them are acknowledged. It returns the acknowledged Message-IDs
// by recipient.
func (c *cluster) stream(t *testing.T, perSender int, during func()) map[string]string {
	t.Helper()
	var mu sync.Mutex
	acked := map[string]string{}
	var sent atomic.Int32
	var wg sync.WaitGroup
	people := len(c.users)
	start := time.Now()
	for i, from := range c.users {
		to := c.users[(i+1)%people]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < perSender; k++ {
				for attempt := 0; time.Since(start) < 3*time.Minute; attempt++ {
					id := fmt.Sprintf("%s.%d.%d@ward.test", strings.TrimSuffix(from, "@nhs.test"), k, attempt)
					if err := c.submit(from, to, id); err == nil {
						mu.Lock()
						acked[id] = to
						mu.Unlock()
						sent.Add(1)
						break
					}
					time.Sleep(250 * time.Millisecond)
				}
			}
		}()
	}
	for int(sent.Load()) < people*perSender/3 {
		time.Sleep(20 * time.Millisecond)
	}
	during()
	wg.Wait()
	if len(acked) != people*perSender {
		t.Errorf("%d of %d messages got 250 after retries", len(acked), people*perSender)
	}
	return acked
}

// checkOnce reads every INBOX through the balancer: each acknowledged
// message exactly once, and no message twice.
func (c *cluster) checkOnce(t *testing.T, acked map[string]string) {
	t.Helper()
	for _, u := range c.users {
		got := c.inbox(t, u)
		for id, to := range acked {
			if to == u && got[id] != 1 {
				t.Errorf("%s: message <%s> (acknowledged) is there %d times", u, id, got[id])
			}
		}
		for id, n := range got {
			if n > 1 {
				t.Errorf("%s: message <%s> is there %d times", u, id, n)
			}
		}
	}
}

// TestDatabaseLoss: two nodes on a PostgreSQL primary with a synchronous
// streaming standby. The primary is killed mid-stream and the standby
// promoted (pg_ctl promote, what Patroni does); the nodes find the new
// primary by themselves (a multi-host connection string with
// target_session_attrs=read-write) and no acknowledged message is lost.
func TestDatabaseLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	c := startCluster(t, 2, 10, true)
	acked := c.stream(t, 10, func() {
		c.pg.KillPrimary()
		time.Sleep(time.Second) // the time a failover manager takes to decide
		c.pg.Promote()
	})
	c.checkOnce(t, acked)
	for _, nd := range c.nodes {
		if !nd.Alive() {
			t.Errorf("%s stopped when the database failed over:\n%s", nd.Name, nd.Log())
		}
	}
	t.Logf("%d messages acknowledged across the failover", len(acked))
}

// TestBackgroundJobsMoveWhenTheirNodeDies: each background job runs on one
// node (`wardmail cluster status` says which); when that node is killed,
// the other takes its jobs once the lease lapses, and the status says the
// dead node is not seen.
func TestBackgroundJobsMoveWhenTheirNodeDies(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	c := startCluster(t, 2, 1, false)
	holder := func(job string) string {
		out := clustertest.Status(t, c.pg.URL())
		name := ""
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) >= 2 && strings.HasPrefix(f[0], "node") && f[1] == "alive" {
				name = f[0]
			}
			if strings.Contains(line, "background jobs:") && strings.Contains(line, job) {
				return name
			}
		}
		return ""
	}
	deadline := time.Now().Add(20 * time.Second)
	first := ""
	for first == "" && time.Now().Before(deadline) {
		first = holder("post-trickle")
		time.Sleep(200 * time.Millisecond)
	}
	if first == "" {
		t.Fatalf("no node runs the trickle:\n%s", clustertest.Status(t, c.pg.URL()))
	}
	status := clustertest.Status(t, c.pg.URL())
	if strings.Count(status, "post-trickle") != 1 || !strings.Contains(status, "nodes: 2") {
		t.Fatalf("the trickle runs on other than one node, or a node is missing:\n%s", status)
	}
	for _, nd := range c.nodes {
		if nd.Name == first {
			nd.Kill()
		}
	}
	deadline = time.Now().Add(40 * time.Second)
	next := ""
	for time.Now().Before(deadline) {
		if next = holder("post-trickle"); next != "" && next != first {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	status = clustertest.Status(t, c.pg.URL())
	if next == "" || next == first {
		t.Fatalf("after %s was killed, no other node took the trickle:\n%s", first, status)
	}
	if !strings.Contains(status, first+"  NOT SEEN") {
		t.Errorf("the status does not say %s is gone:\n%s", first, status)
	}
	t.Logf("%s took the background jobs from %s:\n%s", next, first, status)
}
