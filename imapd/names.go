package imapd

import (
	"encoding/base64"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"wardmail/imapd/wire"
)

// Mailbox names are UTF-8 in the store. IMAP4rev1 clients write them in
// modified UTF-7 (RFC 3501 5.1.3); IMAP4rev2 clients write UTF-8 (RFC 9051
// 5.1). Incoming names are decoded from modified UTF-7 when they are valid
// modified UTF-7, and taken as UTF-8 otherwise; outgoing names are encoded
// unless the client enabled IMAP4rev2.

var mutf7 = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,").WithPadding(base64.NoPadding)

// utf8Names reports whether mailbox names go as UTF-8 both ways: for
// IMAP4rev2 (RFC 9051 5.1) and UTF8=ACCEPT (RFC 6855 3) clients.
func (c *conn) utf8Names() bool { return c.rev2 || c.utf8Accept }

// mailboxArg reads a mailbox name argument: UTF-8 as it is from a client
// that enabled IMAP4rev2 or UTF8=ACCEPT, modified UTF-7 (or UTF-8) from
// others.
func (c *conn) mailboxArg(a wire.Arg) (string, error) {
	if c.utf8Names() {
		s, ok := a.AString()
		if !ok || s == "" {
			return "", bad("Expected a mailbox name.")
		}
		if !utf8.ValidString(s) {
			return "", no("CANNOT", "Mailbox names must be UTF-8.")
		}
		if strings.EqualFold(s, "INBOX") {
			return "INBOX", nil
		}
		return s, nil
	}
	return mailboxArg(a)
}

// mailboxArg reads a mailbox name argument from an IMAP4rev1 client.
func mailboxArg(a wire.Arg) (string, error) {
	s, ok := a.AString()
	if !ok || s == "" {
		return "", bad("Expected a mailbox name.")
	}
	if !utf8.ValidString(s) {
		return "", no("CANNOT", "Mailbox names must be UTF-8 or modified UTF-7.")
	}
	if strings.EqualFold(s, "INBOX") {
		return "INBOX", nil
	}
	if d, ok := decodeMUTF7(s); ok {
		return d, nil
	}
	return s, nil
}

// decodeMUTF7 decodes modified UTF-7; non-ASCII UTF-8 passes through, as
// IMAP4rev2 clients escape only "&".
func decodeMUTF7(s string) (string, bool) {
	if !strings.Contains(s, "&") {
		return s, true
	}
	var sb strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c != '&' {
			sb.WriteByte(c)
			i++
			continue
		}
		end := strings.IndexByte(s[i+1:], '-')
		if end < 0 {
			return "", false
		}
		enc := s[i+1 : i+1+end]
		i += end + 2
		if enc == "" {
			sb.WriteByte('&')
			continue
		}
		b, err := mutf7.DecodeString(enc)
		if err != nil || len(b)%2 != 0 {
			return "", false
		}
		u := make([]uint16, len(b)/2)
		for k := range u {
			u[k] = uint16(b[2*k])<<8 | uint16(b[2*k+1])
		}
		for k := 0; k < len(u); k++ {
			// Surrogates must come in pairs.
			if utf16.IsSurrogate(rune(u[k])) {
				if u[k] >= 0xdc00 || k+1 >= len(u) || u[k+1] < 0xdc00 || u[k+1] > 0xdfff {
					return "", false
				}
				k++
			}
		}
		for _, r := range utf16.Decode(u) {
			if r >= 0x20 && r < 0x7f {
				return "", false // printable ASCII must not be encoded
			}
			sb.WriteRune(r)
		}
	}
	return sb.String(), true
}

// encodeMUTF7 encodes a UTF-8 name as modified UTF-7.
func encodeMUTF7(s string) string {
	var sb strings.Builder
	var run []rune
	flush := func() {
		if len(run) == 0 {
			return
		}
		u := utf16.Encode(run)
		b := make([]byte, 2*len(u))
		for k, v := range u {
			b[2*k], b[2*k+1] = byte(v>>8), byte(v)
		}
		sb.WriteByte('&')
		sb.WriteString(mutf7.EncodeToString(b))
		sb.WriteByte('-')
		run = run[:0]
	}
	for _, r := range s {
		if r >= 0x20 && r < 0x7f {
			flush()
			if r == '&' {
				sb.WriteString("&-")
			} else {
				sb.WriteRune(r)
			}
			continue
		}
		run = append(run, r)
	}
	flush()
	return sb.String()
}

// writeMailbox writes a mailbox name for this client.
func (c *conn) writeMailbox(name string) {
	if name == "INBOX" {
		c.w.Raw("INBOX")
		return
	}
	if !c.utf8Names() {
		name = encodeMUTF7(name)
	}
	c.w.String(name)
}
