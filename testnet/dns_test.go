package testnet_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"wardmail/testnet"
)

// The zones of one small internet: a signed domain with a DANE record, an
// unsigned one, and one whose chain of trust is broken.
func dnsZones(long string) []testnet.Zone {
	mx := netip.MustParseAddr("127.0.0.5")
	tlsa := sha256.Sum256([]byte("a server key"))
	return []testnet.Zone{
		{Name: "signed.test", Signed: true, Records: []testnet.Record{
			testnet.MX("@", 10, "mx.signed.test"),
			testnet.A("mx", mx),
			testnet.A("v6", netip.MustParseAddr("::1")),
			testnet.TLSA("_25._tcp.mx", 3, 1, 1, tlsa[:]),
			testnet.TXT("@", "v=spf1 ip4:127.0.0.5 -all"),
			testnet.TXT("sel._domainkey", long),
			testnet.CNAME("alias", "mx.signed.test"),
		}},
		{Name: "plain.test", Records: []testnet.Record{
			testnet.MX("@", 20, "mx2.plain.test"),
			testnet.MX("@", 10, "mx1.plain.test"),
			testnet.A("mx1", netip.MustParseAddr("127.0.0.6")),
			testnet.TXT("_dmarc", `v=DMARC1; p=none; rua=mailto:"dmarc"@plain.test`),
		}},
		{Name: "bogus.test", Bogus: true, Records: []testnet.Record{
			testnet.MX("@", 10, "mx.bogus.test"),
			testnet.A("mx", netip.MustParseAddr("127.0.0.7")),
		}},
	}
}

func TestDNSResolvesZones(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	long := "v=DKIM1; k=rsa; p=" + strings.Repeat("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A", 12)
	d := n.StartDNS(dnsZones(long)...)
	res := d.NetResolver()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	mxs, err := res.LookupMX(ctx, "plain.test")
	if err != nil || len(mxs) != 2 || mxs[0].Host != "mx1.plain.test." || mxs[0].Pref != 10 {
		t.Fatalf("MX plain.test = %v, %v", mxs, err)
	}
	addrs, err := res.LookupNetIP(ctx, "ip4", "mx.signed.test")
	if err != nil || len(addrs) != 1 || addrs[0].String() != "127.0.0.5" {
		t.Fatalf("A mx.signed.test = %v, %v", addrs, err)
	}
	addrs, err = res.LookupNetIP(ctx, "ip6", "v6.signed.test")
	if err != nil || len(addrs) != 1 || addrs[0].String() != "::1" {
		t.Fatalf("AAAA v6.signed.test = %v, %v", addrs, err)
	}
	cname, err := res.LookupCNAME(ctx, "alias.signed.test")
	if err != nil || cname != "mx.signed.test." {
		t.Fatalf("CNAME alias.signed.test = %q, %v", cname, err)
	}
	// A DKIM key longer than 255 bytes is published as several strings,
	// which a reader joins back into the one text.
	txt, err := res.LookupTXT(ctx, "sel._domainkey.signed.test")
	if err != nil || len(txt) != 1 || txt[0] != long {
		t.Fatalf("TXT sel._domainkey = %q, %v", txt, err)
	}
	txt, err = res.LookupTXT(ctx, "_dmarc.plain.test")
	if err != nil || len(txt) != 1 || txt[0] != `v=DMARC1; p=none; rua=mailto:"dmarc"@plain.test` {
		t.Fatalf("TXT _dmarc.plain.test = %q, %v", txt, err)
	}
	if _, err := res.LookupMX(ctx, "nowhere.test"); err == nil {
		t.Fatal("a name in no zone resolved")
	}

	r, err := d.Query("_25._tcp.mx.signed.test", "TLSA")
	if err != nil {
		t.Fatal(err)
	}
	tlsa := sha256.Sum256([]byte("a server key"))
	want := "3 1 1 " + hex.EncodeToString(tlsa[:])
	if got := r.Values("TLSA"); len(got) != 1 || got[0] != want {
		t.Fatalf("TLSA = %v, want %s", got, want)
	}
}

// A signed zone validates through the test root (AD=1); an unsigned one is
// answered without AD; a zone whose DS matches none of its keys is refused
// (SERVFAIL), as a DANE client must see it.
func TestDNSValidation(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	d := n.StartDNS(dnsZones("v=DKIM1; p=")...)
	test := func(name, rrType string, rcode int, ad bool, values ...string) {
		t.Helper()
		r, err := d.Query(name, rrType)
		if err != nil {
			t.Fatal(err)
		}
		if r.RCode != rcode || r.AD != ad {
			t.Errorf("%s %s: rcode %d AD %v, want rcode %d AD %v", name, rrType, r.RCode, r.AD, rcode, ad)
		}
		if got := r.Values(rrType); !slices.Equal(got, values) {
			t.Errorf("%s %s = %q, want %q", name, rrType, got, values)
		}
	}
	test("mx.signed.test", "A", testnet.RCodeSuccess, true, "127.0.0.5")
	test("signed.test", "MX", testnet.RCodeSuccess, true, "10 mx.signed.test.")
	test("nothing.signed.test", "A", testnet.RCodeNXDomain, true)
	test("mx1.plain.test", "A", testnet.RCodeSuccess, false, "127.0.0.6")
	test("mx.bogus.test", "A", testnet.RCodeServFail, false)
	test("bogus.test", "MX", testnet.RCodeServFail, false)
}

// A record changed while the test runs is what the next lookup sees, in a
// signed zone too (Knot signs the change), and a zone added later resolves.
func TestDNSChangesWhileRunning(t *testing.T) {
	n := testnet.New(t, testnet.Options{})
	zones := dnsZones("v=DKIM1; p=")
	d := n.StartDNS(zones...)
	test := func(name string, ad bool, want ...string) {
		t.Helper()
		r, err := d.Query(name, "TXT")
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Values("TXT"); !slices.Equal(got, want) || r.AD != ad {
			t.Errorf("TXT %s = %q AD %v rcode %d, want %q AD %v", name, got, r.AD, r.RCode, want, ad)
		}
	}
	test("_dmarc.signed.test", true)
	d.AddRecords("signed.test", testnet.TXT("_dmarc", "v=DMARC1; p=none"))
	test("_dmarc.signed.test", true, "v=DMARC1; p=none")

	signed := zones[0]
	signed.Records = append(slices.Clone(signed.Records), testnet.TXT("_dmarc", "v=DMARC1; p=reject"))
	d.SetZone(signed)
	test("_dmarc.signed.test", true, "v=DMARC1; p=reject")

	d.SetZone(testnet.Zone{Name: "later.test", Signed: true, Records: []testnet.Record{testnet.TXT("@", "hello")}})
	test("later.test", true, "hello")

	// Breaking a zone's chain of trust while running is seen too.
	signed.Bogus = true
	d.SetZone(signed)
	r, err := d.Query("_dmarc.signed.test", "TXT")
	if err != nil || r.RCode != testnet.RCodeServFail {
		t.Fatalf("after the DS broke: %+v, %v", r, err)
	}
}
