package message

import (
	"bytes"
	"encoding/base64"
	"slices"
)

// EncodeBinaryParts returns body with every leaf part that holds a NUL byte
// in an identity transfer encoding (binary, 8bit, 7bit or none) re-encoded
// as base64, and whether it changed anything. sum must describe body.
//
// A message appended with a literal8 (RFC 3516 4.4) may carry such parts,
// and no IMAP literal may carry NUL (RFC 3501 9, RFC 9051 9 CHAR8): stored
// this way, BODY[] sends a valid message while BINARY[] still decodes the
// original bytes. The part's other header fields are kept.
func EncodeBinaryParts(body []byte, sum *Summary) ([]byte, bool) {
	if sum == nil || sum.Structure == nil || bytes.IndexByte(body, 0) < 0 {
		return body, false
	}
	var leaves []*Part
	var walk func(p *Part)
	walk = func(p *Part) {
		switch {
		case len(p.Children) > 0:
			for _, c := range p.Children {
				walk(c)
			}
		case p.Message != nil && p.Message.Structure != nil:
			walk(p.Message.Structure)
		default:
			switch p.Encoding {
			case "", "7bit", "8bit", "binary":
				if p.BodyStart <= p.End && p.End <= int64(len(body)) && bytes.IndexByte(body[p.BodyStart:p.End], 0) >= 0 {
					leaves = append(leaves, p)
				}
			}
		}
	}
	walk(sum.Structure)
	if len(leaves) == 0 {
		return body, false
	}
	// Leaves do not overlap: one pass in body order.
	slices.SortFunc(leaves, func(a, b *Part) int { return int(a.HeaderStart - b.HeaderStart) })
	var b bytes.Buffer
	b.Grow(len(body) + len(body)/3 + 64*len(leaves))
	prev := int64(0)
	for _, p := range leaves {
		if p.HeaderStart < prev {
			continue
		}
		hdr := body[p.HeaderStart:p.BodyStart]
		hdr = RemoveHeader(hdr, int64(len(hdr)), "Content-Transfer-Encoding")
		b.Write(body[prev:p.HeaderStart])
		// The new field goes last, before the blank line that ends the
		// header.
		at := 0
		switch {
		case bytes.HasSuffix(hdr, []byte("\r\n\r\n")):
			at = len(hdr) - 2
		case bytes.HasSuffix(hdr, []byte("\n\n")):
			at = len(hdr) - 1
		}
		b.Write(hdr[:at])
		b.WriteString("Content-Transfer-Encoding: base64\r\n")
		b.Write(hdr[at:])
		writeBase64Lines(&b, body[p.BodyStart:p.End])
		prev = p.End
	}
	b.Write(body[prev:])
	return b.Bytes(), true
}

// writeBase64Lines writes data as base64 in lines of 76 characters
// (RFC 2045 6.8), with no line break after the last.
func writeBase64Lines(b *bytes.Buffer, data []byte) {
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		b.WriteString(enc[:76])
		b.WriteString("\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc)
}
