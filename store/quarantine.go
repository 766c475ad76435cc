package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// QuarantineHold says why a submission is kept from its recipients (the
// scanner's verdict, package scan).
type QuarantineHold struct {
	Kind   string // "malware", "spam"
	Reason string
}

// Quarantined is a message in the administrators' quarantine, with the
// recipients the asker may see.
type Quarantined struct {
	ID         int64            `json:"id"`
	QueueID    string           `json:"queue_id"`
	Sender     string           `json:"sender"`
	Subject    string           `json:"subject"`
	Kind       string           `json:"verdict"`
	Reason     string           `json:"reason"`
	Created    time.Time        `json:"created"`
	Size       int64            `json:"size"`
	Recipients []QuarantineRcpt `json:"recipients"`
}

// QuarantineRcpt is one recipient of a quarantined message and what was
// decided for them.
type QuarantineRcpt struct {
	Address   string    `json:"address"`
	PersonID  int64     `json:"-"`
	ListID    int64     `json:"-"`
	State     string    `json:"state"` // held, released, deleted
	DecidedBy string    `json:"decided_by,omitempty"`
	DecidedAt time.Time `json:"decided_at,omitzero"`
	// Moderated says the list's moderators held the post: a release puts
	// it in their queue.
	Moderated bool `json:"moderated,omitempty"`

	postListID, holdSeconds int64
	heldReason              string
}

// QuarantineScope is whose recipients an administrator may see and decide
// for: everyone, or the people of some organisations and the lists owned by
// people of those organisations (decided by the privilege model; the store
// only filters).
type QuarantineScope struct {
	All  bool
	Orgs []int64
}

// quarantineTx keeps a submission in the quarantine instead of delivering
// it: one row for the message, one per recipient (people by name and
// lists), no mailbox row and no post.
func quarantineTx(tx *Tx, sub *Submission, submissionID, contentID int64) error {
	var id int64
	if err := tx.QueryRow(`INSERT INTO quarantine (submission_id, content_id, queue_id, sender, subject, kind, reason, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, submissionID, contentID, sub.QueueID, sub.Sender, sub.Subject,
		sub.Quarantine.Kind, sub.Quarantine.Reason, tx.s.now().Unix()).Scan(&id); err != nil {
		return err
	}
	add := func(query string, ref int64, person bool, h *HeldPost) error {
		var addr string
		if err := tx.QueryRow(query, ref).Scan(&addr); err != nil {
			return fmt.Errorf("store: quarantine recipient %d: %w", ref, err)
		}
		var pid, lid, postTo, holdFor int64
		reason := ""
		if person {
			pid = ref
		} else {
			lid = ref
		}
		if h != nil {
			postTo, reason, holdFor = h.PostListID, h.Reason, int64(h.Expires.Sub(sub.Date)/time.Second)
			if postTo == 0 {
				postTo = h.ListID
			}
		}
		_, err := tx.Exec(`INSERT INTO quarantine_rcpts (quarantine_id, address, person_id, list_id, post_list_id, held_reason, hold_seconds)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (quarantine_id, address) DO NOTHING`, id, addr, pid, lid, postTo, reason, holdFor)
		return err
	}
	for _, p := range sub.People {
		if err := add(`SELECT email FROM people WHERE id = ?`, p, true, nil); err != nil {
			return err
		}
	}
	for _, l := range sub.Lists {
		if err := add(`SELECT address FROM lists WHERE id = ?`, l, false, nil); err != nil {
			return err
		}
	}
	// A post its lists' moderators hold: the moderating list is the
	// recipient, and a release puts the post in its queue.
	for i := range sub.Held {
		if err := add(`SELECT address FROM lists WHERE id = ?`, sub.Held[i].ListID, false, &sub.Held[i]); err != nil {
			return err
		}
	}
	return nil
}

// junkMailbox is the person's Junk folder (special use \Junk, RFC 6154),
// made again if they deleted it.
func junkMailbox(tx *Tx, personID int64) (int64, error) {
	var id int64
	err := tx.QueryRow(`SELECT id FROM mailboxes WHERE person_id = ? AND special_use = ? ORDER BY id LIMIT 1`, personID, `\Junk`).Scan(&id)
	if !errors.Is(err, sql.ErrNoRows) {
		return id, err
	}
	name := "Junk"
	var taken int
	if err := tx.QueryRow(`SELECT COUNT(*) FROM mailboxes WHERE person_id = ? AND name = ?`, personID, name).Scan(&taken); err != nil {
		return 0, err
	}
	if taken > 0 {
		// A folder of their own called Junk, without the special use:
		// it is where they would look, so it becomes the Junk folder.
		err := tx.QueryRow(`UPDATE mailboxes SET special_use = ? WHERE person_id = ? AND name = ? RETURNING id`, `\Junk`, personID, name).Scan(&id)
		return id, err
	}
	v, err := nextUIDValidities(tx, 1)
	if err != nil {
		return 0, err
	}
	err = tx.QueryRow(`INSERT INTO mailboxes (person_id, name, special_use, created_at, uid_validity) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		personID, name, `\Junk`, tx.s.now().Unix(), v).Scan(&id)
	return id, err
}

// scopeFilter is the SQL condition (on quarantine_rcpts r) for the
// recipients a scope covers, and its arguments.
func scopeFilter(scope QuarantineScope) (string, []any) {
	if scope.All {
		return "1 = 1", nil
	}
	if len(scope.Orgs) == 0 {
		return "1 = 0", nil
	}
	in := "?" + strings.Repeat(", ?", len(scope.Orgs)-1)
	var args []any
	for range 2 {
		for _, o := range scope.Orgs {
			args = append(args, o)
		}
	}
	return `((r.person_id <> 0 AND EXISTS (SELECT 1 FROM people p WHERE p.id = r.person_id AND p.org_id IN (` + in + `)))
		OR (r.list_id <> 0 AND EXISTS (SELECT 1 FROM list_owners lo JOIN people p ON p.id = lo.person_id
			WHERE lo.list_id = r.list_id AND p.org_id IN (` + in + `))))`, args
}

// Quarantine lists the quarantined messages with a recipient the scope
// covers, newest first; held only: those still waiting for a decision.
func (s *Store) Quarantine(ctx context.Context, scope QuarantineScope, heldOnly bool, limit int) ([]Quarantined, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	cond, args := scopeFilter(scope)
	state := ""
	if heldOnly {
		state = ` AND r.state = 'held'`
	}
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT DISTINCT q.id FROM quarantine q JOIN quarantine_rcpts r ON r.quarantine_id = q.id
		WHERE `+cond+state+` ORDER BY q.id DESC LIMIT ?`), append(args, limit)...)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	out := make([]Quarantined, 0, len(ids))
	for _, id := range ids {
		q, err := s.QuarantinedMessage(ctx, id, scope)
		if err != nil {
			return nil, err
		}
		out = append(out, *q)
	}
	return out, nil
}

// QuarantinedMessage returns one quarantined message with the recipients
// the scope covers; ErrNotFound when there is none (or none it covers).
func (s *Store) QuarantinedMessage(ctx context.Context, id int64, scope QuarantineScope) (*Quarantined, error) {
	q := &Quarantined{ID: id}
	var created int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT q.queue_id, q.sender, q.subject, q.kind, q.reason, q.created_at, c.size
		FROM quarantine q JOIN contents c ON c.id = q.content_id WHERE q.id = ?`), id).
		Scan(&q.QueueID, &q.Sender, &q.Subject, &q.Kind, &q.Reason, &created, &q.Size)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, err
	}
	q.Created = time.Unix(created, 0).UTC()
	cond, args := scopeFilter(scope)
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT r.address, r.person_id, r.list_id, r.state, r.decided_by, r.decided_at, r.held_reason <> ''
		FROM quarantine_rcpts r WHERE r.quarantine_id = ? AND `+cond+` ORDER BY r.address`), append([]any{id}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var r QuarantineRcpt
		var at int64
		if err := rows.Scan(&r.Address, &r.PersonID, &r.ListID, &r.State, &r.DecidedBy, &at, &r.Moderated); err != nil {
			return nil, err
		}
		if at > 0 {
			r.DecidedAt = time.Unix(at, 0).UTC()
		}
		q.Recipients = append(q.Recipients, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(q.Recipients) == 0 {
		return nil, ErrNotFound
	}
	return q, nil
}

// QuarantineDecision says what a release or delete did.
type QuarantineDecision struct {
	Recipients []string    `json:"recipients"` // the addresses decided for
	Delivered  []Delivered `json:"-"`
	Posts      int         `json:"posts"` // list posts appended
	Held       int         `json:"held"`  // posts put in their lists' moderation queues
}

// ReleaseQuarantined delivers a quarantined message to the recipients the
// scope covers that are still held: into each person's INBOX, onto each
// list's post log. It is audited in the same write.
func (s *Store) ReleaseQuarantined(ctx context.Context, actor string, id int64, scope QuarantineScope) (*QuarantineDecision, error) {
	return s.decideQuarantined(ctx, actor, id, scope, "released")
}

// DeleteQuarantined drops a quarantined message for the recipients the
// scope covers that are still held. It is audited in the same write.
func (s *Store) DeleteQuarantined(ctx context.Context, actor string, id int64, scope QuarantineScope) (*QuarantineDecision, error) {
	return s.decideQuarantined(ctx, actor, id, scope, "deleted")
}

func (s *Store) decideQuarantined(ctx context.Context, actor string, id int64, scope QuarantineScope, state string) (*QuarantineDecision, error) {
	res := &QuarantineDecision{}
	err := s.Write(ctx, func(tx *Tx) error {
		*res = QuarantineDecision{}
		var subID, contentID, created int64
		var kind, sender string
		err := tx.QueryRow(`SELECT submission_id, content_id, created_at, kind, sender FROM quarantine WHERE id = ?`, id).Scan(&subID, &contentID, &created, &kind, &sender)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		cond, args := scopeFilter(scope)
		rows, err := tx.Query(`SELECT r.address, r.person_id, r.list_id, r.post_list_id, r.held_reason, r.hold_seconds FROM quarantine_rcpts r
			WHERE r.quarantine_id = ? AND r.state = 'held' AND `+cond+` ORDER BY r.address`, append([]any{id}, args...)...)
		if err != nil {
			return err
		}
		var rcpts []QuarantineRcpt
		for rows.Next() {
			var r QuarantineRcpt
			if err := rows.Scan(&r.Address, &r.PersonID, &r.ListID, &r.postListID, &r.heldReason, &r.holdSeconds); err != nil {
				rows.Close()
				return err
			}
			rcpts = append(rcpts, r)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if len(rcpts) == 0 {
			return ErrNotFound
		}
		now := tx.s.now().Unix()
		var orgs []int64
		for _, r := range rcpts {
			if state == "released" {
				if err := releaseTo(tx, r, subID, contentID, created, sender, res); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(`UPDATE quarantine_rcpts SET state = ?, decided_by = ?, decided_at = ? WHERE quarantine_id = ? AND address = ?`,
				state, actor, now, id, r.Address); err != nil {
				return err
			}
			res.Recipients = append(res.Recipients, r.Address)
			var o []int64
			if r.PersonID != 0 {
				o, err = oneOrg(tx, `SELECT org_id FROM people WHERE id = ?`, r.PersonID)
			} else {
				o, err = listOrgs(tx, r.ListID)
			}
			if err != nil {
				return err
			}
			orgs = append(orgs, o...)
		}
		if state == "released" {
			if _, err := tx.Exec(`UPDATE submissions SET state = 'delivered' WHERE id = ?`, subID); err != nil {
				return err
			}
		}
		action := "quarantine.release"
		if state == "deleted" {
			action = "quarantine.delete"
		}
		return tx.auditConcerning(actor, action, fmt.Sprint(id), map[string]any{"verdict": kind, "recipients": res.Recipients}, orgs)
	})
	if err != nil {
		return nil, err
	}
	s.metrics.deliveries.Add(float64(len(res.Delivered)))
	return res, nil
}

// releaseTo delivers a released message to one recipient.
func releaseTo(tx *Tx, r QuarantineRcpt, subID, contentID, created int64, sender string, res *QuarantineDecision) error {
	if r.ListID != 0 && r.heldReason != "" {
		now := tx.s.now().Unix()
		if _, err := tx.Exec(`INSERT INTO held (list_id, post_list_id, submission_id, content_id, sender, reason, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ListID, r.postListID, subID, contentID, sender, r.heldReason, now, now+r.holdSeconds); err != nil {
			return err
		}
		res.Held++
		return nil
	}
	if r.ListID != 0 {
		if _, err := tx.Exec(`INSERT INTO posts (list_id, submission_id, content_id, created_at) VALUES (?, ?, ?, ?)`,
			r.ListID, subID, contentID, created); err != nil {
			return err
		}
		tx.TouchList(r.ListID)
		res.Posts++
		return nil
	}
	inbox, err := ensureMailboxes(tx, r.PersonID)
	if err != nil {
		return err
	}
	if _, err := materialise(tx, r.PersonID, 0); err != nil {
		return err
	}
	uid, err := appendRow(tx, inbox.ID, contentID, 0, "", time.Unix(created, 0))
	if err != nil {
		return err
	}
	res.Delivered = append(res.Delivered, Delivered{PersonID: r.PersonID, MailboxID: inbox.ID, UID: uid})
	return nil
}
