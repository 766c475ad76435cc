package store

import (
	"container/list"
	"context"
	"slices"
	"sort"
	"sync"
)

// The snapshot cache. SELECT reads the UID, flags and MODSEQ of every
// message in the mailbox (RFC 9051 6.3.2 counts them, RFC 7162 needs the
// MODSEQs); for a 10,000-message INBOX that is 10,000 rows, about 10 ms,
// on every open. A mailbox's HIGHESTMODSEQ moves with every change to it
// (an arrival, a flag change, an expunge: each takes a new MODSEQ, and an
// expunge leaves a tombstone in vanished), so a snapshot taken at one
// HIGHESTMODSEQ is brought up to date by what changed since, the same
// read as CONDSTORE's CHANGEDSINCE and QRESYNC's VANISHED (Changes). The
// database stays the truth: the cache is checked against the mailbox row
// on every read, and a node that missed a change simply reads more rows.

const (
	// snapCacheMin is the smallest mailbox worth keeping: below it a full
	// read costs about as much as the check.
	snapCacheMin = 1000
	// snapCacheRefs bounds the cache by messages held (about 40 bytes
	// each, flags aside).
	snapCacheRefs = 1_000_000
)

type snapEntry struct {
	id     int64
	modseq uint64
	refs   []MessageRef
	elem   *list.Element
}

type snapCache struct {
	mu    sync.Mutex
	byID  map[int64]*snapEntry
	lru   list.List // front: most recently used
	total int
}

func (c *snapCache) get(id int64) (uint64, []MessageRef, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byID[id]
	if !ok {
		return 0, nil, false
	}
	c.lru.MoveToFront(e.elem)
	return e.modseq, e.refs, true
}

func (c *snapCache) put(id int64, modseq uint64, refs []MessageRef) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byID == nil {
		c.byID = map[int64]*snapEntry{}
	}
	if e, ok := c.byID[id]; ok {
		if e.modseq > modseq {
			return // a newer snapshot got here first
		}
		c.total -= len(e.refs)
		c.lru.Remove(e.elem)
		delete(c.byID, id)
	}
	if len(refs) < snapCacheMin || len(refs) > snapCacheRefs/4 {
		return
	}
	e := &snapEntry{id: id, modseq: modseq, refs: refs}
	e.elem = c.lru.PushFront(e)
	c.byID[id] = e
	c.total += len(refs)
	for c.total > snapCacheRefs {
		old := c.lru.Back().Value.(*snapEntry)
		c.lru.Remove(old.elem)
		delete(c.byID, old.id)
		c.total -= len(old.refs)
	}
}

// Snapshot returns every message of a mailbox (UID order) and the mailbox
// as of the same moment.
func (s *Store) Snapshot(ctx context.Context, mailboxID int64) ([]MessageRef, *Mailbox, error) {
	if since, cached, ok := s.snaps.get(mailboxID); ok {
		changed, vanished, m, err := s.Changes(ctx, mailboxID, since)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case m.HighestModSeq == since:
			return slices.Clone(cached), m, nil
		case m.HighestModSeq > since:
			refs := mergeRefs(cached, changed, vanished)
			s.snaps.put(mailboxID, m.HighestModSeq, refs)
			return slices.Clone(refs), m, nil
		}
		// Older than the cache: not the mailbox it was. Read it all.
	}
	refs, m, err := s.readSnapshot(ctx, mailboxID)
	if err != nil {
		return nil, nil, err
	}
	s.snaps.put(mailboxID, m.HighestModSeq, slices.Clone(refs))
	return refs, m, nil
}

// mergeRefs applies what changed since a snapshot: changed rows (new or
// with new flags) replace or join the old ones, vanished UIDs leave. Both
// inputs and the result are in UID order.
func mergeRefs(old, changed []MessageRef, vanished []uint32) []MessageRef {
	gone := func(uid uint32) bool {
		i := sort.Search(len(vanished), func(i int) bool { return vanished[i] >= uid })
		return i < len(vanished) && vanished[i] == uid
	}
	out := make([]MessageRef, 0, len(old)+len(changed))
	i, j := 0, 0
	for i < len(old) || j < len(changed) {
		var r MessageRef
		switch {
		case j == len(changed) || (i < len(old) && old[i].UID < changed[j].UID):
			r = old[i]
			i++
		case i == len(old) || changed[j].UID < old[i].UID:
			r = changed[j]
			j++
		default: // the same message, changed
			r = changed[j]
			i++
			j++
		}
		if !gone(r.UID) {
			out = append(out, r)
		}
	}
	return out
}
