package store

import "sync"

// Hub announces committed changes to mailboxes. A subscriber is told that a
// mailbox changed, not what changed: it asks the store for the changes since
// the MODSEQ it last saw, which is also what a reconnecting QRESYNC client
// does, so there is one way to catch up.
type Hub struct {
	mu   sync.Mutex
	subs map[int64]map[*Subscription]struct{}
}

// Subscription receives a token on C whenever one of its mailboxes changes.
// C has room for one token: changes that arrive while one is pending merge.
type Subscription struct {
	C         chan struct{}
	hub       *Hub
	mailboxes []int64
}

// NewHub returns an empty hub.
func NewHub() *Hub { return &Hub{subs: map[int64]map[*Subscription]struct{}{}} }

// Subscribe watches the given mailboxes.
func (h *Hub) Subscribe(mailboxIDs ...int64) *Subscription {
	sub := &Subscription{C: make(chan struct{}, 1), hub: h, mailboxes: mailboxIDs}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, id := range mailboxIDs {
		m := h.subs[id]
		if m == nil {
			m = map[*Subscription]struct{}{}
			h.subs[id] = m
		}
		m[sub] = struct{}{}
	}
	return sub
}

// SubscribeInbox watches an INBOX and the post logs of the lists its owner
// belongs to: a post to any of them wakes the subscriber, who then
// materialises it (Store.Materialise) and asks for changes as usual.
func (h *Hub) SubscribeInbox(mailboxID int64, listIDs []int64) *Subscription {
	keys := []int64{mailboxID}
	for _, l := range listIDs {
		keys = append(keys, -l)
	}
	return h.Subscribe(keys...)
}

// PersonKey is the hub key of a person's mailbox names and subscriptions
// (Tx.TouchPerson). Mailboxes are positive keys and list post logs negative
// ones (-list id); person keys lie below -2^62, far from any list id, so a
// key means one thing wherever it is carried.
func PersonKey(personID int64) int64 { return -(1 << 62) - personID }

// Close stops the subscription.
func (sub *Subscription) Close() {
	h := sub.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, id := range sub.mailboxes {
		if m := h.subs[id]; m != nil {
			delete(m, sub)
			if len(m) == 0 {
				delete(h.subs, id)
			}
		}
	}
}

// Publish wakes the subscribers of each mailbox. It never blocks.
func (h *Hub) Publish(mailboxIDs ...int64) {
	if len(mailboxIDs) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, id := range mailboxIDs {
		for sub := range h.subs[id] {
			select {
			case sub.C <- struct{}{}:
			default:
			}
		}
	}
}

// publishAll wakes every subscriber: after announcements from other
// processes may have been lost, each asks the store what changed.
func (h *Hub) publishAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, m := range h.subs {
		for sub := range m {
			select {
			case sub.C <- struct{}{}:
			default:
			}
		}
	}
}
