package message

import (
	"crypto/rand"
	"strings"
	"time"
	"unicode/utf8"
)

// Header fields a receiving server adds: trace fields (RFC 5321 4.4) and a
// Message-ID for messages submitted without one (RFC 5322 3.6.4, RFC 6409
// 8.3).

// ReceivedHeader returns a Received field (RFC 5321 4.4 Time-stamp-line)
// folded one clause per line and ending in CRLF:
//
//	Received: from helo.example ([192.0.2.1])
//		by mx.example with ESMTPS id 1a2b3c
//		for <rcpt@example.org>; Mon, 2 Jan 2006 15:04:05 +0000
//
// from is the name the client gave in EHLO/HELO and fromIP its address;
// by, with (a protocol such as "ESMTPS", RFC 3848), id and forAddr are left
// out when empty. Client-supplied text cannot break the field: characters
// that could end it or change its syntax are replaced by "_".
func ReceivedHeader(from, fromIP, by, with, id, forAddr string, t time.Time) string {
	from, fromIP = traceWord(from), traceWord(fromIP)
	var sb strings.Builder
	sb.WriteString("Received: from ")
	switch {
	case from != "" && fromIP != "":
		sb.WriteString(from + " (" + addressLiteral(fromIP) + ")")
	case from != "":
		sb.WriteString(from)
	case fromIP != "":
		sb.WriteString(addressLiteral(fromIP))
	default:
		sb.WriteString("unknown")
	}
	if by = traceWord(by); by != "" {
		sb.WriteString("\r\n\tby " + by)
		if with = traceWord(with); with != "" {
			sb.WriteString(" with " + with)
		}
		if id = traceWord(id); id != "" {
			sb.WriteString(" id " + id)
		}
	} else {
		if with = traceWord(with); with != "" {
			sb.WriteString("\r\n\twith " + with)
		}
		if id = traceWord(id); id != "" {
			sb.WriteString(" id " + id)
		}
	}
	if forAddr = traceWord(forAddr); forAddr != "" {
		sb.WriteString("\r\n\tfor <" + forAddr + ">")
	}
	sb.WriteString(";\r\n\t" + t.Format(time.RFC1123Z) + "\r\n")
	return sb.String()
}

// addressLiteral writes an IP address as an RFC 5321 4.1.3 address literal.
func addressLiteral(ip string) string {
	if strings.HasPrefix(ip, "[") {
		return ip
	}
	if strings.Contains(ip, ":") {
		return "[IPv6:" + ip + "]"
	}
	return "[" + ip + "]"
}

// traceWord makes s safe inside a trace field: it keeps printable ASCII and
// UTF-8 (RFC 6532) but replaces white space, controls, invalid UTF-8 and the
// characters that delimit clauses, comments and paths ("(", ")", "<", ">",
// ";", "\\", '"') by "_".
func traceWord(s string) string {
	s = strings.TrimSpace(s)
	var sb strings.Builder
	for i, r := range s {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n == 1 {
				sb.WriteByte('_')
				continue
			}
		}
		if r <= ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) || strings.ContainsRune(`()<>;\"`, r) {
			sb.WriteByte('_')
			continue
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// ReturnPath returns the Return-Path field (RFC 5321 4.4, RFC 5322 3.6.7)
// for the envelope sender addr, "" meaning the null path: "Return-Path: <>".
func ReturnPath(addr string) string {
	return "Return-Path: <" + traceWord(addr) + ">\r\n"
}

// NewMessageID returns a new message id, "<random@host>" (RFC 5322 3.6.4),
// with 130 bits of randomness. host "" gives "localhost".
func NewMessageID(host string) string {
	if host = traceWord(host); host == "" {
		host = "localhost"
	}
	// rand.Text is 26 base32 characters, 130 bits; it cannot fail.
	return "<" + rand.Text() + "@" + strings.ReplaceAll(host, "@", "_") + ">"
}
