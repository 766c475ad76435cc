package wire

import (
	"bufio"
	"mime"
	"strconv"
	"unicode/utf8"
)

// Writer writes responses into a buffer; the caller flushes once per batch of
// responses. The first write error sticks and is returned by Flush.
type Writer struct {
	bw  *bufio.Writer
	err error
	// UTF8 allows UTF-8 in quoted strings (IMAP4rev2, RFC 9051 9 "quoted";
	// RFC 6855 UTF8=ACCEPT). Without it, non-ASCII text goes as a literal.
	UTF8 bool
}

// NewWriter returns a Writer over bw.
func NewWriter(bw *bufio.Writer) *Writer { return &Writer{bw: bw} }

// Reset makes the writer write to bw (after STARTTLS).
func (w *Writer) Reset(bw *bufio.Writer) { w.bw = bw }

// Err returns the first write error.
func (w *Writer) Err() error { return w.err }

// Flush sends what is buffered.
func (w *Writer) Flush() error {
	if w.err == nil {
		w.err = w.bw.Flush()
	}
	return w.err
}

// Raw writes s as it is.
func (w *Writer) Raw(s string) *Writer {
	if w.err == nil {
		_, w.err = w.bw.WriteString(s)
	}
	return w
}

// Bytes writes b as it is.
func (w *Writer) Bytes(b []byte) *Writer {
	if w.err == nil {
		_, w.err = w.bw.Write(b)
	}
	return w
}

// Byte writes one byte.
func (w *Writer) Byte(c byte) *Writer {
	if w.err == nil {
		w.err = w.bw.WriteByte(c)
	}
	return w
}

// SP writes a space.
func (w *Writer) SP() *Writer { return w.Byte(' ') }

// CRLF ends a response line.
func (w *Writer) CRLF() *Writer { return w.Raw("\r\n") }

// Uint writes a number.
func (w *Writer) Uint(n uint64) *Writer {
	if w.err == nil {
		var buf [20]byte
		_, w.err = w.bw.Write(strconv.AppendUint(buf[:0], n, 10))
	}
	return w
}

// Int writes a signed number.
func (w *Writer) Int(n int64) *Writer {
	if w.err == nil {
		var buf [21]byte
		_, w.err = w.bw.Write(strconv.AppendInt(buf[:0], n, 10))
	}
	return w
}

// NIL writes NIL.
func (w *Writer) NIL() *Writer { return w.Raw("NIL") }

// String writes s as a quoted string when it can be one, else as a literal.
func (w *Writer) String(s string) *Writer {
	if w.quotable(s) {
		return w.Byte('"').quotedBody(s)
	}
	return w.Literal([]byte(s))
}

func (w *Writer) quotedBody(s string) *Writer {
	start := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			w.Raw(s[start:i]).Byte('\\')
			start = i
		}
	}
	return w.Raw(s[start:]).Byte('"')
}

// NString writes NIL for "" and a string otherwise.
func (w *Writer) NString(s string) *Writer {
	if s == "" {
		return w.NIL()
	}
	return w.String(s)
}

// Text writes header text for an ENVELOPE or BODYSTRUCTURE field: UTF-8 as it
// is when the client accepts it, otherwise RFC 2047 encoded words, so an
// IMAP4rev1 client still sees 7-bit text it can decode. "" is NIL.
func (w *Writer) Text(s string) *Writer {
	if s == "" {
		return w.NIL()
	}
	if !w.UTF8 && !isASCII(s) && utf8.ValidString(s) {
		s = mime.QEncoding.Encode("utf-8", s)
	}
	return w.String(s)
}

// Literal writes b as a literal.
func (w *Writer) Literal(b []byte) *Writer {
	w.Byte('{').Uint(uint64(len(b))).Raw("}\r\n")
	return w.Bytes(b)
}

// Literal8 writes b as a literal8 (RFC 3516), for binary content.
func (w *Writer) Literal8(b []byte) *Writer {
	w.Raw("~{").Uint(uint64(len(b))).Raw("}\r\n")
	return w.Bytes(b)
}

// quotable reports whether s can be sent as a quoted string.
func (w *Writer) quotable(s string) bool {
	if len(s) > 1024 {
		return false
	}
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == 0 || c == '\r' || c == '\n' {
			return false
		}
		if c >= 0x80 {
			ascii = false
		}
	}
	if ascii {
		return true
	}
	return w.UTF8 && utf8.ValidString(s)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
