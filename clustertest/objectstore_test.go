package clustertest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"
)

// TestObjectStoreLoss: two nodes on PostgreSQL keep bodies in the S3
// gateway, behind HAProxy. The gateway is killed while people submit and
// read. While it is gone every submission gets 451 4.3.0 with a sentence
// and nothing is acknowledged that is not stored; mailbox views kept in the
// database work (IMAP LOGIN, SELECT, FETCH FLAGS ENVELOPE; the webmail's
// message list); a body answers NO [UNAVAILABLE] with a sentence instead of
// hanging; /healthz says degraded and the nodes stay in rotation. The
// gateway comes back on the same folder and port: submissions work again
// without restarting a node, and every message that got 250 is readable,
// once.
func TestObjectStoreLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	const people = 6
	c := startCluster(t, 2, people, false)

	var mu sync.Mutex
	acked := map[string]string{} // Message-ID → recipient
	send := func(i int, id string) error {
		from, to := c.users[i], c.users[(i+1)%people]
		err := c.submit(from, to, id)
		if err == nil {
			mu.Lock()
			acked[id] = to
			mu.Unlock()
		}
		return err
	}
	for i := range people {
		for k := range 2 {
			if err := send(i, fmt.Sprintf("before.%d.%d@ward.test", i, k)); err != nil {
				t.Fatalf("submitting before the outage: %v", err)
			}
		}
	}

	// People keep submitting while the gateway dies: what is in flight
	// may go either way, but what gets 250 must be stored.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range people {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				_ = send(i, fmt.Sprintf("during.%d.%d@ward.test", i, k))
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	c.s3.Stop()
	close(stop)
	wg.Wait()

	// Every submission now gets a temporary failure that says so.
	for i := range people {
		err := send(i, fmt.Sprintf("outage.%d@ward.test", i))
		var se *smtp.SMTPError
		if !errors.As(err, &se) || se.Code != 451 || se.EnhancedCode != (smtp.EnhancedCode{4, 3, 0}) || len(se.Message) < 20 {
			t.Errorf("submission with the object store down: %v; want 451 4.3.0 and a sentence", err)
		}
	}

	// Mailbox views come from the database: through the balancer, each
	// node in turn (leastconn spreads sequential sessions).
	before := func(u string) []string {
		var ids []string
		for k := range 2 {
			i := slices.Index(c.users, u) - 1
			if i < 0 {
				i = people - 1
			}
			ids = append(ids, fmt.Sprintf("before.%d.%d@ward.test", i, k))
		}
		return ids
	}
	for _, u := range c.users {
		got := c.inbox(t, u) // LOGIN, SELECT, FETCH ENVELOPE
		for _, id := range before(u) {
			if got[id] != 1 {
				t.Errorf("%s with the object store down: <%s> listed %d times, want once", u, id, got[id])
			}
		}
		ic := c.imapLogin(t, u)
		if _, err := ic.Select("INBOX", nil).Wait(); err != nil {
			t.Fatal(err)
		}
		msgs, err := ic.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{Flags: true, Envelope: true}).Collect()
		if err != nil || len(msgs) != 1 || msgs[0].Envelope == nil {
			t.Errorf("%s: FETCH FLAGS ENVELOPE with the object store down: %v %+v", u, err, msgs)
		}
		// A body not held by the node: a clear temporary NO, in bounded time.
		answered := make(chan error, 1)
		go func() {
			_, err := ic.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{}}}).Collect()
			answered <- err
		}()
		select {
		case err := <-answered:
			var ie *imap.Error
			if !errors.As(err, &ie) || ie.Type != imap.StatusResponseTypeNo || ie.Code != imap.ResponseCodeUnavailable ||
				!strings.Contains(ie.Text, "try again") {
				t.Errorf("%s: FETCH BODY[] with the object store down: %v; want NO [UNAVAILABLE] and a sentence", u, err)
			}
		case <-time.After(2 * time.Minute):
			t.Fatalf("%s: FETCH BODY[] with the object store down has no answer after two minutes", u)
		}
		_ = ic.Close()
	}
	for _, u := range c.users[:2] {
		w := c.webmail(t, u)
		inbox := w.inboxID(t)
		var list struct {
			Messages []struct {
				Subject string `json:"subject"`
			} `json:"messages"`
		}
		if code := w.get(t, fmt.Sprintf("/api/v1/folders/%d/messages", inbox), &list); code != http.StatusOK || len(list.Messages) < 2 {
			t.Errorf("%s: webmail message list with the object store down: %d, %d messages", u, code, len(list.Messages))
		}
		var prob struct {
			Detail string `json:"detail"`
		}
		if code := w.get(t, fmt.Sprintf("/api/v1/folders/%d/messages/1?peek=1", inbox), &prob); code != http.StatusServiceUnavailable ||
			!strings.Contains(prob.Detail, "try again") {
			t.Errorf("%s: webmail reading a message with the object store down: %d %q; want 503 and a sentence", u, code, prob.Detail)
		}
	}
	for _, nd := range c.nodes {
		var h map[string]any
		if code := getJSON(t, "https://"+nd.Addrs["http"]+"/healthz", &h); code != http.StatusOK || h["status"] != "degraded" ||
			!strings.HasPrefix(fmt.Sprint(h["object_store"]), "unavailable") {
			t.Errorf("%s /healthz with the object store down: %d %v", nd.Name, code, h)
		}
	}

	// Back on the same folder and port: no node restarts.
	c.s3.Restart()
	for i := range people {
		var err error
		for range 20 {
			if err = send(i, fmt.Sprintf("after.%d@ward.test", i)); err == nil {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		if err != nil {
			t.Errorf("submission after the object store came back: %v", err)
		}
	}
	for _, nd := range c.nodes {
		if !nd.Alive() {
			t.Errorf("%s stopped during the outage:\n%s", nd.Name, nd.Log())
		}
	}

	// Every acknowledged message once, its body readable.
	c.checkOnce(t, acked)
	for _, u := range c.users {
		ic := c.imapLogin(t, u)
		sel, err := ic.Select("INBOX", nil).Wait()
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := ic.Fetch(imap.SeqSet{{Start: 1, Stop: sel.NumMessages}},
			&imap.FetchOptions{Envelope: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
		if err != nil {
			t.Errorf("%s: reading bodies after the object store came back: %v", u, err)
		}
		for _, m := range msgs {
			var body []byte
			for _, b := range m.BodySection {
				body = b.Bytes
			}
			if !bytes.Contains(body, []byte("Bed 4 needs obs")) {
				t.Errorf("%s: <%s> has no readable body after the outage (%d bytes)", u, m.Envelope.MessageID, len(body))
			}
		}
		_ = ic.Close()
	}
	for _, nd := range c.nodes {
		var h map[string]any
		if code := getJSON(t, "https://"+nd.Addrs["http"]+"/healthz", &h); code != http.StatusOK || h["status"] != "ok" {
			t.Errorf("%s /healthz with the object store back: %d %v", nd.Name, code, h)
		}
	}
	t.Logf("%d messages acknowledged across the outage", len(acked))
}

// imapLogin opens an IMAP session through the balancer.
func (c *cluster) imapLogin(t *testing.T, user string) *imapclient.Client {
	t.Helper()
	ic, err := imapclient.DialStartTLS(c.lb.Addrs["imap"], &imapclient.Options{TLSConfig: clientTLS})
	if err != nil {
		t.Fatal(err)
	}
	if err := ic.Login(user, "pw").Wait(); err != nil {
		t.Fatal(err)
	}
	return ic
}

// webClient is the webmail's JSON API through the balancer, signed in.
type webClient struct {
	base    string
	http    *http.Client
	cookies []*http.Cookie
}

func (c *cluster) webmail(t *testing.T, user string) *webClient {
	t.Helper()
	w := &webClient{base: "https://" + c.lb.Addrs["http"], http: &http.Client{Timeout: 2 * time.Minute,
		Transport: &http.Transport{TLSClientConfig: clientTLS}}}
	b, _ := json.Marshal(map[string]string{"email": user, "password": "pw"})
	resp, err := w.http.Post(w.base+"/api/v1/session", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("signing in to the webmail as %s: %s", user, resp.Status)
	}
	w.cookies = resp.Cookies()
	return w
}

func (w *webClient) get(t *testing.T, path string, out any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", w.base+path, nil)
	for _, ck := range w.cookies {
		req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	}
	resp, err := w.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out)
	return resp.StatusCode
}

func (w *webClient) inboxID(t *testing.T) int64 {
	t.Helper()
	var f struct {
		Folders []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"folders"`
	}
	if code := w.get(t, "/api/v1/folders", &f); code != http.StatusOK {
		t.Fatalf("webmail folders: %d", code)
	}
	for _, x := range f.Folders {
		if x.Name == "INBOX" {
			return x.ID
		}
	}
	t.Fatalf("webmail folders: no INBOX in %+v", f.Folders)
	return 0
}

// getJSON fetches url over HTTPS and decodes its JSON answer.
func getJSON(t *testing.T, url string, out any) int {
	t.Helper()
	cl := &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: clientTLS}}
	resp, err := cl.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out)
	return resp.StatusCode
}
