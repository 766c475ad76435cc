package message

import "bytes"

// CRLF returns body with every bare LF (one not after a CR) made CRLF, the
// line ending Internet mail requires (RFC 5322 2.1, RFC 5321 2.3.8) and
// IMAP clients count sizes and lines by. The body of a part whose
// Content-Transfer-Encoding is binary (RFC 2045 6.2, RFC 3030) is octets,
// not lines, and is left as it is. It returns body itself when nothing
// needs changing, so the common case costs one scan.
func CRLF(body []byte) []byte {
	first := bareLF(body, 0)
	if first < 0 {
		return body
	}
	// Offsets of binary bodies come from the structure as it stands; the
	// parser reads bare LF line ends as it reads CRLF.
	var keep [][2]int64
	if sum, err := Summarize(body); err == nil {
		binaryBodies(sum.Structure, &keep)
	}
	out := make([]byte, 0, len(body)+len(body)/16+2)
	pos := 0
	for _, k := range keep {
		out = appendCRLF(out, body, pos, int(k[0]))
		out = append(out, body[k[0]:k[1]]...)
		pos = int(k[1])
	}
	return appendCRLF(out, body, pos, len(body))
}

// bareLF returns the index of the first bare LF in body at or after from,
// or -1.
func bareLF(body []byte, from int) int {
	for i := from; i < len(body); {
		j := bytes.IndexByte(body[i:], '\n')
		if j < 0 {
			return -1
		}
		if i+j == 0 || body[i+j-1] != '\r' {
			return i + j
		}
		i += j + 1
	}
	return -1
}

// appendCRLF appends body[from:to] to out with its bare LFs made CRLF.
func appendCRLF(out, body []byte, from, to int) []byte {
	for from < to {
		i := bareLF(body[:to], from)
		if i < 0 {
			return append(out, body[from:to]...)
		}
		out = append(out, body[from:i]...)
		out = append(out, '\r', '\n')
		from = i + 1
	}
	return out
}

// binaryBodies collects, in order, the body ranges of the leaf parts sent
// with Content-Transfer-Encoding binary.
func binaryBodies(p *Part, keep *[][2]int64) {
	if p == nil {
		return
	}
	switch {
	case len(p.Children) > 0:
		for _, c := range p.Children {
			binaryBodies(c, keep)
		}
	case p.Message != nil:
		binaryBodies(p.Message.Structure, keep)
	case p.Encoding == "binary" && p.End > p.BodyStart:
		*keep = append(*keep, [2]int64{p.BodyStart, p.End})
	}
}
