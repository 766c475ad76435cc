package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The post log (DESIGN section 3). A message to a list is one row in posts,
// however many members the list has. Each member's position in the log is
// kept in memberships; posts past it are pending, and are materialised into
// the member's INBOX (given a UID, flags and MODSEQ) when the mailbox is next
// read, or by the idle-time trickle.

// Submission is one accepted message: its direct recipients, the lists it was
// posted to and the lists where it waits for a moderator.
type Submission struct {
	QueueID   string
	MessageID string
	ThreadID  string
	Subject   string
	Sender    string // envelope sender
	SenderID  int64  // the signed-in or local sender, 0 for outside
	Audience  int64  // distinct people it reaches once posted
	Content   *Content
	People    []int64 // delivered now, one row each
	Lists     []int64 // appended to each list's post log
	Held      []HeldPost
	// Junk delivers to each person's Junk folder instead of the INBOX
	// (the scanner's verdict, package scan, or inbound mail judged as junk).
	Junk bool
	// Quarantine keeps the message from every recipient until an
	// administrator releases it (quarantine.go).
	Quarantine *QuarantineHold
	// Outbound is queued for recipients on other servers in the same
	// write (outbound.go); nil when there are none.
	Outbound *Outbound
	Date     time.Time
}

// HeldPost is a list where a submission waits for a moderator.
type HeldPost struct {
	ListID int64 // the list whose moderators decide
	// PostListID is the list the post goes to once every list holding it
	// for this submission approves (0: ListID).
	PostListID int64
	Reason     string
	Expires    time.Time
}

// SubmitResult says what Submit stored.
type SubmitResult struct {
	ID        int64 // the submission's id
	ContentID int64
	Delivered []Delivered
	Posts     []int64 // post ids, one per list
	Held      []int64 // held ids
}

// Submit stores a submission in one durable write: the body once, a row per
// direct recipient, a post per list, a held entry per moderated list. A
// direct recipient who is also a member of one of the lists gets the message
// through the list instead, so it appears once (invariant 2).
func (s *Store) Submit(ctx context.Context, sub *Submission) (*SubmitResult, error) {
	res := &SubmitResult{}
	// A list named twice gets one post (posts_once).
	postTo := slices.Clone(sub.Lists)
	slices.Sort(postTo)
	postTo = slices.Compact(postTo)
	var cid int64
	err := s.Write(ctx, func(tx *Tx) error {
		*res = SubmitResult{}
		// The lists first, in id order, before any INBOX row: every writer
		// takes list locks before mailbox locks.
		for _, l := range postTo {
			if err := lockList(tx, l); err != nil {
				return err
			}
		}
		// The content and submission rows are queued (pipeline.go) and go
		// out with the next statement that waits: by the time anything
		// reads cid or res.ID below, a Flush or a lookup has sent them.
		cid = 0
		putContentLater(tx, sub.Content, &cid)
		now := tx.s.now().Unix()
		var listNames []string
		for _, l := range sub.Lists {
			var a string
			if err := tx.QueryRow(`SELECT address FROM lists WHERE id = ?`, l).Scan(&a); err != nil {
				return fmt.Errorf("store: list %d: %w", l, err)
			}
			listNames = append(listNames, a)
		}
		state := "delivered"
		if len(sub.Lists) == 0 && len(sub.People) == 0 && len(sub.Held) > 0 {
			state = "held"
		}
		if sub.Quarantine != nil {
			state = "quarantined"
		}
		tx.Later(`INSERT INTO submissions (queue_id, message_id, thread_id, subject, sender, sender_id, content_id, audience, lists, direct, state, created_at)
			VALUES (?, ?, ?, ?, ?, ?, `+contentByHash+`, ?, ?, ?, ?, ?) RETURNING id`, []any{&res.ID},
			sub.QueueID, sub.MessageID, sub.ThreadID, sub.Subject, sub.Sender, sub.SenderID, sub.Content.Hash, sub.Audience,
			strings.Join(listNames, " "), len(sub.People), state, now)
		if sub.Quarantine != nil || sub.Outbound != nil || len(sub.Lists) > 0 || len(sub.Held) > 0 {
			if err := tx.Flush(); err != nil {
				return err
			}
		}
		if sub.Quarantine != nil {
			return quarantineTx(tx, sub, res.ID, cid)
		}
		if err := insertOutbound(tx, res.ID, cid, sub); err != nil {
			return err
		}
		// Each appended place is filled once its statements have run
		// (pipeline.go): the slice is made big enough never to move.
		res.Delivered = make([]Delivered, 0, len(sub.People))
		seen := make(map[int64]bool, len(sub.People))
		for _, pid := range sub.People {
			if seen[pid] {
				continue
			}
			seen[pid] = true
			viaList, err := memberOfAny(tx, pid, sub.Lists)
			if err != nil {
				return err
			}
			if viaList {
				continue
			}
			if !sub.Junk {
				res.Delivered = append(res.Delivered, Delivered{})
				add := appendToInbox
				if len(sub.People) == 1 && len(sub.Lists) == 0 {
					add = appendToInboxLater
				}
				if err := add(tx, pid, sub.Content.Hash, &cid, sub.Date, &res.Delivered[len(res.Delivered)-1]); err != nil {
					return err
				}
				continue
			}
			// The queued rows go out with this lookup: cid is set after it.
			if _, err := deliveryInbox(tx, pid); err != nil {
				return err
			}
			to, err := junkMailbox(tx, pid)
			if err != nil {
				return err
			}
			uid, err := appendRow(tx, to, cid, 0, "", sub.Date)
			if err != nil {
				return err
			}
			res.Delivered = append(res.Delivered, Delivered{PersonID: pid, MailboxID: to, UID: uid})
		}
		posted := map[int64]bool{}
		for _, l := range sub.Lists {
			if posted[l] {
				continue
			}
			posted[l] = true
			var id int64
			if err := tx.QueryRow(`INSERT INTO posts (list_id, submission_id, content_id, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
				l, res.ID, cid, sub.Date.Unix()).Scan(&id); err != nil {
				return err
			}
			res.Posts = append(res.Posts, id)
			tx.TouchList(l)
		}
		for _, h := range sub.Held {
			var id int64
			to := h.PostListID
			if to == 0 {
				to = h.ListID
			}
			if err := tx.QueryRow(`INSERT INTO held (list_id, post_list_id, submission_id, content_id, sender, reason, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				h.ListID, to, res.ID, cid, sub.Sender, h.Reason, now, h.Expires.Unix()).Scan(&id); err != nil {
				return err
			}
			res.Held = append(res.Held, id)
		}
		return nil
	})
	if err == nil {
		res.ContentID = cid
		s.metrics.deliveries.Add(float64(len(res.Delivered)))
	}
	return res, err
}

func memberOfAny(tx *Tx, personID int64, listIDs []int64) (bool, error) {
	for _, l := range listIDs {
		var one int
		err := tx.QueryRow(`SELECT 1 FROM memberships WHERE list_id = ? AND person_id = ?`, l, personID).Scan(&one)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return false, err
		}
	}
	return false, nil
}

// HasPending reports whether a person has posts waiting to be materialised.
// It is a read, cheap enough to ask on every SELECT.
func (s *Store) HasPending(ctx context.Context, personID int64) (bool, error) {
	return s.exists(ctx, `SELECT 1 FROM memberships m JOIN posts p ON p.list_id = m.list_id AND p.id > m.pos WHERE m.person_id = ? LIMIT 1`, personID)
}

// PendingCount is how many distinct messages wait for a person in the post
// logs: what an unread count adds to the materialised unseen rows.
func (s *Store) PendingCount(ctx context.Context, personID int64) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(DISTINCT p.content_id) FROM memberships m
		JOIN posts p ON p.list_id = m.list_id AND p.id > m.pos WHERE m.person_id = ? AND p.purged = 0`), personID).Scan(&n)
	return n, err
}

// Materialise puts a person's pending posts into their INBOX and returns
// how many messages it added. It does nothing (and writes nothing) when
// nothing is pending.
func (s *Store) Materialise(ctx context.Context, personID int64) (int, error) {
	pending, err := s.HasPending(ctx, personID)
	if err != nil || !pending {
		return 0, err
	}
	s.takeInAt.Store(time.Now().UnixNano())
	var n int
	err = s.Write(ctx, func(tx *Tx) error {
		var err error
		n, err = materialise(tx, personID, 0)
		return err
	})
	if err == nil && n > 0 {
		s.metrics.materialised.Add(float64(n))
	}
	return n, err
}

// LastTakeIn is when a reader last took list posts into their INBOX on this
// node (Materialise with posts pending), the zero time if never: while
// readers take in their own, the idle-time trickle keeps out of their way
// (server/workers.go).
func (s *Store) LastTakeIn() time.Time {
	n := s.takeInAt.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// materialise appends the pending posts of one list (or of all, listID 0)
// to the person's INBOX, each message once, and moves the person's
// positions past what it read.
//
// Several writers (nodes sharing PostgreSQL, or a node's trickle and a
// session's SELECT) may materialise the same person at once. The INBOX row
// is locked before anything is added, and on a database whose statements
// each see the latest commits (PostgreSQL's READ COMMITTED) the pending
// posts are read again under that lock: a writer that waited finds the
// rows the other added and the positions it moved. mail_post_once refuses
// a second row whatever happens.
func materialise(tx *Tx, personID, listID int64) (int, error) {
	n, _, err := materialiseUpTo(tx, personID, listID, 0)
	return n, err
}

// materialiseUpTo is materialise for at most limit posts (0: all), the
// oldest first; more reports that posts were left pending. A prefix of the
// log in id order holds a prefix of each list's posts, so each list's
// position still moves past exactly what was read.
func materialiseUpTo(tx *Tx, personID, listID int64, limit int) (added int, more bool, err error) {
	posts, found, err := pendingPosts(tx, personID, listID, limit)
	if err != nil || !found {
		return 0, false, err
	}
	more = limit > 0 && len(posts) == limit
	var add []newRow
	var inboxID int64
	if slices.ContainsFunc(posts, func(p pendingPost) bool { return !p.purged }) {
		inbox, err := ensureMailboxes(tx, personID)
		if err != nil {
			return 0, false, err
		}
		if _, err := tx.Exec(`UPDATE mailboxes SET uid_next = uid_next WHERE id = ?`, inbox.ID); err != nil {
			return 0, false, err
		}
		if tx.s.statementSnapshots {
			if posts, found, err = pendingPosts(tx, personID, listID, limit); err != nil || !found {
				return 0, false, err
			}
		}
		inboxID = inbox.ID
		seen := map[int64]bool{}
		for _, p := range posts {
			// p.there: already in one of the person's folders, by name
			// or by another list.
			if p.purged || p.there || seen[p.content] {
				continue
			}
			seen[p.content] = true
			add = append(add, newRow{contentID: p.content, date: time.Unix(p.date, 0)})
		}
	}
	if err := appendRows(tx, inboxID, add); err != nil {
		return 0, false, err
	}
	// Each list's position moves to the newest of its posts read here, not
	// to the end of the whole log: a post to another list still being
	// committed elsewhere may hold a smaller id. Posts to one list commit in
	// id order (lockList), so nothing of this list is passed over.
	ends := map[int64]int64{}
	var lists []int64
	for _, p := range posts {
		if _, ok := ends[p.list]; !ok {
			lists = append(lists, p.list)
		}
		ends[p.list] = max(ends[p.list], p.id)
	}
	for _, l := range lists {
		if _, err := tx.Exec(`UPDATE memberships SET pos = ? WHERE list_id = ? AND person_id = ? AND pos < ?`,
			ends[l], l, personID, ends[l]); err != nil {
			return 0, false, err
		}
	}
	return len(add), more, nil
}

// pendingPost is a post past a member's position.
type pendingPost struct {
	id, list, content, date int64
	purged                  bool
	there                   bool // its message is already in one of the member's folders
}

// pendingPosts reads a person's pending posts (of one list, or of all with
// listID 0) in log order, the first limit of them (0: all); found is false
// when there are none. Whether each post's message is already in one of the
// person's folders is read in the same statement: one look-up a post in a
// statement of its own cost as much as the inserts that follow.
func pendingPosts(tx *Tx, personID, listID int64, limit int) (posts []pendingPost, found bool, err error) {
	query := `SELECT p.id, p.list_id, p.content_id, p.created_at, p.purged,
		CASE WHEN EXISTS (SELECT 1 FROM mail x WHERE x.content_id = p.content_id
			AND x.mailbox_id IN (SELECT b.id FROM mailboxes b WHERE b.person_id = ?)) THEN 1 ELSE 0 END
		FROM memberships m JOIN posts p ON p.list_id = m.list_id AND p.id > m.pos WHERE m.person_id = ?`
	args := []any{personID, personID}
	if listID != 0 {
		query += ` AND m.list_id = ?`
		args = append(args, listID)
	}
	query += ` ORDER BY p.id`
	if limit > 0 {
		query += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := tx.Query(query, args...)
	if err != nil {
		return nil, false, err
	}
	for rows.Next() {
		var p pendingPost
		var purged, there int64
		if err := rows.Scan(&p.id, &p.list, &p.content, &p.date, &purged, &there); err != nil {
			rows.Close()
			return nil, false, err
		}
		p.purged, p.there = purged != 0, there != 0
		posts = append(posts, p)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, false, err
	}
	return posts, len(posts) > 0, nil
}

// lockList takes a list's row lock until the write commits. Whoever adds a
// post to a list or sets a member's position in it holds it, so posts to
// one list commit in the order of their ids and a position never passes a
// post still being committed (invariant 1 with several writers). Lists are
// locked in ascending id order (callers sort) so that two writers taking
// several never wait for each other in a circle.
func lockList(tx *Tx, listID int64) error {
	_, err := tx.Exec(`UPDATE lists SET size = size WHERE id = ?`, listID)
	return err
}

// trickleChunk bounds the posts one write of the trickle takes in for one
// person: a reader whose own materialisation queues behind the trickle
// waits for at most this many rows, not for a whole backlog of a list
// flood (hundreds of posts a member).
const trickleChunk = 64

// Trickle materialises pending posts for up to limit people, oldest
// positions first, for the background worker that runs when the system is
// idle. It returns how many people it served. Each write takes in at most
// trickleChunk posts, and the trickle gives way as soon as another write
// is waiting (a session's SELECT taking in its own posts, a delivery): it
// stops there, and the worker comes back at its next idle moment. It also
// stops at ctx's deadline, the worker's share of the time: a list flood
// leaves millions of rows pending, and a trickle that ran until they were
// all in would take the CPU from the very readers it serves.
func (s *Store) Trickle(ctx context.Context, limit int) (int, error) {
	served, err := s.trickle(ctx, limit)
	if errors.Is(err, context.DeadlineExceeded) {
		// The time was up before the write was queued: nothing was lost.
		return served, nil
	}
	return served, err
}

func (s *Store) trickle(ctx context.Context, limit int) (int, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT DISTINCT m.person_id FROM memberships m
		JOIN posts p ON p.list_id = m.list_id AND p.id > m.pos LIMIT ?`), limit)
	if err != nil {
		return 0, err
	}
	var people []int64
	for rows.Next() {
		var p int64
		if err := rows.Scan(&p); err != nil {
			rows.Close()
			return 0, err
		}
		people = append(people, p)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, err
	}
	deadline, timed := ctx.Deadline()
	served := 0
	for _, p := range people {
		for more := true; more; {
			if s.WriteQueueLen() > 0 || timed && !time.Now().Before(deadline) {
				return served, nil
			}
			var n int
			err := s.Write(ctx, func(tx *Tx) error {
				var err error
				n, more, err = materialiseUpTo(tx, p, 0, trickleChunk)
				return err
			})
			if err != nil {
				return served, err
			}
			s.metrics.materialised.Add(float64(n))
		}
		served++
	}
	return served, nil
}
