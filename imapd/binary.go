package imapd

import (
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
	p := message.FindPart(sum, part)
	if p == nil {
		return raw, nil
	}
	if len(p.Children) > 0 {
		return nil, bad("BINARY needs a leaf part, not a multipart.")
	}
	switch enc := strings.ToLower(p.Encoding); enc {
	case "", "7bit", "8bit", "binary":
		return raw, nil
	case "base64", "quoted-printable":
		out := message.DecodeTransfer(enc, raw, 0)
		if len(out) == 0 && len(raw) > 0 && enc == "quoted-printable" {
			return nil, no("UNKNOWN-CTE", "The part's quoted-printable text cannot be decoded.")
		}
		return out, nil
	}
	return nil, no("UNKNOWN-CTE", "The part's transfer encoding %q is unknown.", p.Encoding)
}
