package imapd

import (
	"bufio"
	"compress/flate"
	"strings"
	"testing"
	"time"
)

// deflateConn is a client side of COMPRESS=DEFLATE: it writes through a
// deflater and reads through an inflater, as a mail client does after the
// tagged OK (RFC 4978 3).
type deflateConn struct {
	t  *testing.T
	r  *rawConn
	fw *flate.Writer
	br *bufio.Reader
}

func startDeflate(t *testing.T, r *rawConn) *deflateConn {
	t.Helper()
	if got := last(r.cmd("Z", "COMPRESS DEFLATE")); got != "Z OK DEFLATE active." {
		t.Fatalf("COMPRESS: %q", got)
	}
	fw, err := flate.NewWriter(r.nc, flate.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	return &deflateConn{t: t, r: r, fw: fw, br: bufio.NewReader(flate.NewReader(r.br))}
}

func (d *deflateConn) send(s string) {
	d.t.Helper()
	_ = d.r.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := d.fw.Write([]byte(s)); err != nil {
		d.t.Fatal(err)
	}
	if err := d.fw.Flush(); err != nil {
		d.t.Fatal(err)
	}
}

// line reads one inflated line; the read fails after 5 s if the server kept
// its answer in the compressor.
func (d *deflateConn) line() string {
	d.t.Helper()
	_ = d.r.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	s, err := d.br.ReadString('\n')
	if err != nil {
		d.t.Fatalf("read: %v (got %q)", err, s)
	}
	return strings.TrimSuffix(s, "\r\n")
}

func (d *deflateConn) cmd(tag, command string) []string {
	d.t.Helper()
	d.send(tag + " " + command + "\r\n")
	var out []string
	for {
		l := d.line()
		out = append(out, l)
		if strings.HasPrefix(l, tag+" ") {
			return out
		}
	}
}

// TestCompressDeflate: after COMPRESS DEFLATE both directions are deflate
// streams; commands, literals and IDLE updates go through, each response
// burst flushed out at once (RFC 4978 3, 4).
func TestCompressDeflate(t *testing.T) {
	e := newEnv(t)
	e.deliver(t, e.alice, simpleMsg)
	r := e.raw(t)
	if caps := r.cmd("C", "CAPABILITY")[0]; !strings.Contains(caps+" ", " COMPRESS=DEFLATE ") {
		t.Fatalf("COMPRESS=DEFLATE not advertised: %q", caps)
	}
	r.login("alice@nhs.test")
	if got := last(r.cmd("B", "COMPRESS GZIP")); !strings.HasPrefix(got, "B BAD ") {
		t.Errorf("unknown mechanism: %q", got)
	}
	d := startDeflate(t, r)
	if got := last(d.cmd("A1", "SELECT INBOX")); got != "A1 OK [READ-WRITE] SELECT completed." {
		t.Errorf("SELECT through deflate: %q", got)
	}
	got := d.cmd("A2", "FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
	if !strings.HasPrefix(got[0], "* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {") || !strings.HasPrefix(got[1], "Subject: ") {
		t.Errorf("FETCH through deflate: %q", got)
	}
	if got := last(d.cmd("A3", "COMPRESS DEFLATE")); got != "A3 NO [COMPRESSIONACTIVE] DEFLATE is already active." {
		t.Errorf("second COMPRESS: %q", got)
	}
	// An update during IDLE is a burst of its own: it must come out of
	// the compressor without anything else from the client.
	d.send("A4 IDLE\r\n")
	if l := d.line(); !strings.HasPrefix(l, "+ ") {
		t.Fatalf("IDLE: %q", l)
	}
	e.deliver(t, e.alice, simpleMsg)
	if l := d.line(); l != "* 2 EXISTS" {
		t.Errorf("during IDLE: %q", l)
	}
	d.send("DONE\r\n")
	for l := d.line(); !strings.HasPrefix(l, "A4 "); l = d.line() {
	}
	if got := last(d.cmd("A5", "LOGOUT")); got != "A5 OK LOGOUT completed." {
		t.Errorf("LOGOUT: %q", got)
	}
}

// TestCompressLimit: past MaxCompressed sessions COMPRESS is refused and the
// session goes on uncompressed; a closed compressed session frees its place.
func TestCompressLimit(t *testing.T) {
	e := newEnv(t, func(o *envOptions) { o.limits.MaxCompressed = 1 })
	r1 := e.raw(t)
	r1.login("alice@nhs.test")
	d := startDeflate(t, r1)
	r2 := e.raw(t)
	r2.login("alice@nhs.test")
	if got := last(r2.cmd("Z", "COMPRESS DEFLATE")); !strings.HasPrefix(got, "Z NO [LIMIT] ") {
		t.Fatalf("COMPRESS past the limit: %q", got)
	}
	if got := last(r2.cmd("N", "NOOP")); got != "N OK NOOP completed." {
		t.Errorf("uncompressed after the refusal: %q", got)
	}
	d.cmd("L", "LOGOUT")
	// The server counts the first session out when its connection ends;
	// wait for that by polling the server's count (not a timed assertion).
	for e.srv.compressed.Load() != 0 {
		time.Sleep(time.Millisecond)
	}
	startDeflate(t, r2)
}
