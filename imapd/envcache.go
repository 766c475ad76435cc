package imapd

import (
	"container/list"
	"sync"

	"wardmail/message"
)

// envelopeCache keeps decoded envelopes by content id. Content never
// changes once stored, so entries need no invalidation; the cache only
// bounds its size, dropping the least recently used. A post to a large
// list is one content read by many people, and a client reopening a big
// mailbox fetches the same envelopes again: both hit here instead of
// decoding JSON (what Dovecot's index cache does for its clients).
type envelopeCache struct {
	mu    sync.Mutex
	max   int
	ll    *list.List // front is most recent; values are *envEntry
	items map[int64]*list.Element
}

type envEntry struct {
	id  int64
	env *message.Envelope
}

func newEnvelopeCache(max int) *envelopeCache {
	return &envelopeCache{max: max, ll: list.New(), items: make(map[int64]*list.Element)}
}

// get returns the cached envelope for a content id, or nil.
func (c *envelopeCache) get(id int64) *message.Envelope {
	if c == nil || c.max <= 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[id]
	if !ok {
		return nil
	}
	c.ll.MoveToFront(el)
	return el.Value.(*envEntry).env
}

// put remembers an envelope. Callers must not change it afterwards.
func (c *envelopeCache) put(id int64, env *message.Envelope) {
	if c == nil || c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[id]; ok {
		c.ll.MoveToFront(el)
		return
	}
	c.items[id] = c.ll.PushFront(&envEntry{id: id, env: env})
	for c.ll.Len() > c.max {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.items, old.Value.(*envEntry).id)
	}
}
