package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-smtp"

	"wardmail/server"
	"wardmail/store"
	"wardmail/testnet"
)

// BenchmarkInboundAuth delivers DKIM-signed (RSA-2048) messages from a host
// that clinic.test's SPF names, with a DMARC p=reject record, over 8 SMTP
// sessions to Wardmail's inbound door, with sender authentication off and
// on. DNS is answered by the test internet's Unbound (in front of Knot);
// Wardmail's TXT cache is warmed by the first messages. It prints
// messages/s for each; compare the two (docs/benchmarks.md):
//
//	WARDMAIL_TESTNET=require go test ./server/ -run XXX -bench InboundAuth -benchtime 3000x
func BenchmarkInboundAuth(b *testing.B) {
	n := testnet.New(b, testnet.Options{})
	testnet.Need(b, "knotd", "unbound")
	sender, wardHost := n.Host(), n.Host()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	d := n.StartDNS(
		testnet.Zone{Name: "clinic.test", Records: []testnet.Record{
			testnet.TXT("@", "v=spf1 ip4:"+sender.String()+" -all"),
			testnet.TXT("_dmarc", "v=DMARC1; p=reject"),
			testnet.TXT("bench._domainkey", "v=DKIM1; k=rsa; p="+base64.StdEncoding.EncodeToString(pub)),
		}},
		testnet.Zone{Name: "nhs.test", Records: []testnet.Record{testnet.MX("@", 10, "mx.nhs.test"), testnet.A("mx", wardHost)}},
	)
	const people = 50
	body := strings.Repeat("Results attached; please review before the ward round.\r\n", 30) // ~1.7 KB
	msgs := make([][]byte, 256)
	for i := range msgs {
		raw := fmt.Sprintf("From: Dr Gita Patel <gp@clinic.test>\r\nTo: p%d@nhs.test\r\nSubject: results %d\r\n"+
			"Date: Tue, 01 Dec 2026 09:00:00 +0000\r\nMessage-ID: <b%d@clinic.test>\r\n\r\n%s", i%people, i, i, body)
		var signed bytes.Buffer
		if err := dkim.Sign(&signed, strings.NewReader(raw), &dkim.SignOptions{Domain: "clinic.test", Selector: "bench", Signer: key}); err != nil {
			b.Fatal(err)
		}
		msgs[i] = signed.Bytes()
	}
	for _, mode := range []string{"off", "on"} {
		b.Run(mode, func(b *testing.B) {
			cfg := server.Defaults()
			cfg.DataDir = b.TempDir()
			cfg.Hostname = "mx.nhs.test"
			cfg.SMTPAddr = netip.AddrPortFrom(wardHost, uint16(n.Port)).String()
			cfg.SubmissionAddr, cfg.IMAPAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
			cfg.DNSResolver = d.Resolver()
			cfg.LocalDomains = []string{"nhs.test"}
			cfg.SenderLimitsOff = true
			if err := cfg.Set("inbound_auth", mode); err != nil {
				b.Fatal(err)
			}
			srv, err := server.Start(context.Background(), cfg, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Close()
			var recs []store.PersonRecord
			for i := 0; i < people; i++ {
				recs = append(recs, store.PersonRecord{Email: fmt.Sprintf("p%d@nhs.test", i), Name: fmt.Sprintf("Person %d", i), Org: leeds})
			}
			if _, _, err := srv.Store.UpsertPeople(context.Background(), recs); err != nil {
				b.Fatal(err)
			}
			send := func(count int) {
				const clients = 8
				var wg sync.WaitGroup
				errs := make(chan error, clients)
				for c := 0; c < clients; c++ {
					wg.Add(1)
					go func(c int) {
						defer wg.Done()
						dl := net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: sender.AsSlice()}}
						conn, err := dl.Dial("tcp", srv.Addrs["smtp"])
						if err != nil {
							errs <- err
							return
						}
						cl := smtp.NewClient(conn)
						defer cl.Close()
						if err := cl.Hello("mx.clinic.test"); err != nil {
							errs <- err
							return
						}
						for i := c; i < count; i += clients {
							m := msgs[i%len(msgs)]
							if err := cl.SendMail("gp@clinic.test", []string{fmt.Sprintf("p%d@nhs.test", (i%len(msgs))%people)}, bytes.NewReader(m)); err != nil {
								errs <- err
								return
							}
						}
					}(c)
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					b.Fatal(err)
				}
			}
			send(64) // warm the TXT cache, the store and the connections' code paths
			b.ResetTimer()
			start := time.Now()
			send(b.N)
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
			// The time of the checks themselves, DNS included, from the
			// histogram the server exports.
			mfs, err := srv.Registry.Gather()
			if err != nil {
				b.Fatal(err)
			}
			for _, mf := range mfs {
				if mf.GetName() == "wardmail_inbound_auth_seconds" {
					h := mf.GetMetric()[0].GetHistogram()
					b.ReportMetric(h.GetSampleSum()/float64(h.GetSampleCount())*1000, "ms/check")
				}
			}
		})
	}
}
