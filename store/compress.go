package store

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"sync"
)

// Bodies kept inline in SQL are deflated (RFC 1951) when that saves at
// least an eighth. A 2 KB message is otherwise a 2.7 KB row with its
// summary, and SQLite fits one such row in a 4 KiB page: 1.4 KB of every
// message was the empty rest of its page. Deflated, several share a page
// (mail text compresses two to three times; smtp-source's repeated lines
// far more). The hash, the size and every answer are those of the
// original bytes; bodies in the blob store are kept as they came.

// deflateMagic starts a deflated inline body; a NUL cannot start an
// accepted message (blob's sealMagic is the same idea).
var deflateMagic = []byte("\x00WMZ1")

// deflateMin is the smallest body worth deflating.
const deflateMin = 512

// maxInflated bounds what an inline body may inflate to.
const maxInflated = 64 << 20

var deflaters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestSpeed) // BestSpeed is a valid level
	return w
}}

var inflaters = sync.Pool{New: func() any { return flate.NewReader(bytes.NewReader(nil)) }}

// deflateInline returns the form of body to keep inline: deflated behind
// deflateMagic, or body itself when that does not pay.
func deflateInline(body []byte) []byte {
	if len(body) < deflateMin {
		return body
	}
	var buf bytes.Buffer
	buf.Grow(len(body)/2 + 64)
	buf.Write(deflateMagic)
	w := deflaters.Get().(*flate.Writer)
	defer deflaters.Put(w)
	w.Reset(&buf)
	if _, err := w.Write(body); err != nil {
		return body
	}
	if err := w.Close(); err != nil {
		return body
	}
	if buf.Len() > len(body)-len(body)/8 {
		return body
	}
	return buf.Bytes()
}

// inflateInline undoes deflateInline.
func inflateInline(data []byte) ([]byte, error) {
	if !bytes.HasPrefix(data, deflateMagic) {
		return data, nil
	}
	r := inflaters.Get().(io.ReadCloser)
	defer inflaters.Put(r)
	if err := r.(flate.Resetter).Reset(bytes.NewReader(data[len(deflateMagic):]), nil); err != nil {
		return nil, err
	}
	out, err := io.ReadAll(io.LimitReader(r, maxInflated+1))
	if err != nil {
		return nil, fmt.Errorf("store: inflating an inline body: %w", err)
	}
	if len(out) > maxInflated {
		return nil, fmt.Errorf("store: an inline body inflates past %d bytes", maxInflated)
	}
	return out, nil
}
