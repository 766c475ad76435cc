package sim

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"wardmail/auth"
	"wardmail/store"
)

// openMailbox is what a member of staff does when they open their mail:
// LOGIN, SELECT INBOX, FETCH the envelopes of the newest 20 messages. It
// returns the time from LOGIN to the FETCH's end (the connection and TLS
// handshake are not counted: a client keeps them).
func openMailbox(addr string, tlsc *tls.Config, user, pass string) (time.Duration, error) {
	c, err := imapclient.DialStartTLS(addr, &imapclient.Options{TLSConfig: tlsc})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	t0 := time.Now()
	if err := c.Login(user, pass).Wait(); err != nil {
		return 0, err
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		return 0, err
	}
	if n := sel.NumMessages; n > 0 {
		var set imap.SeqSet
		from := uint32(1)
		if n > 20 {
			from = n - 19
		}
		set.AddRange(from, n)
		if _, err := c.Fetch(set, &imap.FetchOptions{Envelope: true, Flags: true, UID: true}).Collect(); err != nil {
			return 0, err
		}
	}
	d := time.Since(t0)
	return d, c.Logout().Wait()
}

// sendLoop sends one-to-one mail every `every` on one authenticated
// submission connection, timing each message to its 250 (durable).
func sendLoop(addr string, tlsc *tls.Config, from string, to []string, every time.Duration, stop chan struct{}, record func(time.Time, time.Duration, error)) {
	var c *smtp.Client
	defer func() {
		if c != nil {
			_ = c.Close()
		}
	}()
	for k := 0; ; k++ {
		t0 := time.Now()
		var err error
		if c == nil {
			c, err = dialSubmission(addr, tlsc, from, stormPassword)
		}
		if err == nil {
			rcpt := to[(k*7+len(from))%len(to)]
			msg := fmt.Sprintf("From: <%s>\r\nTo: <%s>\r\nSubject: Bed %d\r\n\r\nCan you cover bed %d this afternoon?\r\n", from, rcpt, k, k)
			t1 := time.Now()
			err = c.SendMail(from, []string{rcpt}, strings.NewReader(msg))
			record(t1, time.Since(t1), err)
			if err != nil {
				_ = c.Close()
				c = nil
			}
		} else {
			record(t0, 0, err)
		}
		if !sleepOrStop(stop, every-time.Since(t0)) {
			return
		}
	}
}

func dialSubmission(addr string, tlsc *tls.Config, user, pass string) (*smtp.Client, error) {
	c, err := smtp.DialStartTLS(addr, tlsc)
	if err != nil {
		return nil, err
	}
	if err := c.Auth(sasl.NewPlainClient("", user, pass)); err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

// sendOne sends one message on a connection of its own.
func sendOne(addr string, tlsc *tls.Config, from string, to []string, header string) error {
	c, err := dialSubmission(addr, tlsc, from, stormPassword)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.SendMail(from, to, strings.NewReader("From: <"+from+">\r\n"+header+"\r\nReplying to all.\r\n"))
}

// replyCode is an SMTP error's reply code and enhanced code.
func replyCode(err error) string {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return fmt.Sprintf("%d %d.%d.%d", se.Code, se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2])
	}
	return "error"
}

func httpClient(tlsc *tls.Config) *http.Client {
	return &http.Client{Timeout: 10 * time.Minute, Transport: &http.Transport{TLSClientConfig: tlsc}}
}

// protectionOn reads the target's /metrics: is its storm breaker on?
func protectionOn(addr string, tlsc *tls.Config) (bool, error) {
	resp, err := httpClient(tlsc).Get("https://" + addr + "/metrics")
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, `wardmail_policy_setting{setting="storm_enabled"}`) {
			return strings.HasSuffix(l, " 1"), nil
		}
	}
	return false, errors.New("no wardmail_policy_setting{setting=\"storm_enabled\"} in /metrics")
}

// purgeThread purges a thread through the admin API and times it. An
// administrator needs two-step sign-in, so the sim enrols the administrator
// in TOTP through the store (it holds the data folder) and opens a web
// session with a code, as a person at the console would.
func purgeThread(ctx context.Context, st *store.Store, addr string, tlsc *tls.Config, admin *store.Person, pass, thread string) (time.Duration, int64, error) {
	secret := auth.NewTOTPSecret()
	if err := st.SetTOTPSecret(ctx, admin.ID, secret); err != nil {
		return 0, 0, err
	}
	now := time.Now()
	step, _ := auth.VerifyTOTP(secret, auth.TOTPCode(secret, now), now)
	if _, err := st.UseTOTPStep(ctx, admin.Email, admin.ID, step, true); err != nil {
		return 0, 0, err
	}
	client := httpClient(tlsc)
	body, _ := json.Marshal(map[string]string{"email": admin.Email, "password": pass, "totp": auth.TOTPCode(secret, now.Add(30*time.Second))})
	resp, err := client.Post("https://"+addr+"/api/v1/session", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	var session struct {
		CSRF   string `json:"csrf"`
		Detail string `json:"detail"`
	}
	err = json.NewDecoder(resp.Body).Decode(&session)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		return 0, 0, fmt.Errorf("signing in as %s: %s %s %v", admin.Email, resp.Status, session.Detail, err)
	}
	body, _ = json.Marshal(map[string]string{"thread": thread})
	req, err := http.NewRequest("POST", "https://"+addr+"/api/v1/admin/purge", bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	for _, c := range resp.Cookies() {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	req.Header.Set("X-CSRF-Token", session.CSRF)
	req.Header.Set("Content-Type", "application/json")
	t0 := time.Now()
	resp, err = client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	d := time.Since(t0)
	var out struct {
		Touched int64  `json:"touched"`
		Detail  string `json:"detail"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return d, 0, err
	}
	if resp.StatusCode != 200 {
		return d, 0, fmt.Errorf("purge: %s: %s", resp.Status, out.Detail)
	}
	return d, out.Touched, nil
}
