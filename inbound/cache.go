package inbound

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// txtCache keeps TXT answers (SPF, DKIM keys, DMARC policies) for a short
// while: a busy sender's records are asked once a minute, not once a
// message. The Go resolver does not report TTLs, so one short lifetime is
// used for every answer; "no such name" is kept as well, temporary failures
// are not.
type txtCache struct {
	mu   sync.Mutex
	ttl  time.Duration
	max  int
	now  func() time.Time
	m    map[string]txtEntry
	hits uint64
}

type txtEntry struct {
	vals    []string
	err     error
	expires time.Time
}

// TXTResolver is the part of net.Resolver that TXT lookups use.
type TXTResolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

func (c *txtCache) lookup(ctx context.Context, r TXTResolver, name string) ([]string, error) {
	if c.ttl <= 0 {
		return r.LookupTXT(ctx, name)
	}
	now := c.now()
	c.mu.Lock()
	if e, ok := c.m[name]; ok && now.Before(e.expires) {
		c.hits++
		c.mu.Unlock()
		return e.vals, e.err
	}
	c.mu.Unlock()
	vals, err := r.LookupTXT(ctx, name)
	var de *net.DNSError
	if err == nil || (errors.As(err, &de) && de.IsNotFound) {
		c.mu.Lock()
		if len(c.m) >= c.max {
			// Full: start again rather than track ages; the records of
			// the senders of the next minute come back at once.
			c.m = make(map[string]txtEntry, c.max)
		}
		c.m[name] = txtEntry{vals: vals, err: err, expires: now.Add(c.ttl)}
		c.mu.Unlock()
	}
	return vals, err
}

// cachingResolver answers SPF's TXT lookups from the cache and passes its
// other lookups (A, AAAA, MX, PTR) to the resolver.
type cachingResolver struct {
	*net.Resolver
	cache *txtCache
}

func (r cachingResolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	return r.cache.lookup(ctx, r.Resolver, name)
}
