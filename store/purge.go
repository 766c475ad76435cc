package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// PurgeResult says what a purge did.
type PurgeResult struct {
	Submissions int   `json:"submissions"`
	Posts       int   `json:"posts"`     // post-log entries cancelled
	Pending     int64 `json:"pending"`   // members who had it pending and now never will
	Removed     int64 `json:"removed"`   // materialised mailbox rows expunged
	Mailboxes   int64 `json:"mailboxes"` // distinct mailboxes that lost a row
	Touched     int64 `json:"touched"`   // Mailboxes + Pending: every mailbox it reached
	Held        int   `json:"held"`      // held posts withdrawn
	Outbound    int64 `json:"outbound"`  // queued copies to other servers withdrawn before they left
	// The senders' own copies with the same Message-ID (their Sent folder,
	// a client's APPEND): other bytes, so not counted in Removed.
	SenderCopies    int64   `json:"sender_copies"`
	SenderMailboxes int64   `json:"sender_mailboxes"`  // the senders' folders that lost one
	DryRun          bool    `json:"dry_run,omitempty"` // counted, nothing removed
	Seconds         float64 `json:"seconds"`
}

// purgeChunk bounds the rows one write removes: small enough that a write
// of the purge, sharing a group commit with deliveries, adds little to
// their wait.
const purgeChunk = 500

// Purge removes every submission with this Message-ID (thread false) or in
// this thread (thread true) from every mailbox, materialised or pending
// (DESIGN section 3, invariant 3), and the senders' own copies (purge_sent.go).
// Open IMAP sessions see EXPUNGE through the hub. It is recorded in the audit
// trail.
func (s *Store) Purge(ctx context.Context, actor, id string, thread bool) (*PurgeResult, error) {
	start := time.Now()
	t, err := s.purgeTargets(ctx, id, thread)
	if err != nil {
		return nil, err
	}
	subs, contents, id := t.subs, t.contents, t.id
	res := &PurgeResult{Submissions: len(subs)}
	posts, err := s.livePosts(ctx, subs)
	if err != nil {
		return nil, err
	}
	if res.Pending, err = s.pendingOf(ctx, posts); err != nil {
		return nil, err
	}
	// Then stop the posts, in one small write: nobody materialises them
	// from now on.
	err = s.Write(ctx, func(tx *Tx) error {
		res.Posts, res.Held, res.Outbound = 0, 0, 0
		for _, p := range posts {
			r, err := tx.Exec(`UPDATE posts SET purged = 1 WHERE id = ? AND purged = 0`, p.id)
			if err != nil {
				return err
			}
			n, _ := r.RowsAffected()
			res.Posts += int(n)
		}
		for _, sid := range subs {
			r, err := tx.Exec(`UPDATE held SET state = 'purged' WHERE submission_id = ? AND state = 'held'`, sid)
			if err != nil {
				return err
			}
			n, _ := r.RowsAffected()
			res.Held += int(n)
			out, err := purgeOutbound(tx, sid)
			if err != nil {
				return err
			}
			res.Outbound += out
			if _, err := tx.Exec(`UPDATE submissions SET state = 'purged' WHERE id = ?`, sid); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Then remove what was materialised, a chunk per write.
	boxes := map[int64]bool{}
	for _, cid := range contents {
		for {
			var removed int
			err := s.Write(ctx, func(tx *Tx) error {
				removed = 0
				r, err := tx.Query(`SELECT mailbox_id, uid FROM mail WHERE content_id = ? ORDER BY mailbox_id LIMIT ?`, cid, purgeChunk)
				if err != nil {
					return err
				}
				byBox := map[int64][]uint32{}
				var order []int64
				for r.Next() {
					var mb int64
					var uid uint32
					if err := r.Scan(&mb, &uid); err != nil {
						r.Close()
						return err
					}
					if byBox[mb] == nil {
						order = append(order, mb)
					}
					byBox[mb] = append(byBox[mb], uid)
					removed++
				}
				if err := errors.Join(r.Err(), r.Close()); err != nil {
					return err
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
				return res, err
			}
			res.Removed += int64(removed)
			if removed < purgeChunk {
				break
			}
			// Let queued deliveries and reads' writes go first.
			for s.WriteQueueLen() > 0 && ctx.Err() == nil {
				time.Sleep(time.Millisecond)
			}
		}
	}
	res.Mailboxes = int64(len(boxes))
	res.Touched = res.Mailboxes + res.Pending
	// Last, the senders' own copies (Sent, or wherever they filed them):
	// other bytes, the same Message-ID.
	if err := s.purgeSenderCopies(ctx, t, res); err != nil {
		return res, err
	}
	res.Seconds = time.Since(start).Seconds()
	s.metrics.purged.Add(float64(res.Removed + res.SenderCopies))
	target := "message " + id
	if thread {
		target = "thread " + id
	}
	return res, s.Audit(ctx, actor, "message.purge", target, res)
}

// Trace is where a message went.
type Trace struct {
	ID        int64     `json:"id"`
	QueueID   string    `json:"queue_id"`
	MessageID string    `json:"message_id"`
	ThreadID  string    `json:"thread_id"`
	Subject   string    `json:"subject"`
	Sender    string    `json:"sender"`
	At        time.Time `json:"at"`
	Audience  int64     `json:"audience"`
	Lists     []string  `json:"lists"`
	Direct    int64     `json:"direct"`
	State     string    `json:"state"`
	// Where it is now: rows in mailboxes, members who still have it pending
	// in a post log, posts held for moderators.
	Materialised int64 `json:"materialised"`
	Pending      int64 `json:"pending"`
	Held         int64 `json:"held"`
	// What happened on the way (trace_events.go): each time a list held it
	// and what became of it, and the purge that removed it.
	Moderation []TraceHeld `json:"moderation"`
	Purged     *TracePurge `json:"purged,omitempty"`
	// Outbound: each recipient on another server, what its server
	// answered (the remote's 250 and queue id) and any notice it sent back.
	Outbound []*QueuedRcpt `json:"outbound"`
}

// TraceMessage follows every submission with a Message-ID.
func (s *Store) TraceMessage(ctx context.Context, messageID string) ([]Trace, error) {
	messageID = strings.TrimSpace(messageID)
	if !strings.HasPrefix(messageID, "<") {
		messageID = "<" + messageID + ">"
	}
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT id, queue_id, message_id, thread_id, subject, sender, created_at, audience, lists, direct, state, content_id
		FROM submissions WHERE message_id = ? ORDER BY id`), messageID)
	if err != nil {
		return nil, err
	}
	var out []Trace
	var contents []int64
	for rows.Next() {
		var t Trace
		var at, cid int64
		var lists string
		if err := rows.Scan(&t.ID, &t.QueueID, &t.MessageID, &t.ThreadID, &t.Subject, &t.Sender, &at, &t.Audience, &lists, &t.Direct, &t.State, &cid); err != nil {
			rows.Close()
			return nil, err
		}
		t.At, t.Lists = time.Unix(at, 0).UTC(), strings.Fields(lists)
		if t.Lists == nil {
			t.Lists = []string{}
		}
		out = append(out, t)
		contents = append(contents, cid)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, err
	}
	for i := range out {
		if err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM mail WHERE content_id = ?`), contents[i]).Scan(&out[i].Materialised); err != nil {
			return nil, err
		}
		if err := s.r.QueryRowContext(ctx, s.q(`SELECT COALESCE(SUM((SELECT COUNT(*) FROM memberships m WHERE m.list_id = p.list_id AND m.pos < p.id)), 0)
			FROM posts p WHERE p.submission_id = ? AND p.purged = 0`), out[i].ID).Scan(&out[i].Pending); err != nil {
			return nil, err
		}
		if err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM held WHERE submission_id = ? AND state = 'held'`), out[i].ID).Scan(&out[i].Held); err != nil {
			return nil, err
		}
		if err := s.traceEvents(ctx, &out[i]); err != nil {
			return nil, err
		}
		if err := s.traceOutbound(ctx, &out[i]); err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no message with Message-ID %s", ErrNotFound, messageID)
	}
	return out, nil
}

type livePost struct{ id, list int64 }

// livePosts returns the posts of the submissions not yet purged.
func (s *Store) livePosts(ctx context.Context, subs []int64) ([]livePost, error) {
	var out []livePost
	for _, sid := range subs {
		rows, err := s.r.QueryContext(ctx, s.q(`SELECT id, list_id FROM posts WHERE submission_id = ? AND purged = 0`), sid)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var p livePost
			if err := rows.Scan(&p.id, &p.list); err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, p)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return nil, err
		}
	}
	return out, nil
}
