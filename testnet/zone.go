package testnet

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"
)

// Zone is a DNS zone served by the test internet's Knot.
type Zone struct {
	Name string // "example.test"
	// Signed zones are signed by Knot (an ECDSA P-256 key made for the run,
	// NSEC) and get a DS in the test root, so answers from them validate.
	Signed bool
	// Bogus zones are signed, but the test root's DS for them matches none of
	// their keys, as after a botched key roll-over: a validating resolver
	// answers SERVFAIL for every name in them (RFC 4035 section 5.5).
	Bogus   bool
	Records []Record
}

// Record is one resource record. Name is relative to the zone ("@", "mx",
// "_dmarc") or a full name inside it ("mx.example.test"). Data is in zone file
// form, except for TXT, where it is the text itself: testnet splits it into
// strings of at most 255 bytes (RFC 1035 section 3.3.14) and quotes them.
type Record struct {
	Name string
	Type string
	TTL  int // seconds; 0 means 60
	Data string
}

// A is an address record.
func A(name string, addr netip.Addr) Record {
	if addr.Is6() && !addr.Is4In6() {
		return Record{Name: name, Type: "AAAA", Data: addr.String()}
	}
	return Record{Name: name, Type: "A", Data: addr.Unmap().String()}
}

// MX is a mail exchanger record; host is a full name.
func MX(name string, pref int, host string) Record {
	return Record{Name: name, Type: "MX", Data: fmt.Sprintf("%d %s", pref, fqdn(host))}
}

// TXT is a text record (SPF, DKIM keys, DMARC, MTA-STS, TLS-RPT).
func TXT(name, text string) Record { return Record{Name: name, Type: "TXT", Data: text} }

// CNAME is an alias to a full name.
func CNAME(name, target string) Record {
	return Record{Name: name, Type: "CNAME", Data: fqdn(target)}
}

// PTR is a reverse-mapping record to a full name.
func PTR(name, target string) Record { return Record{Name: name, Type: "PTR", Data: fqdn(target)} }

// TLSA is a DANE record (RFC 6698 section 2), e.g. TLSA("_25._tcp.mx", 3, 1,
// 1, sha256 of the server key's SubjectPublicKeyInfo).
func TLSA(name string, usage, selector, matching int, data []byte) Record {
	return Record{Name: name, Type: "TLSA",
		Data: fmt.Sprintf("%d %d %d %s", usage, selector, matching, hex.EncodeToString(data))}
}

func fqdn(name string) string { return strings.TrimSuffix(name, ".") + "." }

// owner is a record's name in full, with the trailing dot.
func owner(zone, name string) string {
	name = strings.TrimSuffix(name, ".")
	zone = strings.TrimSuffix(zone, ".")
	switch {
	case name == "@" || name == "":
		return zone + "."
	case zone == "":
		return name + "."
	case strings.EqualFold(name, zone) || strings.HasSuffix(strings.ToLower(name), "."+strings.ToLower(zone)):
		return name + "."
	}
	return name + "." + zone + "."
}

// zoneFile renders a zone in the format of RFC 1035 section 5, which Knot reads.
func zoneFile(z Zone, serial uint32, extra []string) string {
	var b strings.Builder
	apex := owner(z.Name, "@")
	fmt.Fprintf(&b, "$ORIGIN %s\n$TTL 60\n", apex)
	fmt.Fprintf(&b, "%s 60 SOA ns.testnet. hostmaster.testnet. %d 3600 600 86400 10\n", apex, serial)
	fmt.Fprintf(&b, "%s 60 NS ns.testnet.\n", apex)
	for _, r := range z.Records {
		ttl := r.TTL
		if ttl == 0 {
			ttl = 60
		}
		data := r.Data
		if strings.EqualFold(r.Type, "TXT") {
			data = quoteTXT(r.Data)
		}
		fmt.Fprintf(&b, "%s %d %s %s\n", owner(z.Name, r.Name), ttl, strings.ToUpper(r.Type), data)
	}
	for _, line := range extra {
		b.WriteString(line + "\n")
	}
	return b.String()
}

// quoteTXT splits text into character-strings of at most 255 bytes, each
// quoted, with quotes, backslashes and unprintable bytes escaped.
func quoteTXT(text string) string {
	if text == "" {
		return `""`
	}
	var parts []string
	for len(text) > 0 {
		chunk := text[:min(255, len(text))]
		text = text[len(chunk):]
		var b strings.Builder
		b.WriteByte('"')
		for i := 0; i < len(chunk); i++ {
			c := chunk[i]
			switch {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c < 0x20 || c > 0x7e:
				fmt.Fprintf(&b, "\\%03d", c)
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte('"')
		parts = append(parts, b.String())
	}
	return strings.Join(parts, " ")
}

// dsRecord is the DS record (RFC 4034 section 5.1, SHA-256 digest: RFC
// 4509) of a DNSKEY whose RDATA is rdata, for the zone.
func dsRecord(zone string, rdata []byte) (string, error) {
	if len(rdata) < 4 {
		return "", errShort
	}
	wire, err := nameWire(zone)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(append(wire, rdata...))
	return fmt.Sprintf("%s 60 DS %d %d 2 %s", fqdn(zone), keyTag(rdata), rdata[3], hex.EncodeToString(sum[:])), nil
}

// keyTag is RFC 4034 Appendix B.
func keyTag(rdata []byte) uint16 {
	var ac uint32
	for i, b := range rdata {
		if i&1 == 1 {
			ac += uint32(b)
		} else {
			ac += uint32(b) << 8
		}
	}
	ac += ac >> 16 & 0xffff
	return uint16(ac)
}

// bogusDS is a DS that points at no key of the zone: the right key tag and
// algorithm, a digest of nothing.
func bogusDS(zone string, rdata []byte) string {
	sum := sha256.Sum256([]byte("no key has this digest"))
	return fmt.Sprintf("%s 60 DS %d %d 2 %s", fqdn(zone), keyTag(rdata), rdata[3], hex.EncodeToString(sum[:]))
}

// dnskeyFlags is the flags field of a DNSKEY's RDATA.
func dnskeyFlags(rdata []byte) uint16 { return binary.BigEndian.Uint16(rdata) }
