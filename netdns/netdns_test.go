package netdns_test

import (
	"context"
	"net/netip"
	"testing"

	"wardmail/netdns"
	"wardmail/testnet"
)

// The resolver follows dns_resolver: names that exist only in the test
// internet's zones resolve through it.
func TestResolverAsksTheConfiguredServer(t *testing.T) {
	testnet.Need(t, "knotd", "unbound")
	n := testnet.New(t, testnet.Options{})
	dns := n.StartDNS(testnet.Zone{Name: "gp-surgery.test", Records: []testnet.Record{
		testnet.MX("@", 10, "mx.gp-surgery.test"),
		testnet.A("mx", netip.MustParseAddr("127.0.0.5")),
	}})
	r := netdns.Resolver(dns.Resolver())
	mx, err := r.LookupMX(context.Background(), "gp-surgery.test")
	if err != nil {
		t.Fatalf("MX through %s: %v", dns.Resolver(), err)
	}
	if len(mx) != 1 || mx[0].Host != "mx.gp-surgery.test." {
		t.Fatalf("MX = %+v, want mx.gp-surgery.test.", mx)
	}
}
