package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// A purge finds its messages by content: every recipient's copy, materialised
// or pending, names the same stored body. The sender's own copy does not: the
// webmail saves it to Sent with a Bcc header the recipients never see, and a
// mail client APPENDs its own bytes. So a purge also looks, in the mailboxes
// of the people who sent the purged messages (every folder), for messages
// with one of the purged Message-IDs, and removes those too (Exchange's
// purge does the same). Nobody else's mailbox is searched by Message-ID: a
// Message-ID is only as unique as its sender makes it.

// purgeTarget is what a purge removes.
type purgeTarget struct {
	id       string // the Message-ID or thread asked for, with brackets
	thread   bool
	subs     []int64
	contents []int64
	senders  []int64         // people who sent them (outside senders have none here)
	ids      map[string]bool // their Message-IDs
}

func (s *Store) purgeTargets(ctx context.Context, id string, thread bool) (*purgeTarget, error) {
	id = strings.TrimSpace(id)
	if id == "" {
		return nil, errors.New("purge: no id given")
	}
	if !strings.HasPrefix(id, "<") {
		id = "<" + id + ">"
	}
	query, args := `SELECT id, content_id, sender_id, message_id FROM submissions WHERE message_id = ?`, []any{id}
	if thread {
		query, args = threadSubmissions(`id, content_id, sender_id, message_id`), []any{id, id}
	}
	rows, err := s.r.QueryContext(ctx, s.q(query+` ORDER BY id`), args...)
	if err != nil {
		return nil, err
	}
	t := &purgeTarget{id: id, thread: thread, ids: map[string]bool{}}
	seen := map[int64]bool{}
	for rows.Next() {
		var sid, cid, sender int64
		var mid string
		if err := rows.Scan(&sid, &cid, &sender, &mid); err != nil {
			rows.Close()
			return nil, err
		}
		t.subs = append(t.subs, sid)
		t.contents = append(t.contents, cid)
		if sender != 0 && !seen[sender] {
			seen[sender] = true
			t.senders = append(t.senders, sender)
		}
		if mid = strings.TrimSpace(mid); mid != "" {
			t.ids[mid] = true
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, err
	}
	if len(t.subs) == 0 {
		what := "message id"
		if thread {
			what = "thread id"
		}
		return nil, fmt.Errorf("%w: no message with %s %s", ErrNotFound, what, id)
	}
	return t, nil
}

// senderCopy is one of a sender's own copies.
type senderCopy struct {
	mailbox, content int64
	uid              uint32
}

// senderCopies finds, on the read pool, the messages in one person's
// mailboxes whose Message-ID is one of ids. It reads each summary's
// envelope only when the stored summary holds the id's text at all.
func (s *Store) senderCopies(ctx context.Context, personID int64, ids map[string]bool) ([]senderCopy, error) {
	var needles [][]byte
	for id := range ids {
		inner := strings.TrimSuffix(strings.TrimPrefix(id, "<"), ">")
		if b, _ := json.Marshal(inner); string(b) != `"`+inner+`"` || inner == "" {
			needles = nil // JSON escapes it: no cheap test, decode every summary
			break
		}
		needles = append(needles, []byte(inner))
	}
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT m.mailbox_id, m.uid, m.content_id, c.summary FROM mail m
		JOIN mailboxes b ON b.id = m.mailbox_id JOIN contents c ON c.id = m.content_id
		WHERE b.person_id = ? ORDER BY m.mailbox_id, m.uid`), personID)
	if err != nil {
		return nil, err
	}
	var out []senderCopy
	for rows.Next() {
		var c senderCopy
		var summary []byte
		if err := rows.Scan(&c.mailbox, &c.uid, &c.content, &summary); err != nil {
			rows.Close()
			return nil, err
		}
		if needles != nil && !containsAny(summary, needles) {
			continue
		}
		var sum struct {
			E struct {
				M string `json:"m"`
			} `json:"e"`
		}
		if json.Unmarshal(summary, &sum) != nil || !ids[strings.TrimSpace(sum.E.M)] {
			continue
		}
		out = append(out, c)
	}
	return out, errors.Join(rows.Err(), rows.Close())
}

func containsAny(b []byte, needles [][]byte) bool {
	for _, n := range needles {
		if bytes.Contains(b, n) {
			return true
		}
	}
	return false
}

// purgeSenderCopies removes the senders' own copies, a chunk per write,
// yielding to queued deliveries between chunks as the rest of the purge does.
func (s *Store) purgeSenderCopies(ctx context.Context, t *purgeTarget, res *PurgeResult) error {
	boxes := map[int64]bool{}
	for _, person := range t.senders {
		copies, err := s.senderCopies(ctx, person, t.ids)
		if err != nil {
			return err
		}
		for len(copies) > 0 {
			chunk := copies[:min(len(copies), purgeChunk)]
			copies = copies[len(chunk):]
			var removed int64
			err := s.Write(ctx, func(tx *Tx) error {
				removed = 0
				byBox := map[int64][]uint32{}
				var order []int64
				for _, c := range chunk {
					// The owner may have deleted it since it was read.
					var one int
					if err := tx.QueryRow(`SELECT 1 FROM mail WHERE mailbox_id = ? AND uid = ?`, c.mailbox, c.uid).Scan(&one); err != nil {
						continue
					}
					if byBox[c.mailbox] == nil {
						order = append(order, c.mailbox)
					}
					byBox[c.mailbox] = append(byBox[c.mailbox], c.uid)
					removed++
				}
				for _, mb := range order {
					if err := removeMessages(tx, mb, byBox[mb]); err != nil {
						return err
					}
					boxes[mb] = true
				}
				return nil
			})
			if err != nil {
				return err
			}
			res.SenderCopies += removed
			for len(copies) > 0 && s.WriteQueueLen() > 0 && ctx.Err() == nil {
				time.Sleep(time.Millisecond)
			}
		}
	}
	res.SenderMailboxes = int64(len(boxes))
	return nil
}

// PurgePreview counts what Purge would remove, changing nothing: what an
// administrator is told before confirming.
func (s *Store) PurgePreview(ctx context.Context, id string, thread bool) (*PurgeResult, error) {
	start := time.Now()
	t, err := s.purgeTargets(ctx, id, thread)
	if err != nil {
		return nil, err
	}
	res := &PurgeResult{Submissions: len(t.subs), DryRun: true}
	posts, err := s.livePosts(ctx, t.subs)
	if err != nil {
		return nil, err
	}
	if res.Pending, err = s.pendingOf(ctx, posts); err != nil {
		return nil, err
	}
	res.Posts = len(posts)
	boxes := map[int64]bool{}
	for i, cid := range t.contents {
		var n int64
		if err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM held WHERE submission_id = ? AND state = 'held'`), t.subs[i]).Scan(&n); err != nil {
			return nil, err
		}
		res.Held += int(n)
		rows, err := s.r.QueryContext(ctx, s.q(`SELECT DISTINCT mailbox_id FROM mail WHERE content_id = ?`), cid)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var mb int64
			if err := rows.Scan(&mb); err != nil {
				rows.Close()
				return nil, err
			}
			boxes[mb] = true
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return nil, err
		}
		if err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM mail WHERE content_id = ?`), cid).Scan(&n); err != nil {
			return nil, err
		}
		res.Removed += n
	}
	res.Mailboxes = int64(len(boxes))
	res.Touched = res.Mailboxes + res.Pending
	content := map[int64]bool{}
	for _, c := range t.contents {
		content[c] = true
	}
	senderBoxes := map[int64]bool{}
	for _, person := range t.senders {
		copies, err := s.senderCopies(ctx, person, t.ids)
		if err != nil {
			return nil, err
		}
		for _, c := range copies {
			if content[c.content] {
				continue // a recipient's copy too: counted in Removed
			}
			res.SenderCopies++
			senderBoxes[c.mailbox] = true
		}
	}
	res.SenderMailboxes = int64(len(senderBoxes))
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// pendingOf counts the members who still have these posts pending, on the
// read pool: for a national list that is a scan of a million positions,
// which must not hold the writer.
func (s *Store) pendingOf(ctx context.Context, posts []livePost) (int64, error) {
	var total int64
	for _, p := range posts {
		var n int64
		if err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM memberships WHERE list_id = ? AND pos < ?`), p.list, p.id).Scan(&n); err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}
