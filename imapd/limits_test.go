package imapd

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"wardmail/imapd/wire"
)

func TestLiteralLimits(t *testing.T) {
	e := newEnv(t, func(o *envOptions) { o.limits.MaxLiteral = 1000 })
	r := e.raw(t)
	r.login("alice@nhs.test")
	// A synchronising literal over APPENDLIMIT is refused before any "+".
	r.send("A1 APPEND INBOX {1001}\r\n")
	if l := r.line(); l != "A1 NO [TOOBIG] Literal of 1001 bytes is over the limit of 1000 bytes." {
		t.Errorf("sync literal: %q", l)
	}
	// The connection goes on.
	if got := last(r.cmd("A2", "NOOP")); got != "A2 OK NOOP completed." {
		t.Errorf("after refused literal: %q", got)
	}
	// One within the limit gets its continuation.
	r.send("A3 APPEND INBOX {10}\r\n")
	if l := r.line(); !strings.HasPrefix(l, "+ ") {
		t.Fatalf("continuation: %q", l)
	}
	r.send("Subject: x\r\n")
	if l := r.line(); !strings.HasPrefix(l, "A3 OK [APPENDUID ") {
		t.Errorf("small append: %q", l)
	}
	// A non-synchronising literal over the limit cannot be skipped: the
	// server answers and closes.
	r.send("A4 APPEND INBOX {5000+}\r\n")
	if l := r.line(); !strings.HasPrefix(l, "A4 NO [TOOBIG]") {
		t.Errorf("non-sync literal: %q", l)
	}
	if l := r.line(); !strings.HasPrefix(l, "* BYE") {
		t.Errorf("after non-sync literal: %q", l)
	}
	// Before sign-in literals are small.
	r = e.raw(t)
	r.send("A1 LOGIN {5000}\r\n")
	if l := r.line(); !strings.HasPrefix(l, "A1 NO [TOOBIG]") {
		t.Errorf("pre-auth literal: %q", l)
	}
}

func TestSyntaxErrors(t *testing.T) {
	e := newEnv(t)
	var r *rawConn
	for _, tc := range []struct{ cmd, want string }{
		{"A1 FROB", "A1 BAD Unknown command."},
		{"A1 SELECT", "A1 BAD SELECT takes a mailbox name and optional parameters."},
		{"A1 LIST \"unterminated", "A1 BAD Unterminated quoted string."},
		{"A1 STATUS INBOX (MESSAGES", "A1 BAD Missing closing parenthesis."},
		{"A1 NOOP  ", "A1 BAD Unexpected character ' '."},
		{"A1 NOOP x ", "A1 BAD Trailing space."},
		{"A1 STATUS INBOX (MESSAGES )", "A1 BAD Unexpected closing parenthesis."},
		{"A1 CREATE \"a\\x\"", "A1 BAD Invalid escape in quoted string."},
		{"A1 LIST " + strings.Repeat("(", 20) + strings.Repeat(")", 20) + " \"\" *", "A1 BAD Lists nested too deeply."},
		{"(((", "* BAD Missing or invalid command tag."},
		{"A1 CREATE a {3+}\r\nabc", "A1 BAD CREATE parameters must be (USE (attributes))."},
		{"A1 CREATE \"a\\x\" {3+}\r\nabc", "A1 BAD Invalid escape in quoted string."},
		{"A2 NOOP", "A2 OK NOOP completed."},
		{"A1 FETCH 1 FLAGS", "A1 BAD Select a mailbox first."},
	} {
		if r == nil || strings.HasPrefix(tc.cmd, "A1 ") {
			r = e.raw(t)
			r.login("alice@nhs.test")
		}
		r.send(tc.cmd + "\r\n")
		if l := r.line(); l != tc.want {
			t.Errorf("%q: %q, want %q", tc.cmd, l, tc.want)
		}
	}
	// A line over the limit is fatal.
	r = e.raw(t)
	go func() { _, _ = r.nc.Write([]byte("A1 NOOP " + strings.Repeat("x", 70000) + "\r\n")) }()
	if l := r.line(); l != "* BAD Line too long." {
		t.Errorf("long line: %q", l)
	}
	if l := r.line(); !strings.HasPrefix(l, "* BYE") {
		t.Errorf("after long line: %q", l)
	}
	// Too many bad commands close the session.
	r = e.raw(t)
	r.login("alice@nhs.test")
	for i := 0; i < 9; i++ {
		r.cmd("B", "FROB")
	}
	r.send("B FROB\r\n")
	r.line()
	if l := r.line(); l != "* BYE Too many invalid commands." {
		t.Errorf("after 10 bad commands: %q", l)
	}
}

// A panic in a command answers BYE, is counted, and leaves the server up.
func TestPanicRecovered(t *testing.T) {
	// Registered before the server starts, removed after it stops.
	commands["XPANIC"] = cmdSpec{fn: func(*conn, *wire.Command) error { panic("test panic") }, states: authState}
	t.Cleanup(func() { delete(commands, "XPANIC") })
	e := newEnv(t, func(o *envOptions) { o.expectPanics = 1 })
	r := e.raw(t)
	r.login("alice@nhs.test")
	r.send("P1 XPANIC\r\n")
	if l := r.line(); l != "* BYE Internal error." {
		t.Errorf("after panic: %q", l)
	}
	r = e.raw(t)
	r.login("alice@nhs.test")
	if got := last(r.cmd("N", "NOOP")); got != "N OK NOOP completed." {
		t.Errorf("server after panic: %q", got)
	}
	if got := testutil.ToFloat64(e.srv.Metrics().commands.WithLabelValues("NOOP", resultOK)); got != 1 {
		t.Errorf("NOOP ok counter %v", got)
	}
}

func TestTimeouts(t *testing.T) {
	e := newEnv(t, func(o *envOptions) {
		o.limits.PreAuthTimeout = 200 * time.Millisecond
		o.limits.IdleTimeout = 300 * time.Millisecond
	})
	r := e.raw(t)
	if l := r.line(); l != "* BYE Autologout; idle for too long." {
		t.Errorf("pre-auth timeout: %q", l)
	}
	r = e.raw(t)
	r.login("alice@nhs.test")
	r.cmd("S", "SELECT INBOX")
	r.send("I IDLE\r\n")
	if l := r.line(); l != "+ idling" {
		t.Fatalf("IDLE: %q", l)
	}
	if l := r.line(); l != "* BYE Autologout; idle for too long." {
		t.Errorf("IDLE timeout: %q", l)
	}
}
