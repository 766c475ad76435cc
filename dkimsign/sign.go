package dkimsign

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"errors"
	"net/textproto"
	"strings"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/prometheus/client_golang/prometheus"
)

// signedHeaders are the fields each signature covers: RFC 6376 section 5.4.1's
// list of those that matter to a reader, and the MIME fields, so that no
// one can change what the message says or how it is shown.
var signedHeaders = []string{
	"From", "Reply-To", "Subject", "Date", "To", "Cc", "Message-ID", "In-Reply-To", "References",
	"MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Content-Disposition",
	"List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "Resent-From", "Resent-Date", "Resent-To",
}

// oversigned are listed once more than they occur (RFC 6376 section 8.15), so
// that a copy of the field added on the way fails the signature instead of
// being shown to the reader in place of the signed one.
var oversigned = map[string]bool{
	"from": true, "reply-to": true, "subject": true, "date": true, "to": true, "cc": true,
	"message-id": true, "mime-version": true, "content-type": true, "content-transfer-encoding": true,
	"list-unsubscribe": true, "list-unsubscribe-post": true,
}

// SignedTotal counts signatures made, by algorithm.
var SignedTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "wardmail_dkim_signatures_total",
	Help: "DKIM signatures added to outbound messages, by algorithm.",
}, []string{"algorithm"})

// Signer signs with a keyring's keys. It implements the outbound queue's
// Signer.
type Signer struct {
	Keys *Keyring
	// Local, when set, says whether a domain is local: a local domain
	// with no keys yet (added to the directory after the start) gets them
	// made on its first message.
	Local func(ctx context.Context, domain string) (bool, error)
}

// headerKeys lists the fields to sign for a message whose header has the
// given field counts.
func headerKeys(counts map[string]int) []string {
	var keys []string
	for _, h := range signedHeaders {
		n := counts[strings.ToLower(h)]
		if oversigned[strings.ToLower(h)] {
			n++
		}
		for range n {
			keys = append(keys, h)
		}
	}
	return keys
}

// fieldCounts counts the fields of a message's header, by lower-case name.
func fieldCounts(msg []byte) (map[string]int, error) {
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(msg)))
	h, err := r.ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		return nil, err
	}
	counts := map[string]int{}
	for k, v := range h {
		counts[strings.ToLower(k)] = len(v)
	}
	return counts, nil
}

// Sign returns the DKIM-Signature fields (one RSA, one Ed25519, each ending in
// CRLF) to put before msg, which is from fromDomain. The signing domain is
// fromDomain or the nearest parent that has keys (DMARC's relaxed alignment,
// RFC 7489 3.1.1); a domain with none is not ours to sign for, and gets no
// signature and no error. msg must use CRLF line endings.
func (s Signer) Sign(ctx context.Context, fromDomain string, msg []byte) ([]byte, error) {
	domain, err := normDomain(fromDomain)
	if err != nil {
		return nil, err
	}
	if s.Local != nil {
		if _, err := s.Keys.load(domain); errors.Is(err, ErrNoKeys) {
			local, err := s.Local(ctx, domain)
			if err != nil {
				return nil, err
			}
			if local {
				if err := s.Keys.Ensure(domain); err != nil {
					return nil, err
				}
			}
		}
	}
	var keys []Key
	for {
		keys, err = s.Keys.signing(domain)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrNoKeys) {
			return nil, err
		}
		_, parent, ok := strings.Cut(domain, ".")
		if !ok || !strings.Contains(parent, ".") {
			return nil, nil
		}
		domain = parent
	}
	counts, err := fieldCounts(msg)
	if err != nil {
		return nil, err
	}
	if counts["from"] == 0 {
		return nil, errors.New("dkim: the message has no From field")
	}
	hk := headerKeys(counts)
	var out bytes.Buffer
	for _, key := range keys {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		signer, err := dkim.NewSigner(&dkim.SignOptions{
			Domain: domain, Selector: key.Selector, Signer: key.signer, Hash: crypto.SHA256,
			HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed,
			HeaderKeys: hk,
		})
		if err != nil {
			return nil, err
		}
		if _, err := signer.Write(msg); err != nil {
			_ = signer.Close()
			return nil, err
		}
		if err := signer.Close(); err != nil {
			return nil, err
		}
		out.WriteString(signer.Signature())
		SignedTotal.WithLabelValues(key.Algorithm).Inc()
	}
	return out.Bytes(), nil
}
