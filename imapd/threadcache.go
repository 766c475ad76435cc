package imapd

import (
	"container/list"
	"sync"

	"wardmail/mail"
)

// threadCache keeps what THREAD needs of a message's content
// (mail.ThreadMessageOf), decoded once: a message's content never changes,
// so it is kept by content id like the envelopes (envcache.go). Decoding
// the summary's JSON was more than half of THREAD REFERENCES over a
// 100,000-message mailbox. It keeps them by content id, least recently used
// dropped past max entries.
type threadCache struct {
	mu    sync.Mutex
	max   int
	ll    *list.List // front is most recent; values are *threadEntry
	items map[int64]*list.Element
}

type threadEntry struct {
	id int64
	f  *mail.ThreadMessage
}

func newThreadCache(max int) *threadCache {
	return &threadCache{max: max, ll: list.New(), items: make(map[int64]*list.Element)}
}

// get returns the fields cached for a content id, or nil.
func (c *threadCache) get(id int64) *mail.ThreadMessage {
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
	return el.Value.(*threadEntry).f
}

// put remembers fields. Callers must not change them afterwards.
func (c *threadCache) put(id int64, f *mail.ThreadMessage) {
	if c == nil || c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[id]; ok {
		c.ll.MoveToFront(el)
		return
	}
	c.items[id] = c.ll.PushFront(&threadEntry{id: id, f: f})
	for c.ll.Len() > c.max {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.items, old.Value.(*threadEntry).id)
	}
}
