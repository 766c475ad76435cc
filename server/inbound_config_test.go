package server

import (
	"strings"
	"testing"
)

func TestInboundConfigKeys(t *testing.T) {
	cfg := Defaults()
	if cfg.Inbound.Off || len(cfg.Inbound.TrustedRelays) != 2 {
		t.Fatalf("defaults: %+v", cfg.Inbound)
	}
	file := "inbound_auth = off\ninbound_trusted_networks = 192.0.2.0/24, 2001:db8::1\n" +
		"inbound_arc_trusted_sealers = lists.example.org, forwarder.example\ninbound_subject_tag = [EXTERNAL]\n"
	if err := Parse(strings.NewReader(file), "f", &cfg); err != nil {
		t.Fatal(err)
	}
	if !cfg.Inbound.Off || len(cfg.Inbound.TrustedRelays) != 2 || cfg.Inbound.TrustedRelays[1].String() != "2001:db8::1/128" ||
		len(cfg.Inbound.TrustedSealers) != 2 || cfg.Inbound.SubjectTag != "[EXTERNAL]" {
		t.Fatalf("parsed: %+v", cfg.Inbound)
	}
	for _, bad := range []string{"inbound_auth = maybe", "inbound_trusted_networks = 10.0.0.0/99"} {
		if err := Parse(strings.NewReader(bad), "f", &cfg); err == nil || !strings.HasPrefix(err.Error(), "f:1: inbound_") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if err := Parse(strings.NewReader("inbound_trusted_networks =\n"), "f", &cfg); err != nil || len(cfg.Inbound.TrustedRelays) != 0 {
		t.Errorf("an empty list trusts nobody: %v %v", err, cfg.Inbound.TrustedRelays)
	}
}
