package message

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// Header scanning. RFC 5322 2.2: a header section is a sequence of fields,
// each a name, a colon and a body that may be folded onto continuation lines
// starting with white space; an empty line ends it. Lines may end in CRLF or
// in a bare LF: both are accepted everywhere here.
//
// Every function in this file walks the bytes once with bytes.IndexByte, so a
// header of any size costs linear time and no per-line allocation.

// lineEnd returns the offset just past the line that starts at i: past its
// LF, or end when the line is not terminated.
func lineEnd(b []byte, i, end int) int {
	if j := bytes.IndexByte(b[i:end], '\n'); j >= 0 {
		return i + j + 1
	}
	return end
}

// blankLineAt reports the length of the empty line (CRLF or LF) at b[i:end],
// or 0 when the line at i is not empty.
func blankLineAt(b []byte, i, end int) int {
	if i >= end {
		return 0
	}
	if b[i] == '\n' {
		return 1
	}
	if b[i] == '\r' && i+1 < end && b[i+1] == '\n' {
		return 2
	}
	return 0
}

// headerEnd returns the offset just past the empty line that ends the header
// section starting at start. Without an empty line the whole of b[start:end]
// is header.
func headerEnd(b []byte, start, end int) int {
	for i := start; i < end; i = lineEnd(b, i, end) {
		if n := blankLineAt(b, i, end); n > 0 {
			return i + n
		}
	}
	return end
}

// looksLikeField reports whether the line at b[i:end] starts a header field:
// a name of printable ASCII followed (after optional white space, RFC 5322
// 4.5 obs-optional) by a colon.
func looksLikeField(b []byte, i, end int) bool {
	j := i
	for j < end && b[j] > ' ' && b[j] < 0x7f && b[j] != ':' {
		j++
	}
	if j == i {
		return false
	}
	for j < end && (b[j] == ' ' || b[j] == '\t') {
		j++
	}
	return j < end && b[j] == ':'
}

// field is one header field as it was written.
type field struct {
	name  []byte // without the colon and any white space before it
	raw   []byte // the first line and its continuation lines, with line endings
	value []byte // raw after the colon, still folded
}

// eachField calls fn for every field of the header section hdr, in order,
// stopping at the empty line, at the end of hdr or when fn returns false.
// Lines that are not fields (no colon, or continuation lines with nothing to
// continue) are skipped: real-world headers contain such garbage and no
// client refuses a message for it.
func eachField(hdr []byte, fn func(f field) bool) {
	end := len(hdr)
	for i := 0; i < end; {
		if blankLineAt(hdr, i, end) > 0 {
			return
		}
		start := i
		first := lineEnd(hdr, i, end)
		i = first
		for i < end && (hdr[i] == ' ' || hdr[i] == '\t') {
			i = lineEnd(hdr, i, end)
		}
		if hdr[start] == ' ' || hdr[start] == '\t' {
			continue
		}
		colon := bytes.IndexByte(hdr[start:first], ':')
		if colon <= 0 {
			continue
		}
		name := bytes.TrimRight(hdr[start:start+colon], " \t")
		if len(name) == 0 {
			continue
		}
		if !fn(field{name: name, raw: hdr[start:i], value: hdr[start+colon+1 : i]}) {
			return
		}
	}
}

// unfold returns a folded field body on one line (RFC 5322 2.2.3: remove the
// CRLFs, keep the white space), trimmed of surrounding white space. The
// result is the bytes as written; see clean for making it valid UTF-8.
func unfold(v []byte) string {
	return unfoldMax(v, len(v))
}

// unfoldMax is unfold of at most the first max bytes of v, cut where a
// UTF-8 sequence starts.
func unfoldMax(v []byte, max int) string {
	if len(v) > max {
		for max > 0 && !utf8.RuneStart(v[max]) {
			max--
		}
		v = v[:max]
	}
	v = bytes.Trim(v, " \t\r\n")
	if bytes.IndexByte(v, '\n') < 0 && bytes.IndexByte(v, '\r') < 0 {
		return string(v)
	}
	var sb strings.Builder
	sb.Grow(len(v))
	for _, c := range v {
		if c != '\r' && c != '\n' {
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

// The fields Summarize reads. Others are skipped without allocating.
const (
	hDate = iota
	hSubject
	hFrom
	hSender
	hReplyTo
	hTo
	hCc
	hBcc
	hInReplyTo
	hMessageID
	hReferences
	hContentType
	hEncoding
	hContentID
	hDescription
	hMD5
	hDisposition
	hLanguage
	hLocation
	hCount
)

// fieldIndex maps a field name, in any case, to one of the h* constants, or
// -1 for fields Summarize ignores.
func fieldIndex(name []byte) int {
	var buf [32]byte
	if len(name) > len(buf) {
		return -1
	}
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	switch string(buf[:len(name)]) {
	case "date":
		return hDate
	case "subject":
		return hSubject
	case "from":
		return hFrom
	case "sender":
		return hSender
	case "reply-to":
		return hReplyTo
	case "to":
		return hTo
	case "cc":
		return hCc
	case "bcc":
		return hBcc
	case "in-reply-to":
		return hInReplyTo
	case "message-id":
		return hMessageID
	case "references":
		return hReferences
	case "content-type":
		return hContentType
	case "content-transfer-encoding":
		return hEncoding
	case "content-id":
		return hContentID
	case "content-description":
		return hDescription
	case "content-md5":
		return hMD5
	case "content-disposition":
		return hDisposition
	case "content-language":
		return hLanguage
	case "content-location":
		return hLocation
	}
	return -1
}

// headers holds the unfolded, undecoded first value of each field Summarize
// reads. RFC 5322 3.6 allows most of them once; when a message repeats one,
// the first wins, as in most IMAP servers.
type headers [hCount]string

// How much of a field value Summarize reads: address lists are bounded by
// their count of addresses too, and References by its count of ids.
const (
	maxValue     = 64 << 10
	maxAddrValue = 1 << 20
)

// readHeaders collects the fields of the header section hdr.
func readHeaders(hdr []byte) headers {
	var h headers
	var seen [hCount]bool
	eachField(hdr, func(f field) bool {
		if k := fieldIndex(f.name); k >= 0 && !seen[k] {
			seen[k] = true
			switch {
			case k == hReferences:
				h[k] = unfold(f.value)
			case k >= hFrom && k <= hBcc:
				h[k] = unfoldMax(f.value, maxAddrValue)
			default:
				h[k] = unfoldMax(f.value, maxValue)
			}
		}
		return true
	})
	return h
}

// HeaderValue returns the first value of the named header field (compared
// without regard to case) in the message header body[:headerSize], unfolded
// and trimmed but not decoded: see DecodeHeader. headerSize <= 0 or larger
// than the body means "find the end of the header". It returns "" when the
// field is absent.
func HeaderValue(body []byte, headerSize int64, name string) string {
	end := len(body)
	if headerSize > 0 && headerSize <= int64(end) {
		end = int(headerSize)
	} else {
		end = headerEnd(body, 0, end)
	}
	v, found, want := "", false, []byte(name)
	eachField(body[:end], func(f field) bool {
		if bytes.EqualFold(f.name, want) {
			v, found = unfold(f.value), true
		}
		return !found
	})
	return v
}

// HeaderValues returns every value of the named header field, in order,
// each as HeaderValue returns one. IMAP's SEARCH HEADER looks at all of
// them (RFC 9051 6.4.4: "the specified field").
func HeaderValues(body []byte, headerSize int64, name string) []string {
	end := len(body)
	if headerSize > 0 && headerSize <= int64(end) {
		end = int(headerSize)
	} else {
		end = headerEnd(body, 0, end)
	}
	var out []string
	want := []byte(name)
	eachField(body[:end], func(f field) bool {
		if bytes.EqualFold(f.name, want) {
			out = append(out, unfold(f.value))
		}
		return true
	})
	return out
}

// RemoveHeader returns body without every instance of the named header field
// (compared without regard to case), continuation lines included, in the
// header body[:headerSize] (headerSize <= 0: find the end of the header).
// It returns body itself when the field is absent. Submission uses it to
// drop Bcc (RFC 5322 3.6.3) so that no recipient learns who was copied
// blind.
func RemoveHeader(body []byte, headerSize int64, name string) []byte {
	end := len(body)
	if headerSize > 0 && headerSize <= int64(end) {
		end = int(headerSize)
	} else {
		end = headerEnd(body, 0, end)
	}
	want := []byte(name)
	var cut [][2]int
	eachField(body[:end], func(f field) bool {
		if bytes.EqualFold(f.name, want) {
			start := cap(body) - cap(f.raw) // offset of f.raw within body
			cut = append(cut, [2]int{start, start + len(f.raw)})
		}
		return true
	})
	if len(cut) == 0 {
		return body
	}
	out := make([]byte, 0, len(body))
	prev := 0
	for _, c := range cut {
		out = append(out, body[prev:c[0]]...)
		prev = c[1]
	}
	return append(out, body[prev:]...)
}

// CountHeader returns how many times the named field appears in the header
// body[:headerSize] (headerSize <= 0: find the end of the header).
func CountHeader(body []byte, headerSize int64, name string) int {
	end := len(body)
	if headerSize > 0 && headerSize <= int64(end) {
		end = int(headerSize)
	} else {
		end = headerEnd(body, 0, end)
	}
	n, want := 0, []byte(name)
	eachField(body[:end], func(f field) bool {
		if bytes.EqualFold(f.name, want) {
			n++
		}
		return true
	})
	return n
}
