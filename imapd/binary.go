package imapd

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime/quotedprintable"
	"strings"

	"wardmail/message"
)

// binaryData returns BINARY[part]: the part's body with its
// Content-Transfer-Encoding undone (RFC 3516 4.1). An empty part path is the
// whole message as stored.
func binaryData(body []byte, sum *message.Summary, part []int) ([]byte, error) {
	raw, err := message.Section(body, sum, part, "", nil, false)
	if err != nil {
		return nil, bad("Invalid section for this message.")
	}
	if len(part) == 0 {
		return raw, nil
	}
	p := partAt(sum, part)
	if p == nil {
		return raw, nil
	}
	if len(p.Children) > 0 {
		return nil, bad("BINARY needs a leaf part, not a multipart.")
	}
	switch strings.ToLower(p.Encoding) {
	case "", "7bit", "8bit", "binary":
		return raw, nil
	case "base64":
		return decodeBase64(raw), nil
	case "quoted-printable":
		out, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(raw)))
		if err != nil && len(out) == 0 {
			return nil, no("UNKNOWN-CTE", "The part's quoted-printable text cannot be decoded.")
		}
		return out, nil
	}
	return nil, no("UNKNOWN-CTE", "The part's transfer encoding %q is unknown.", p.Encoding)
}

// decodeBase64 decodes base64 leniently: characters outside the alphabet
// (line breaks) are skipped and decoding stops at padding.
func decodeBase64(b []byte) []byte {
	clean := make([]byte, 0, len(b))
	for _, c := range b {
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '+', c == '/':
			clean = append(clean, c)
		case c == '=':
			goto done
		}
	}
done:
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1]
	}
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	n, _ := base64.RawStdEncoding.Decode(out, clean)
	return out[:n]
}

// partAt finds a part by its section path as RFC 9051 6.4.5 numbers them
// (the numbering message.Section uses).
func partAt(s *message.Summary, path []int) *message.Part {
	var cur *message.Part
	msg := s
	for _, n := range path {
		if cur != nil {
			switch {
			case len(cur.Children) > 0:
				if n > len(cur.Children) {
					return nil
				}
				cur = cur.Children[n-1]
				continue
			case cur.Message != nil:
				msg, cur = cur.Message, nil
			default:
				return nil
			}
		}
		root := msg.Structure
		switch {
		case root == nil:
			return nil
		case len(root.Children) > 0:
			if n > len(root.Children) {
				return nil
			}
			cur = root.Children[n-1]
		case n == 1:
			cur = root
		default:
			return nil
		}
	}
	return cur
}
