// Package dkimsign signs mail that leaves Wardmail with DKIM (RFC 6376): an
// RSA-2048 signature (rsa-sha256) and an Ed25519 signature (ed25519-sha256,
// RFC 8463) side by side, so that verifiers that do not know Ed25519 still
// find a signature they can check (RFC 8463 section 3 recommends this).
//
// Keys are made per local domain on the first start and kept in the data
// folder, under DATA/dkim/DOMAIN/: one PKCS#8 PEM file per selector (mode
// 0600, in a 0700 folder) and keys.json, which lists the domain's key
// generations and when each one starts and stops signing. Servers that
// share one database share the data folder's dkim/ too (as they share
// blobs/), so that each signs with the same keys.
//
// Rotation (Keyring.Rotate, `wardmail dkim rotate DOMAIN`) follows RFC 6376
// section 3.6.1's advice that a selector's key be published before mail
// signed with it is sent, and kept after:
//
//	T            rotate: a new generation (RSA and Ed25519 selectors) is made;
//	             `wardmail dns records` prints its keys at once; signing goes on
//	             with the old generation.
//	T+overlap    signing switches to the new generation.
//	T+2·overlap  the old generation's keys are no longer printed and are removed:
//	             mail signed with them has had an overlap's time to be verified.
//
// The overlap (default 72 hours) covers DNS caching (the TTL of the key
// record) and mail still queued or being delivered when the switch happens.
package dkimsign

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// DefaultOverlap is how long a new key is published before it signs, and an
// old one after it stopped signing.
const DefaultOverlap = 72 * time.Hour

// Algorithm names, as in a DKIM key record's k= tag (RFC 6376 3.6.1, RFC 8463).
const (
	RSA     = "rsa"
	Ed25519 = "ed25519"
)

// Key is one selector's key.
type Key struct {
	Selector  string `json:"selector"`
	Algorithm string `json:"algorithm"` // RSA or Ed25519
	signer    crypto.Signer
}

// Record is the key record to publish at SELECTOR._domainkey.DOMAIN (RFC 6376
// section 3.6.1).
func (k Key) Record() string {
	pub := k.signer.Public()
	switch p := pub.(type) {
	case ed25519.PublicKey:
		// RFC 8463 section 4.2: the raw 32-byte key, not SubjectPublicKeyInfo.
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(p)
	default:
		der, _ := x509.MarshalPKIXPublicKey(pub)
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
	}
}

// Generation is a pair of keys made together, one per algorithm, that start
// and stop signing together.
type Generation struct {
	Keys []Key `json:"keys"`
	// Created is when the keys were made (and published).
	Created time.Time `json:"created"`
	// Signs is when the generation starts signing.
	Signs time.Time `json:"signs"`
	// Retires, when set, is when the generation's keys are removed; it stops
	// signing when the next generation starts.
	Retires time.Time `json:"retires,omitzero"`
}

type domainState struct {
	Domain      string       `json:"domain"`
	Generations []Generation `json:"generations"`
}

// Keyring holds the DKIM keys of the local domains in a folder.
type Keyring struct {
	dir string
	now func() time.Time

	mu    sync.Mutex
	cache map[string]cached
	// writeMu makes Ensure, Rotate and Prune one at a time in a process
	// (two first messages of a new domain make one generation).
	writeMu sync.Mutex
}

type cached struct {
	st      *domainState
	modTime time.Time
}

// Open returns the keyring kept in dir (DATA/dkim). now is the clock; nil is
// time.Now.
func Open(dir string, now func() time.Time) *Keyring {
	if now == nil {
		now = time.Now
	}
	return &Keyring{dir: dir, now: now, cache: map[string]cached{}}
}

// Dir is the keyring's folder.
func (k *Keyring) Dir() string { return k.dir }

// ErrNoKeys is returned for a domain that has no keys.
var ErrNoKeys = errors.New("dkim: no keys for this domain")

func normDomain(d string) (string, error) {
	d = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(d), "."))
	if d == "" || len(d) > 253 || strings.ContainsAny(d, "/\\ \t") || strings.HasPrefix(d, ".") || strings.Contains(d, "..") {
		return "", fmt.Errorf("dkim: %q is not a domain", d)
	}
	return d, nil
}

func (k *Keyring) stateFile(domain string) string {
	return filepath.Join(k.dir, domain, "keys.json")
}

// load reads a domain's state, from the cache while keys.json is unchanged,
// so that a rotation made by the CLI reaches a running server.
func (k *Keyring) load(domain string) (*domainState, error) {
	path := k.stateFile(domain)
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoKeys
	}
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	c, ok := k.cache[domain]
	k.mu.Unlock()
	if ok && c.modTime.Equal(fi.ModTime()) {
		return c.st, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var st domainState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("dkim: %s: %w", path, err)
	}
	for gi := range st.Generations {
		for ki := range st.Generations[gi].Keys {
			key := &st.Generations[gi].Keys[ki]
			if key.signer, err = readKey(filepath.Join(k.dir, domain, key.Selector+".pem")); err != nil {
				return nil, err
			}
		}
	}
	k.mu.Lock()
	k.cache[domain] = cached{st: &st, modTime: fi.ModTime()}
	k.mu.Unlock()
	return &st, nil
}

func readKey(path string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("dkim: %s holds no PEM key", path)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("dkim: %s: %w", path, err)
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("dkim: %s: not a signing key", path)
	}
	return s, nil
}

func (k *Keyring) save(st *domainState) error {
	dir := filepath.Join(k.dir, st.Domain)
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "keys.json.tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, k.stateFile(st.Domain)); err != nil {
		return err
	}
	k.mu.Lock()
	delete(k.cache, st.Domain)
	k.mu.Unlock()
	return nil
}

// newGeneration makes and writes a pair of keys. Selectors carry the date and
// the algorithm ("wm20261202r", "wm20261202e"), with a counter when a domain
// rotates twice in a day.
func (k *Keyring) newGeneration(st *domainState, now time.Time) (Generation, error) {
	dir := filepath.Join(k.dir, st.Domain)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Generation{}, err
	}
	base := "wm" + now.UTC().Format("20060102")
	for n := 0; ; n++ {
		name := base
		if n > 0 {
			name = fmt.Sprintf("%s%d", base, n)
		}
		if _, err := os.Stat(filepath.Join(dir, name+"r.pem")); errors.Is(err, os.ErrNotExist) {
			base = name
			break
		}
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return Generation{}, err
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return Generation{}, err
	}
	g := Generation{Created: now.UTC()}
	for _, kk := range []Key{{Selector: base + "r", Algorithm: RSA, signer: rsaKey}, {Selector: base + "e", Algorithm: Ed25519, signer: edKey}} {
		der, err := x509.MarshalPKCS8PrivateKey(kk.signer)
		if err != nil {
			return Generation{}, err
		}
		data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
		f, err := os.OpenFile(filepath.Join(dir, kk.Selector+".pem"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return Generation{}, err
		}
		if _, err := f.Write(data); err != nil {
			_ = f.Close()
			return Generation{}, err
		}
		if err := f.Close(); err != nil {
			return Generation{}, err
		}
		g.Keys = append(g.Keys, kk)
	}
	return g, nil
}

// Ensure makes keys for each domain that has none. The first generation
// signs at once: nothing was signed before, so there is nothing to overlap
// (publish its records before mail leaves; `wardmail dns records`).
func (k *Keyring) Ensure(domains ...string) error {
	k.writeMu.Lock()
	defer k.writeMu.Unlock()
	for _, d := range domains {
		d, err := normDomain(d)
		if err != nil {
			return err
		}
		if _, err := k.load(d); err == nil {
			continue
		} else if !errors.Is(err, ErrNoKeys) {
			return err
		}
		now := k.now()
		st := &domainState{Domain: d}
		g, err := k.newGeneration(st, now)
		if err != nil {
			return err
		}
		g.Signs = now.UTC()
		st.Generations = []Generation{g}
		if err := k.save(st); err != nil {
			return err
		}
	}
	return nil
}

// Rotate makes a new generation of keys for domain that starts signing after
// overlap, and schedules the generation signing now to be removed an overlap
// after that. It returns the new generation.
func (k *Keyring) Rotate(domain string, overlap time.Duration) (Generation, error) {
	d, err := normDomain(domain)
	if err != nil {
		return Generation{}, err
	}
	if overlap <= 0 {
		overlap = DefaultOverlap
	}
	k.writeMu.Lock()
	defer k.writeMu.Unlock()
	st, err := k.load(d)
	if err != nil {
		return Generation{}, err
	}
	now := k.now().UTC()
	next := *st
	next.Generations = append([]Generation(nil), st.Generations...)
	if last := next.Generations[len(next.Generations)-1]; last.Signs.After(now) {
		return Generation{}, fmt.Errorf("dkim: %s: the keys made %s have not started signing yet (they sign from %s); rotate after that",
			d, last.Created.Format(time.RFC3339), last.Signs.Format(time.RFC3339))
	}
	g, err := k.newGeneration(&next, now)
	if err != nil {
		return Generation{}, err
	}
	g.Signs = now.Add(overlap)
	for i := range next.Generations {
		if next.Generations[i].Retires.IsZero() {
			next.Generations[i].Retires = g.Signs.Add(overlap)
		}
	}
	next.Generations = append(next.Generations, g)
	if err := k.save(&next); err != nil {
		return Generation{}, err
	}
	return g, nil
}

// Prune removes the keys of generations whose retirement has passed.
func (k *Keyring) Prune(domain string) error {
	d, err := normDomain(domain)
	if err != nil {
		return err
	}
	k.writeMu.Lock()
	defer k.writeMu.Unlock()
	st, err := k.load(d)
	if err != nil {
		return err
	}
	now := k.now()
	next := domainState{Domain: d}
	var gone []Key
	for _, g := range st.Generations {
		if !g.Retires.IsZero() && !now.Before(g.Retires) {
			gone = append(gone, g.Keys...)
			continue
		}
		next.Generations = append(next.Generations, g)
	}
	if len(gone) == 0 {
		return nil
	}
	if err := k.save(&next); err != nil {
		return err
	}
	for _, key := range gone {
		if err := os.Remove(filepath.Join(k.dir, d, key.Selector+".pem")); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// Published returns the keys whose records must be in the DNS now: every
// generation not yet retired, the one signing and those about to.
func (k *Keyring) Published(domain string) ([]Key, error) {
	d, err := normDomain(domain)
	if err != nil {
		return nil, err
	}
	st, err := k.load(d)
	if err != nil {
		return nil, err
	}
	now := k.now()
	var out []Key
	for _, g := range st.Generations {
		if g.Retires.IsZero() || now.Before(g.Retires) {
			out = append(out, g.Keys...)
		}
	}
	return out, nil
}

// Generations returns a domain's generations, oldest first.
func (k *Keyring) Generations(domain string) ([]Generation, error) {
	d, err := normDomain(domain)
	if err != nil {
		return nil, err
	}
	st, err := k.load(d)
	if err != nil {
		return nil, err
	}
	return append([]Generation(nil), st.Generations...), nil
}

// signing returns the keys that sign now: the newest generation whose time
// has come.
func (k *Keyring) signing(domain string) ([]Key, error) {
	st, err := k.load(domain)
	if err != nil {
		return nil, err
	}
	now := k.now()
	for i := len(st.Generations) - 1; i >= 0; i-- {
		if !st.Generations[i].Signs.After(now) {
			return st.Generations[i].Keys, nil
		}
	}
	return nil, ErrNoKeys
}
