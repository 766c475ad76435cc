package imapd

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is a log destination the connection goroutines share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// records returns the JSON log lines written so far.
func (l *lockedBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, rec)
	}
	return out
}

// After sign-in each log line names the person by address, as the SMTP
// door's do (an operator looks a person up by address, not by row id);
// after UNAUTHENTICATE the lines name nobody until the next sign-in.
func TestLogLinesNamePerson(t *testing.T) {
	var buf lockedBuffer
	e := newEnv(t, func(o *envOptions) {
		o.log = slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	})
	r := e.raw(t)
	if got := r.cmd("a1", `LOGIN alice@nhs.test "`+testPassword+`"`); !strings.HasPrefix(got[len(got)-1], "a1 OK") {
		t.Fatalf("LOGIN: %q", got)
	}
	r.cmd("a2", "UNAUTHENTICATE")
	if got := r.cmd("a3", "LOGIN bob@nhs.test wrong-password"); !strings.HasPrefix(got[len(got)-1], "a3 NO") {
		t.Fatalf("a wrong password: %q", got)
	}
	if got := r.cmd("a4", `LOGIN bob@nhs.test "`+testPassword+`"`); !strings.HasPrefix(got[len(got)-1], "a4 OK") {
		t.Fatalf("LOGIN: %q", got)
	}

	want := []struct{ msg, person string }{
		{"signed in", "alice@nhs.test"},
		{"signed out", "alice@nhs.test"},
		{"sign-in failed", ""},
		{"signed in", "bob@nhs.test"},
	}
	var got []string
	for _, rec := range buf.records(t) {
		if msg := rec["msg"].(string); strings.Contains(msg, "sign") {
			person, _ := rec["person"].(string)
			got = append(got, msg+" person="+person)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("sign-in log lines: %q", got)
	}
	for i, w := range want {
		if got[i] != w.msg+" person="+w.person {
			t.Errorf("line %d: %q, want %q", i, got[i], w.msg+" person="+w.person)
		}
	}
}
