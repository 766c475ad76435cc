package testnet

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"wardmail/freeport"
)

// DNS is the test internet's DNS: Knot serving the zones and a signed test
// root, Unbound resolving and validating in front of it.
type DNS struct {
	n           *Net
	dir         string
	knotPort    int
	unboundPort int
	knot        *proc
	unbound     *proc

	mu      sync.Mutex
	zones   map[string]*zoneState
	rootKey []byte // the root's key-signing DNSKEY RDATA: Unbound's only trust anchor
	rootSer uint32
}

type zoneState struct {
	zone   Zone
	serial uint32
	ds     string // the DS line the root publishes for it, "" when unsigned
}

// StartDNS starts Knot and Unbound with the zones. It is called once per
// Net; zones can be added and changed later with SetZone.
func (n *Net) StartDNS(zones ...Zone) *DNS {
	n.t.Helper()
	Need(n.t, "knotd", "knotc", "unbound", "unbound-control")
	n.mu.Lock()
	if n.dns != nil {
		n.mu.Unlock()
		n.t.Fatal("testnet: StartDNS called twice")
	}
	n.mu.Unlock()
	d, err := n.startDNS(zones)
	if err != nil {
		n.t.Fatal(err)
	}
	n.mu.Lock()
	n.dns = d
	n.mu.Unlock()
	return d
}

func (n *Net) startDNS(zones []Zone) (*DNS, error) {
	d := &DNS{n: n, dir: filepath.Join(n.dir, "dns"), zones: map[string]*zoneState{}, rootSer: 1}
	for _, sub := range []string{"zones", "keys", "unbound"} {
		if err := os.MkdirAll(filepath.Join(d.dir, sub), 0o755); err != nil {
			return nil, err
		}
	}
	var err error
	if d.knotPort, err = freeport.Get(); err != nil {
		return nil, err
	}
	if d.unboundPort, err = n.resolverPort(); err != nil {
		return nil, err
	}
	for _, z := range zones {
		z.Name = normZone(z.Name)
		if _, dup := d.zones[z.Name]; dup || z.Name == "" {
			return nil, fmt.Errorf("testnet: zone %q given twice or empty", z.Name)
		}
		d.zones[z.Name] = &zoneState{zone: z, serial: 1}
		if err := d.writeZone(d.zones[z.Name]); err != nil {
			return nil, err
		}
	}
	if err := d.writeRoot(); err != nil {
		return nil, err
	}
	if err := d.writeKnotConf(); err != nil {
		return nil, err
	}
	d.knot, err = n.start("knotd", nil, "knotd", "-c", d.knotConf())
	if err != nil {
		return nil, err
	}
	// Knot signs each zone as it loads it; its DNSKEYs are then served.
	if err := d.knot.waitFor(func() bool { return d.knotKey(".") != nil }); err != nil {
		return nil, err
	}
	d.rootKey = d.knotKey(".")
	for _, zs := range d.zones {
		if err := d.publishDS(zs); err != nil {
			return nil, err
		}
	}
	if err := d.reloadRoot(); err != nil {
		return nil, err
	}
	if err := d.writeUnboundConf(); err != nil {
		return nil, err
	}
	d.unbound, err = n.start("unbound", nil, "unbound", "-d", "-c", d.unboundConf())
	if err != nil {
		return nil, err
	}
	// Ready when the root's SOA comes back validated: the trust anchor works.
	if err := d.unbound.waitFor(func() bool {
		r, err := d.Query(".", "SOA")
		return err == nil && r.RCode == RCodeSuccess && r.AD
	}); err != nil {
		return nil, err
	}
	return d, nil
}

func normZone(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) }

// Resolver is the address (host:port) of the validating resolver: what
// Wardmail's dns_resolver is set to.
func (d *DNS) Resolver() string { return fmt.Sprintf("127.0.0.1:%d", d.unboundPort) }

// Authoritative is the address of Knot itself, for a test that wants the
// zone's own answer without a resolver's cache or validation.
func (d *DNS) Authoritative() string { return fmt.Sprintf("127.0.0.1:%d", d.knotPort) }

// NetResolver is a Go resolver that asks only the test resolver.
func (d *DNS) NetResolver() *net.Resolver {
	addr := d.Resolver()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var dialer net.Dialer
		return dialer.DialContext(ctx, network, addr)
	}}
}

// Query asks the test resolver for one record type, over TCP, and says
// whether the answer validated (AD).
func (d *DNS) Query(name, rrType string) (*Reply, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return query(ctx, d.Resolver(), name, rrType)
}

// SetZone replaces a zone's records (or adds the zone) while everything
// runs: Knot reloads it (and signs it again), the root's DS follows, and
// Unbound's cache is emptied so that the next lookup sees the change.
func (d *DNS) SetZone(z Zone) {
	d.n.t.Helper()
	if err := d.setZone(z); err != nil {
		d.n.t.Fatal(err)
	}
}

// AddRecords adds records to a zone that exists.
func (d *DNS) AddRecords(zone string, records ...Record) {
	d.n.t.Helper()
	d.mu.Lock()
	zs, ok := d.zones[normZone(zone)]
	var z Zone
	if ok {
		z = zs.zone
		z.Records = append(slices.Clone(z.Records), records...)
	}
	d.mu.Unlock()
	if !ok {
		d.n.t.Fatalf("testnet: no zone %q", zone)
	}
	d.SetZone(z)
}

func (d *DNS) setZone(z Zone) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	z.Name = normZone(z.Name)
	zs, exists := d.zones[z.Name]
	confChanged := !exists || zs.zone.Signed != z.Signed || zs.zone.Bogus != z.Bogus
	if !exists {
		zs = &zoneState{}
		d.zones[z.Name] = zs
	}
	zs.zone = z
	zs.serial++
	if err := d.writeZone(zs); err != nil {
		return err
	}
	if confChanged {
		if err := d.writeKnotConf(); err != nil {
			return err
		}
		if _, err := run("knotc", "-c", d.knotConf(), "reload"); err != nil {
			return err
		}
	}
	if err := d.knotc("zone-reload", fqdn(z.Name)); err != nil {
		return err
	}
	if z.Signed || z.Bogus {
		if err := d.knot.waitFor(func() bool { return d.knotKey(z.Name) != nil }); err != nil {
			return err
		}
	}
	old := zs.ds
	if err := d.publishDS(zs); err != nil {
		return err
	}
	if confChanged || old != zs.ds {
		d.rootSer++
		if err := d.writeRoot(); err != nil {
			return err
		}
		if err := d.reloadRoot(); err != nil {
			return err
		}
	}
	if !exists {
		if _, err := run("unbound-control", "-c", d.unboundConf(), "stub_add", fqdn(z.Name), fmt.Sprintf("127.0.0.1@%d", d.knotPort)); err != nil {
			return err
		}
	}
	return d.flush()
}

// flush empties Unbound's caches (answers, keys, bogus and negative
// answers, server state), so that a change made a moment ago is seen.
func (d *DNS) flush() error {
	for _, args := range [][]string{{"flush_zone", "."}, {"flush_bogus"}, {"flush_negative"}, {"flush_infra", "all"}} {
		if _, err := run("unbound-control", append([]string{"-c", d.unboundConf()}, args...)...); err != nil {
			return err
		}
	}
	return nil
}

// knotc runs a zone command and waits for Knot to finish it (-b), retrying
// while Knot has not yet taken in a zone that a configuration reload added.
func (d *DNS) knotc(args ...string) error {
	var err error
	for range 50 {
		if _, err = run("knotc", append([]string{"-c", d.knotConf(), "-b"}, args...)...); err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return err
}

func (d *DNS) reloadRoot() error {
	if err := d.writeRoot(); err != nil {
		return err
	}
	return d.knotc("zone-reload", ".")
}

// knotKey is the zone's key-signing DNSKEY (flags 257) as Knot serves it.
func (d *DNS) knotKey(zone string) []byte {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	r, err := query(ctx, d.Authoritative(), fqdn(zone), "DNSKEY")
	if err != nil || r.RCode != RCodeSuccess {
		return nil
	}
	for _, rr := range r.Answer {
		if rr.Type == "DNSKEY" && dnskeyFlags(rr.rdata) == 257 {
			return rr.rdata
		}
	}
	return nil
}

// publishDS works out the DS line the root holds for a zone.
func (d *DNS) publishDS(zs *zoneState) error {
	zs.ds = ""
	if !zs.zone.Signed && !zs.zone.Bogus {
		return nil
	}
	key := d.knotKey(zs.zone.Name)
	if key == nil {
		if err := d.knot.waitFor(func() bool { key = d.knotKey(zs.zone.Name); return key != nil }); err != nil {
			return err
		}
	}
	if zs.zone.Bogus {
		zs.ds = bogusDS(zs.zone.Name, key)
		return nil
	}
	ds, err := dsRecord(zs.zone.Name, key)
	zs.ds = ds
	return err
}

func (d *DNS) writeZone(zs *zoneState) error {
	path := filepath.Join(d.dir, "zones", zs.zone.Name+".zone")
	return os.WriteFile(path, []byte(zoneFile(zs.zone, zs.serial, nil)), 0o644)
}

// writeRoot writes the test root: a delegation to every zone, with the DS
// of each signed one (RFC 4035 section 2.4).
func (d *DNS) writeRoot() error {
	lines := []string{"ns.testnet. 60 A 127.0.0.1"}
	for _, name := range slices.Sorted(mapKeys(d.zones)) {
		zs := d.zones[name]
		lines = append(lines, fqdn(name)+" 60 NS ns.testnet.")
		if zs.ds != "" {
			lines = append(lines, zs.ds)
		}
	}
	text := zoneFile(Zone{Name: ""}, d.rootSer, lines)
	return os.WriteFile(filepath.Join(d.dir, "zones", "root.zone"), []byte(text), 0o644)
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func (d *DNS) knotConf() string    { return filepath.Join(d.dir, "knot.conf") }
func (d *DNS) unboundConf() string { return filepath.Join(d.dir, "unbound", "unbound.conf") }

func (d *DNS) writeKnotConf() error {
	var b strings.Builder
	fmt.Fprintf(&b, `server:
    rundir: %q
    listen: 127.0.0.1@%d
database:
    storage: %q
    kasp-db: %q
control:
    listen: %q
log:
  - target: stderr
    any: info
policy:
  - id: test
    algorithm: ecdsap256sha256
    single-type-signing: on
    nsec3: off
template:
  - id: default
    storage: %q
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
    semantic-checks: off
zone:
  - domain: "."
    file: root.zone
    dnssec-signing: on
    dnssec-policy: test
`, d.dir, d.knotPort, d.dir, filepath.Join(d.dir, "keys"), filepath.Join(d.dir, "knot.sock"), filepath.Join(d.dir, "zones"))
	for _, name := range slices.Sorted(mapKeys(d.zones)) {
		z := d.zones[name].zone
		fmt.Fprintf(&b, "  - domain: %q\n    file: %q\n", fqdn(name), name+".zone")
		if z.Signed || z.Bogus {
			b.WriteString("    dnssec-signing: on\n    dnssec-policy: test\n")
		}
	}
	return os.WriteFile(d.knotConf(), []byte(b.String()), 0o644)
}

func (d *DNS) writeUnboundConf() error {
	var b strings.Builder
	key, err := rdataString(d.rootKey, 0, len(d.rootKey), rrTypes["DNSKEY"])
	if err != nil {
		return err
	}
	dir := filepath.Join(d.dir, "unbound")
	fmt.Fprintf(&b, `server:
    interface: 127.0.0.1
    port: %d
    do-ip6: no
    username: ""
    chroot: ""
    directory: %q
    pidfile: %q
    use-syslog: no
    logfile: ""
    verbosity: 1
    val-log-level: 2
    num-threads: 1
    do-not-query-localhost: no
    qname-minimisation: no
    module-config: "validator iterator"
    trust-anchor: ". DNSKEY %s"
    local-zone: "test." nodefault
    local-zone: "invalid." nodefault
    local-zone: "example." nodefault
    local-zone: "127.in-addr.arpa." nodefault
remote-control:
    control-enable: yes
    control-interface: %q
    control-use-cert: no
stub-zone:
    name: "."
    stub-addr: 127.0.0.1@%d
`, d.unboundPort, dir, filepath.Join(dir, "unbound.pid"), key, filepath.Join(dir, "unbound.ctl"), d.knotPort)
	for _, name := range slices.Sorted(mapKeys(d.zones)) {
		fmt.Fprintf(&b, "stub-zone:\n    name: %q\n    stub-addr: 127.0.0.1@%d\n", fqdn(name), d.knotPort)
	}
	return os.WriteFile(d.unboundConf(), []byte(b.String()), 0o644)
}
