package server_test

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"wardmail/scan/scantest"
	"wardmail/server"
	"wardmail/store"
)

// BenchmarkInboundScan is the latency a message from outside takes on the
// inbound door, from MAIL FROM to the 250 after DATA, one message after
// another on one connection: without engines (blocked types only), with
// clamd, with Rspamd, and with both (asked at once). The differences are
// what each engine adds per message. A 6 KB message with a small PDF-like
// attachment; it prints ms/msg and does not assert on time.
//
//	go test ./server -run '^$' -bench BenchmarkInboundScan -benchtime 200x
func BenchmarkInboundScan(b *testing.B) {
	clam := scantest.Clamd(b, "")
	rsp := scantest.Rspamd(b)
	msg := strings.ReplaceAll(attachmentMessage("Clinic letter", "letter.pdf", []byte("%PDF-1.4\n"+strings.Repeat("stream of the letter ", 200))), "\r\n", "\n")
	for _, c := range []struct {
		name          string
		clamd, rspamd bool
	}{{"none", false, false}, {"clamd", true, false}, {"rspamd", false, true}, {"both", true, true}} {
		b.Run(c.name, func(b *testing.B) {
			var cl, rs *scantest.Daemon
			if c.clamd {
				cl = clam
			}
			if c.rspamd {
				rs = rsp
			}
			e := startScanBench(b, cl, rs)
			conn, err := smtp.Dial(e.Addrs["smtp"])
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			if err := conn.Hello("mail.outside.example"); err != nil {
				b.Fatal(err)
			}
			send := func() {
				if err := conn.Mail("sender@outside.example", nil); err != nil {
					b.Fatal(err)
				}
				if err := conn.Rcpt("amira@nhs.test", nil); err != nil {
					b.Fatal(err)
				}
				w, err := conn.Data()
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.WriteString(w, msg); err != nil {
					b.Fatal(err)
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
			send() // warm: the first scan loads what each engine loads lazily
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				send()
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/msg")
		})
	}
}

// startScanBench is a server with the engines given, sender limits off.
func startScanBench(b *testing.B, clamd, rspamd *scantest.Daemon) *server.Server {
	b.Helper()
	cfg := server.Defaults()
	cfg.DataDir = b.TempDir()
	cfg.Hostname = "mx.nhs.test"
	cfg.SMTPAddr, cfg.SubmissionAddr, cfg.IMAPAddr, cfg.HTTPAddr = "127.0.0.1:0", "", "", ""
	cfg.SenderLimitsOff = true
	if clamd != nil {
		cfg.Scan.ClamdAddr = clamd.Addr
	}
	if rspamd != nil {
		cfg.Scan.RspamdURL = rspamd.Addr
		cfg.Scan.JunkScore, cfg.Scan.QuarantineScore = 1000, 1000 // every message to the INBOX: the same store work in each case
	}
	srv, err := server.Start(b.Context(), cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Close() })
	if _, _, err := srv.Store.UpsertPeople(b.Context(), []store.PersonRecord{{Email: "amira@nhs.test", Name: "Amira", Org: leeds}}); err != nil {
		b.Fatal(err)
	}
	return srv
}
