package outbound

import (
	"bytes"
	"context"
	"strings"

	"wardmail/store"
)

// Prepare makes the queue entry of a submitted message for its outside
// recipients: the part of the stored message that stays here (skip, our
// Return-Path), the DKIM-Signature the signer adds, and what the message
// needs from the receiving server (8BITMIME, SMTPUTF8).
func Prepare(ctx context.Context, signer Signer, from string, rcpts []string, full []byte) (*store.Outbound, error) {
	o := &store.Outbound{Rcpts: rcpts}
	if bytes.HasPrefix(full, []byte("Return-Path:")) {
		if i := bytes.Index(full, []byte("\r\n")); i >= 0 {
			o.Skip = i + 2
		}
	}
	out := full[o.Skip:]
	hdrEnd := bytes.Index(out, []byte("\r\n\r\n"))
	if hdrEnd < 0 {
		hdrEnd = len(out)
	}
	o.SMTPUTF8 = !isASCII(from) || !isASCII(string(out[:hdrEnd]))
	for _, r := range rcpts {
		o.SMTPUTF8 = o.SMTPUTF8 || !isASCII(r)
	}
	o.EightBit = !isASCII(string(out[hdrEnd:]))
	if signer != nil {
		domain := from[strings.LastIndexByte(from, '@')+1:]
		h, err := signer.Sign(ctx, domain, out)
		if err != nil {
			return nil, err
		}
		o.Prefix = h
	}
	return o, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
