package testnet

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"time"
)

// A tiny DNS client (RFC 1035 section 4) over TCP: enough to read the AD bit
// and the record types the standard library cannot look up (TLSA, DNSKEY),
// without a DNS library among Wardmail's dependencies.

var rrTypes = map[string]uint16{
	"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28,
	"SRV": 33, "DS": 43, "RRSIG": 46, "DNSKEY": 48, "TLSA": 52, "CAA": 257,
}

func typeName(t uint16) string {
	for name, v := range rrTypes {
		if v == t {
			return name
		}
	}
	return fmt.Sprintf("TYPE%d", t)
}

// RCodes (RFC 1035 section 4.1.1).
const (
	RCodeSuccess  = 0
	RCodeServFail = 2
	RCodeNXDomain = 3
)

// RR is one resource record of an answer. Data is its presentation form:
// an address, "10 mx.example.test." for MX, the joined strings of a TXT,
// "3 1 1 hex" for TLSA, "257 3 13 base64" for DNSKEY.
type RR struct {
	Name  string
	Type  string
	TTL   uint32
	Data  string
	rdata []byte
}

// Reply is what a resolver answered.
type Reply struct {
	RCode  int
	AD     bool // authenticated data: the resolver validated the answer (RFC 4035 section 3.2.3)
	Answer []RR
}

// Values returns the Data of the answer records of one type.
func (r *Reply) Values(rrType string) []string {
	var out []string
	for _, rr := range r.Answer {
		if rr.Type == rrType {
			out = append(out, rr.Data)
		}
	}
	return out
}

// query asks server (host:port) over TCP. The query sets AD, which asks a
// validating resolver to say whether it validated (RFC 6840 section 5.7).
func query(ctx context.Context, server, name, rrType string) (*Reply, error) {
	qtype, ok := rrTypes[rrType]
	if !ok {
		return nil, fmt.Errorf("testnet: unknown record type %q", rrType)
	}
	msg, id, err := buildQuery(name, qtype)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", server)
	if err != nil {
		return nil, err
	}
	defer func() { _ = conn.Close() }()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(10 * time.Second)
	}
	_ = conn.SetDeadline(deadline)
	framed := binary.BigEndian.AppendUint16(nil, uint16(len(msg)))
	if _, err := conn.Write(append(framed, msg...)); err != nil {
		return nil, err
	}
	var l [2]byte
	if _, err := io.ReadFull(conn, l[:]); err != nil {
		return nil, err
	}
	resp := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(conn, resp); err != nil {
		return nil, err
	}
	return parseReply(resp, id)
}

func buildQuery(name string, qtype uint16) ([]byte, uint16, error) {
	id := uint16(rand.Uint32())
	// Header: RD and AD set, one question, one OPT record (EDNS0, RFC 6891).
	msg := []byte{byte(id >> 8), byte(id), 0x01, 0x20, 0, 1, 0, 0, 0, 0, 0, 1}
	wire, err := nameWire(name)
	if err != nil {
		return nil, 0, err
	}
	msg = append(msg, wire...)
	msg = binary.BigEndian.AppendUint16(msg, qtype)
	msg = binary.BigEndian.AppendUint16(msg, 1) // IN
	// OPT: root name, type 41, UDP size 1232, no extended flags, no options.
	msg = append(msg, 0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0)
	return msg, id, nil
}

// nameWire is a domain name in wire form, lower-cased (the canonical form
// of RFC 4034 section 6.2, which DS digests need).
func nameWire(name string) ([]byte, error) {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	var out []byte
	if name != "" {
		for _, label := range strings.Split(name, ".") {
			if label == "" || len(label) > 63 {
				return nil, fmt.Errorf("testnet: bad name %q", name)
			}
			out = append(out, byte(len(label)))
			out = append(out, label...)
		}
	}
	return append(out, 0), nil
}

var errShort = errors.New("testnet: short DNS message")

func parseReply(msg []byte, id uint16) (*Reply, error) {
	if len(msg) < 12 {
		return nil, errShort
	}
	if binary.BigEndian.Uint16(msg) != id {
		return nil, errors.New("testnet: DNS reply to another query")
	}
	r := &Reply{RCode: int(msg[3] & 0x0f), AD: msg[3]&0x20 != 0}
	qd, an := int(binary.BigEndian.Uint16(msg[4:])), int(binary.BigEndian.Uint16(msg[6:]))
	off := 12
	for range qd {
		_, next, err := readName(msg, off)
		if err != nil {
			return nil, err
		}
		off = next + 4
	}
	for range an {
		name, next, err := readName(msg, off)
		if err != nil {
			return nil, err
		}
		if next+10 > len(msg) {
			return nil, errShort
		}
		rtype := binary.BigEndian.Uint16(msg[next:])
		ttl := binary.BigEndian.Uint32(msg[next+4:])
		rdlen := int(binary.BigEndian.Uint16(msg[next+8:]))
		start := next + 10
		if start+rdlen > len(msg) {
			return nil, errShort
		}
		rr := RR{Name: name, Type: typeName(rtype), TTL: ttl, rdata: msg[start : start+rdlen]}
		rr.Data, err = rdataString(msg, start, rdlen, rtype)
		if err != nil {
			return nil, err
		}
		r.Answer = append(r.Answer, rr)
		off = start + rdlen
	}
	return r, nil
}

// readName reads a possibly compressed name (RFC 1035 section 4.1.4) and
// returns it with a trailing dot, and the offset just after it.
func readName(msg []byte, off int) (string, int, error) {
	var labels []string
	next := -1
	for hops := 0; ; hops++ {
		if off >= len(msg) || hops > 64 {
			return "", 0, errShort
		}
		l := int(msg[off])
		switch {
		case l == 0:
			if next < 0 {
				next = off + 1
			}
			return strings.Join(labels, ".") + ".", next, nil
		case l&0xc0 == 0xc0:
			if off+1 >= len(msg) {
				return "", 0, errShort
			}
			if next < 0 {
				next = off + 2
			}
			off = int(binary.BigEndian.Uint16(msg[off:]) & 0x3fff)
		default:
			if off+1+l > len(msg) {
				return "", 0, errShort
			}
			labels = append(labels, string(msg[off+1:off+1+l]))
			off += 1 + l
		}
	}
}

func rdataString(msg []byte, start, n int, rtype uint16) (string, error) {
	rd := msg[start : start+n]
	switch rtype {
	case 1, 28: // A, AAAA
		ip, ok := netip.AddrFromSlice(rd)
		if !ok {
			return "", errShort
		}
		return ip.String(), nil
	case 2, 5, 12: // NS, CNAME, PTR
		name, _, err := readName(msg, start)
		return name, err
	case 15: // MX
		if n < 3 {
			return "", errShort
		}
		name, _, err := readName(msg, start+2)
		return fmt.Sprintf("%d %s", binary.BigEndian.Uint16(rd), name), err
	case 16: // TXT: character-strings joined, as SPF, DKIM and DMARC read them
		var b strings.Builder
		for i := 0; i < len(rd); {
			l := int(rd[i])
			if i+1+l > len(rd) {
				return "", errShort
			}
			b.Write(rd[i+1 : i+1+l])
			i += 1 + l
		}
		return b.String(), nil
	case 52: // TLSA (RFC 6698 section 2.1)
		if n < 3 {
			return "", errShort
		}
		return fmt.Sprintf("%d %d %d %s", rd[0], rd[1], rd[2], hex.EncodeToString(rd[3:])), nil
	case 48: // DNSKEY (RFC 4034 section 2.1)
		if n < 4 {
			return "", errShort
		}
		return fmt.Sprintf("%d %d %d %s", binary.BigEndian.Uint16(rd), rd[2], rd[3], base64.StdEncoding.EncodeToString(rd[4:])), nil
	}
	return hex.EncodeToString(rd), nil
}
