package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"wardmail/auth"
	"wardmail/store"
	"wardmail/store/storetest"
)

// A web session ends when it has been idle too long, at the end of its
// shift, when the person's credentials are revoked and when the person is
// disabled; signing out everywhere ends it too.
func TestWebSessionsEnd(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t, storetest.Options{})
	p, err := st.AddPerson(ctx, "test", store.PersonRecord{Email: "amira@nhs.test", Name: "Amira", Org: "Test Trust"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ws := auth.NewWebSessions(auth.WebSessionsConfig{Store: st, Idle: 30 * time.Minute, Max: 12 * time.Hour,
		Now: func() time.Time { return now }})
	open := func() string {
		t.Helper()
		token, _, err := ws.Open(ctx, p, "127.0.0.1:1234", "test")
		if err != nil {
			t.Fatal(err)
		}
		return token
	}
	resume := func(token string) error {
		t.Helper()
		_, _, err := ws.Resume(ctx, token, nil)
		return err
	}

	token := open()
	for i := range 35 { // active every 20 minutes for 11 h 40: still in
		now = now.Add(20 * time.Minute)
		if err := resume(token); err != nil {
			t.Fatalf("an active session after %s: %v", time.Duration(i+1)*20*time.Minute, err)
		}
	}
	now = now.Add(20 * time.Minute) // 12 hours: the shift is over, however active
	if err := resume(token); !errors.Is(err, auth.ErrSessionEnded) {
		t.Errorf("a session past its shift: %v", err)
	}

	token = open()
	now = now.Add(31 * time.Minute)
	if err := resume(token); !errors.Is(err, auth.ErrSessionEnded) {
		t.Errorf("an idle session: %v", err)
	}

	token = open()
	if n, err := ws.EndEverywhere(ctx, p); err != nil || n < 1 {
		t.Fatalf("sign out everywhere: %d, %v", n, err)
	}
	if err := resume(token); !errors.Is(err, auth.ErrSessionEnded) {
		t.Errorf("a session after signing out everywhere: %v", err)
	}

	if p, err = st.PersonByID(ctx, p.ID); err != nil { // the new credential generation
		t.Fatal(err)
	}
	token = open()
	if err := st.SetDisabled(ctx, p.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := resume(token); !errors.Is(err, auth.ErrSessionEnded) {
		t.Errorf("a disabled person's session: %v", err)
	}
	if list, err := ws.List(ctx, p.ID); err != nil || len(list) != 0 {
		t.Errorf("a disabled person keeps %d sessions (%v)", len(list), err)
	}
}
