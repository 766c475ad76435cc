package inbound

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/emersion/go-msgauth/authres"
)

// ARC (RFC 8617): go-msgauth verifies DKIM but not ARC, so the chain is
// checked here. The ARC-Message-Signature is a DKIM signature under another
// name (RFC 8617 4.1.2); the ARC-Seal signs the ARC sets themselves (4.1.3).

// Field names of an ARC set (RFC 8617 4.1).
const (
	arcSealField = "ARC-Seal"
	arcMsgField  = "ARC-Message-Signature"
	arcAARField  = "ARC-Authentication-Results"
	maxARCSets   = 50 // RFC 8617 4.2.1
)

// ARCResult is the outcome of validating a message's ARC chain.
type ARCResult struct {
	Value authres.ResultValue // none, pass or fail
	// Reason says why the chain failed.
	Reason string
	// Sealer is the domain (d=) of the most recent ARC-Seal.
	Sealer string
	// First is the ARC-Authentication-Results of instance 1: what the first
	// forwarder found when the message reached it.
	First []Result
	// Instances is the number of ARC sets.
	Instances int
}

type arcSet struct {
	seal, msg, aar *field
	sealTags       map[string]string
	msgTags        map[string]string
}

// verifyARC validates the ARC chain of msg (RFC 8617 5.2).
func (c *Checker) verifyARC(ctx context.Context, fields []field, body []byte) ARCResult {
	sets := map[int]*arcSet{}
	n := 0
	for i := range fields {
		f := &fields[i]
		var kind string
		switch {
		case strings.EqualFold(f.name, arcSealField):
			kind = "seal"
		case strings.EqualFold(f.name, arcMsgField):
			kind = "msg"
		case strings.EqualFold(f.name, arcAARField):
			kind = "aar"
		default:
			continue
		}
		inst, tags, err := arcInstance(f.value(), kind)
		if err != nil {
			return ARCResult{Value: authres.ResultFail, Reason: err.Error()}
		}
		if inst < 1 || inst > maxARCSets {
			return ARCResult{Value: authres.ResultFail, Reason: fmt.Sprintf("instance %d out of range", inst)}
		}
		s := sets[inst]
		if s == nil {
			s = &arcSet{}
			sets[inst] = s
		}
		dup := false
		switch kind {
		case "seal":
			dup, s.seal, s.sealTags = s.seal != nil, f, tags
		case "msg":
			dup, s.msg, s.msgTags = s.msg != nil, f, tags
		case "aar":
			dup, s.aar = s.aar != nil, f
		}
		if dup {
			return ARCResult{Value: authres.ResultFail, Reason: fmt.Sprintf("two %s fields of instance %d", f.name, inst)}
		}
		n = max(n, inst)
	}
	if n == 0 {
		return ARCResult{Value: authres.ResultNone}
	}
	res := ARCResult{Instances: n}
	fail := func(format string, a ...any) ARCResult {
		res.Value, res.Reason = authres.ResultFail, fmt.Sprintf(format, a...)
		return res
	}
	// RFC 8617 5.2 step 2: the sets are complete and numbered 1..N.
	if len(sets) != n {
		return fail("instances are not numbered 1 to %d", n)
	}
	for i := 1; i <= n; i++ {
		s := sets[i]
		if s.seal == nil || s.msg == nil || s.aar == nil {
			return fail("instance %d is incomplete", i)
		}
		cv := strings.ToLower(s.sealTags["cv"])
		if (i == 1 && cv != "none") || (i > 1 && cv != "pass") {
			if cv == "fail" {
				return fail("instance %d sealed a failed chain", i)
			}
			return fail("instance %d has cv=%s", i, cv)
		}
	}
	last := sets[n]
	res.Sealer = strings.ToLower(last.sealTags["d"])
	// Step 4: the most recent ARC-Message-Signature.
	if err := c.verifyAMS(ctx, fields, body, last); err != nil {
		return fail("ARC-Message-Signature %d: %v", n, err)
	}
	// Steps 5 and 6: every seal, newest first.
	for i := n; i >= 1; i-- {
		if err := c.verifySeal(ctx, sets, i); err != nil {
			return fail("ARC-Seal %d: %v", i, err)
		}
	}
	res.First = parseResults(aarResults(sets[1].aar.value()))
	res.Value = authres.ResultPass
	return res
}

// aarResults turns an ARC-Authentication-Results value ("i=1; authserv-id;
// results") into an Authentication-Results value.
func aarResults(v string) string {
	_, rest, _ := strings.Cut(v, ";")
	return strings.TrimSpace(rest)
}

// Result is one result of an Authentication-Results value (RFC 8601 2.2):
// method, result and properties such as header.d or header.from.
type Result struct {
	Method, Value string
	Props         map[string]string
}

// maxResults bounds how many results parseResults reads.
const maxResults = 50

// parseResults reads an Authentication-Results value leniently: comments
// removed (they may hold semicolons, as OpenDKIM's "(2048-bit key;
// unprotected)" does), then each result's method=result and its
// ptype.property=value pairs; what it cannot read it skips. The
// authserv-id is not returned.
func parseResults(v string) []Result {
	if len(v) > 8192 {
		v = v[:8192]
	}
	parts := splitParams(stripComments(v))
	var out []Result
	for _, p := range parts[1:] {
		words := strings.Fields(p)
		if len(words) == 0 {
			continue
		}
		m, val, ok := strings.Cut(words[0], "=")
		if !ok {
			continue
		}
		r := Result{Method: strings.ToLower(m), Value: strings.ToLower(val), Props: map[string]string{}}
		for _, w := range words[1:] {
			if k, pv, ok := strings.Cut(w, "="); ok {
				r.Props[strings.ToLower(k)] = strings.Trim(pv, `"`)
			}
		}
		out = append(out, r)
		if len(out) >= maxResults {
			break
		}
	}
	return out
}

// arcInstance reads the i= tag of an ARC field.
func arcInstance(v, kind string) (int, map[string]string, error) {
	if kind == "aar" {
		first, _, _ := strings.Cut(v, ";")
		k, val, ok := strings.Cut(strings.TrimSpace(first), "=")
		if !ok || strings.TrimSpace(k) != "i" {
			return 0, nil, errors.New("ARC-Authentication-Results without i=")
		}
		i, err := strconv.Atoi(strings.TrimSpace(val))
		return i, nil, err
	}
	tags, err := parseTags(v)
	if err != nil {
		return 0, nil, err
	}
	i, err := strconv.Atoi(tags["i"])
	if err != nil {
		return 0, nil, errors.New("an ARC field without a valid i=")
	}
	return i, tags, nil
}

// parseTags reads a DKIM-style tag list (RFC 6376 3.2), whitespace removed.
func parseTags(v string) (map[string]string, error) {
	tags := map[string]string{}
	for _, part := range strings.Split(v, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("malformed tag %q", truncate(part, 20))
		}
		k = strings.TrimSpace(k)
		if _, dup := tags[k]; dup {
			return nil, fmt.Errorf("tag %s twice", k)
		}
		tags[k] = stripWSP(val)
	}
	return tags, nil
}

func stripWSP(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// verifyAMS checks an ARC-Message-Signature as DKIM checks a signature
// (RFC 6376 3.7), with the header named ARC-Message-Signature.
func (c *Checker) verifyAMS(ctx context.Context, fields []field, body []byte, s *arcSet) error {
	t := s.msgTags
	hc, bc, err := canonicalizations(t["c"])
	if err != nil {
		return err
	}
	bh, err := base64.StdEncoding.DecodeString(t["bh"])
	if err != nil {
		return errors.New("bh= is not base64")
	}
	sum := sha256.Sum256(canonBody(body, bc))
	if string(sum[:]) != string(bh) {
		return errors.New("the body has changed since it was signed")
	}
	h := sha256.New()
	used := map[int]bool{}
	for _, name := range strings.Split(t["h"], ":") {
		name = strings.TrimSpace(name)
		// The last unused instance of each named field, bottom up
		// (RFC 6376 5.4.2).
		for i := len(fields) - 1; i >= 0; i-- {
			if !used[i] && strings.EqualFold(fields[i].name, name) {
				used[i] = true
				h.Write([]byte(canonHeader(fields[i].raw, hc)))
				break
			}
		}
	}
	sig := withoutB(string(s.msg.raw))
	h.Write([]byte(strings.TrimSuffix(canonHeader([]byte(sig), hc), "\r\n")))
	return c.verifySig(ctx, t, h.Sum(nil))
}

// verifySeal checks ARC-Seal i over the sets 1..i (RFC 8617 5.1.1): each
// set's ARC-Authentication-Results, ARC-Message-Signature and ARC-Seal in
// that order, relaxed, the seal being checked without its b= value.
func (c *Checker) verifySeal(ctx context.Context, sets map[int]*arcSet, i int) error {
	h := sha256.New()
	for j := 1; j <= i; j++ {
		s := sets[j]
		h.Write([]byte(canonHeader(s.aar.raw, "relaxed")))
		h.Write([]byte(canonHeader(s.msg.raw, "relaxed")))
		if j < i {
			h.Write([]byte(canonHeader(s.seal.raw, "relaxed")))
		}
	}
	sig := withoutB(string(sets[i].seal.raw))
	h.Write([]byte(strings.TrimSuffix(canonHeader([]byte(sig), "relaxed"), "\r\n")))
	return c.verifySig(ctx, sets[i].sealTags, h.Sum(nil))
}

// verifySig checks the b= signature of a hashed ARC field with the key
// published at s._domainkey.d (RFC 6376 3.6.2).
func (c *Checker) verifySig(ctx context.Context, t map[string]string, hashed []byte) error {
	alg := strings.ToLower(t["a"])
	if alg != "rsa-sha256" && alg != "ed25519-sha256" {
		return fmt.Errorf("unsupported algorithm %q", truncate(alg, 20))
	}
	sig, err := base64.StdEncoding.DecodeString(t["b"])
	if err != nil {
		return errors.New("b= is not base64")
	}
	d, sel := t["d"], t["s"]
	if d == "" || sel == "" {
		return errors.New("no d= or s=")
	}
	txts, err := c.txt.lookup(ctx, c.cfg.Resolver, sel+"._domainkey."+d)
	if err != nil {
		return fmt.Errorf("no key for %s._domainkey.%s: %v", sel, d, err)
	}
	key, err := parseKey(strings.Join(txts, ""))
	if err != nil {
		return err
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		if alg != "rsa-sha256" {
			return errors.New("the key is RSA but the signature is not")
		}
		if rsa.VerifyPKCS1v15(k, crypto.SHA256, hashed, sig) != nil {
			return errors.New("the signature does not verify")
		}
	case ed25519.PublicKey:
		if alg != "ed25519-sha256" || !ed25519.Verify(k, hashed, sig) {
			return errors.New("the signature does not verify")
		}
	}
	return nil
}

// parseKey reads a DKIM key record (RFC 6376 3.6.1).
func parseKey(rec string) (crypto.PublicKey, error) {
	t, err := parseTags(rec)
	if err != nil {
		return nil, err
	}
	p, err := base64.StdEncoding.DecodeString(t["p"])
	if err != nil || len(p) == 0 {
		return nil, errors.New("the key record has no usable p=")
	}
	switch strings.ToLower(t["k"]) {
	case "", "rsa":
		pub, err := x509.ParsePKIXPublicKey(p)
		if err != nil {
			pk, err2 := x509.ParsePKCS1PublicKey(p)
			if err2 != nil {
				return nil, errors.New("the RSA key does not parse")
			}
			return pk, nil
		}
		rk, ok := pub.(*rsa.PublicKey)
		if !ok {
			return nil, errors.New("the key is not RSA")
		}
		return rk, nil
	case "ed25519":
		if len(p) != ed25519.PublicKeySize {
			return nil, errors.New("the Ed25519 key has the wrong size")
		}
		return ed25519.PublicKey(p), nil
	}
	return nil, fmt.Errorf("unsupported key type %q", truncate(t["k"], 20))
}

// withoutB returns a signature field with the value of its b= tag emptied
// (RFC 6376 3.7), the rest kept byte for byte.
func withoutB(raw string) string {
	colon := strings.IndexByte(raw, ':')
	if colon < 0 {
		return raw
	}
	var b strings.Builder
	b.WriteString(raw[:colon+1])
	rest := raw[colon+1:]
	for len(rest) > 0 {
		seg, after, more := strings.Cut(rest, ";")
		name, _, hasEq := strings.Cut(seg, "=")
		if hasEq && stripWSP(name) == "b" {
			eq := strings.IndexByte(seg, '=')
			b.WriteString(seg[:eq+1])
			// Keep the field's line end when b= is the last tag.
			if !more {
				b.WriteString(lineEndOf(seg))
			}
		} else {
			b.WriteString(seg)
		}
		if more {
			b.WriteByte(';')
		}
		rest = after
	}
	return b.String()
}

func lineEndOf(s string) string {
	switch {
	case strings.HasSuffix(s, "\r\n"):
		return "\r\n"
	case strings.HasSuffix(s, "\n"):
		return "\n"
	}
	return ""
}

func canonicalizations(c string) (header, body string, err error) {
	header, body = "simple", "simple"
	if c != "" {
		h, b, ok := strings.Cut(strings.ToLower(c), "/")
		header = h
		if ok {
			body = b
		}
	}
	for _, x := range []string{header, body} {
		if x != "simple" && x != "relaxed" {
			return "", "", fmt.Errorf("unknown canonicalization %q", truncate(x, 20))
		}
	}
	return header, body, nil
}

// canonHeader canonicalizes one header field (RFC 6376 3.4.1, 3.4.2),
// ending in CRLF.
func canonHeader(raw []byte, how string) string {
	s := string(raw)
	if how == "simple" {
		if !strings.HasSuffix(s, "\r\n") {
			s = strings.TrimSuffix(s, "\n") + "\r\n"
		}
		return s
	}
	name, value, _ := strings.Cut(s, ":")
	value = strings.NewReplacer("\r\n", "", "\n", "", "\r", "").Replace(value)
	value = strings.Join(strings.FieldsFunc(value, func(r rune) bool { return r == ' ' || r == '\t' }), " ")
	return strings.ToLower(strings.TrimRight(name, " \t")) + ":" + value + "\r\n"
}

// canonBody canonicalizes a body (RFC 6376 3.4.3, 3.4.4).
func canonBody(body []byte, how string) []byte {
	lines := strings.Split(strings.ReplaceAll(string(body), "\r\n", "\n"), "\n")
	if how == "relaxed" {
		for i, l := range lines {
			lines[i] = strings.TrimRight(collapseWSP(l), " ")
		}
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		if how == "simple" {
			return []byte("\r\n")
		}
		return nil
	}
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

// collapseWSP turns each run of spaces and tabs into one space.
func collapseWSP(s string) string {
	var b strings.Builder
	space := false
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' || s[i] == '\t' {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteByte(s[i])
	}
	if space {
		b.WriteByte(' ')
	}
	return b.String()
}
