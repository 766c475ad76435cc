package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"wardmail/lists"
)

// List kinds.
const (
	ListStatic  = "static"
	ListDynamic = "dynamic"
)

// Errors about lists that callers turn into precise replies.
var (
	ErrListCycle = errors.New("a list cannot contain itself, directly or through other lists")
	ErrListDepth = errors.New("lists nest too deeply")
)

// MaxListDepth bounds list nesting: a list inside a list inside a list... at
// most this many levels.
const MaxListDepth = 8

// List is a distribution list as stored.
type List struct {
	ID           int64      `json:"id"`
	Address      string     `json:"address"`
	Name         string     `json:"name"`
	Kind         string     `json:"kind"`
	Rule         string     `json:"rule,omitempty"`
	Scope        string     `json:"scope,omitempty"`
	PostPolicy   string     `json:"policy"`
	PolicySetBy  int64      `json:"-"` // an administrator who chose the policy (0: the default applies)
	Size         int64      `json:"size"`
	ApprovedSize int64      `json:"approved_size"`
	Suspended    bool       `json:"suspended"`
	CreatedAt    time.Time  `json:"created_at"`
	Owners       []string   `json:"owners"`
	OwnerOrgs    []int64    `json:"-"` // the owners' organisations, in the order of Owners
	Senders      []string   `json:"senders,omitempty"`
	Approvals    []Approval `json:"approvals,omitempty"`
}

// Approval is an administrator's approval of a large list at a size.
type Approval struct {
	Admin string    `json:"admin"`
	Size  int64     `json:"size"`
	At    time.Time `json:"at"`
}

// ListSpec describes a new list.
type ListSpec struct {
	Address, Name string
	Kind          string // ListStatic or ListDynamic
	Rule          string // dynamic lists: parsed by lists.ParseRule
	Scope         string // dynamic lists: parsed by lists.ParseScope
	Owners        []int64
	Members       []int64 // people
	Sublists      []int64 // lists nested in this one
	PostPolicy    string  // default lists.PolicyMembers
	CreatedBy     int64
}

const listCols = `id, address, name, kind, rule, scope, post_policy, policy_set_by, size, approved_size, suspended, created_at`

func scanList(row interface{ Scan(...any) error }) (*List, error) {
	var l List
	var susp int
	var at int64
	err := row.Scan(&l.ID, &l.Address, &l.Name, &l.Kind, &l.Rule, &l.Scope, &l.PostPolicy, &l.PolicySetBy, &l.Size, &l.ApprovedSize, &susp, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	l.Suspended, l.CreatedAt = susp != 0, time.Unix(at, 0).UTC()
	return &l, err
}

// ListByAddress finds a list, with its owners, senders and approvals.
func (s *Store) ListByAddress(ctx context.Context, address string) (*List, error) {
	l, err := scanList(s.r.QueryRowContext(ctx, s.q(`SELECT `+listCols+` FROM lists WHERE address = ?`), strings.ToLower(strings.TrimSpace(address))))
	if err != nil {
		return nil, err
	}
	return l, s.listDetails(ctx, l)
}

// ListByID finds a list by id, with its owners, senders and approvals.
func (s *Store) ListByID(ctx context.Context, id int64) (*List, error) {
	l, err := scanList(s.r.QueryRowContext(ctx, s.q(`SELECT `+listCols+` FROM lists WHERE id = ?`), id))
	if err != nil {
		return nil, err
	}
	return l, s.listDetails(ctx, l)
}

// Lists returns every list, by address, without details.
func (s *Store) Lists(ctx context.Context) ([]List, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+listCols+` FROM lists ORDER BY address`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []List
	for rows.Next() {
		l, err := scanList(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *l)
	}
	return out, rows.Err()
}

func (s *Store) listDetails(ctx context.Context, l *List) error {
	var err error
	l.Owners, l.OwnerOrgs = []string{}, []int64{}
	err = s.eachRow(ctx, `SELECT p.email, p.org_id FROM list_owners x JOIN people p ON p.id = x.person_id WHERE x.list_id = ? ORDER BY p.email`, []any{l.ID},
		func(scan func(...any) error) error {
			var email string
			var org int64
			if err := scan(&email, &org); err != nil {
				return err
			}
			l.Owners, l.OwnerOrgs = append(l.Owners, email), append(l.OwnerOrgs, org)
			return nil
		})
	if err != nil {
		return err
	}
	if l.Senders, err = s.addresses(ctx, `SELECT p.email FROM list_senders x JOIN people p ON p.id = x.person_id WHERE x.list_id = ? ORDER BY p.email`, l.ID); err != nil {
		return err
	}
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT p.email, a.size, a.at FROM list_approvals a JOIN people p ON p.id = a.admin_id WHERE a.list_id = ? ORDER BY a.at`), l.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var a Approval
		var at int64
		if err := rows.Scan(&a.Admin, &a.Size, &at); err != nil {
			return err
		}
		a.At = time.Unix(at, 0).UTC()
		l.Approvals = append(l.Approvals, a)
	}
	return rows.Err()
}

func (s *Store) addresses(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// IsListOwner reports whether a person owns a list.
func (s *Store) IsListOwner(ctx context.Context, listID, personID int64) (bool, error) {
	return s.exists(ctx, `SELECT 1 FROM list_owners WHERE list_id = ? AND person_id = ?`, listID, personID)
}

// IsListSender reports whether a person is a named sender of a list.
func (s *Store) IsListSender(ctx context.Context, listID, personID int64) (bool, error) {
	return s.exists(ctx, `SELECT 1 FROM list_senders WHERE list_id = ? AND person_id = ?`, listID, personID)
}

// IsMember reports whether a person is, right now, an effective member of a
// list (directly, by rule or through a nested list).
func (s *Store) IsMember(ctx context.Context, listID, personID int64) (bool, error) {
	return s.exists(ctx, `SELECT 1 FROM memberships WHERE list_id = ? AND person_id = ?`, listID, personID)
}

func (s *Store) exists(ctx context.Context, query string, args ...any) (bool, error) {
	var one int
	err := s.r.QueryRowContext(ctx, s.q(query), args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// CreateList creates a list and computes its members. Dynamic lists are
// checked first: the rule must parse, the scope must name organisations that
// exist (a mistyped organisation is an error, never "everyone").
func (s *Store) CreateList(ctx context.Context, actor string, spec ListSpec) (*List, error) {
	spec.Address = strings.ToLower(strings.TrimSpace(spec.Address))
	at := strings.LastIndexByte(spec.Address, '@')
	if at <= 0 || at == len(spec.Address)-1 {
		return nil, fmt.Errorf("%q is not an address", spec.Address)
	}
	if strings.TrimSpace(spec.Name) == "" {
		return nil, errors.New("a list needs a name")
	}
	if spec.PostPolicy == "" {
		spec.PostPolicy = lists.PolicyMembers
	}
	if !lists.ValidPolicy(spec.PostPolicy) {
		return nil, fmt.Errorf("unknown posting policy %q: use %s", spec.PostPolicy, strings.Join(lists.Policies, ", "))
	}
	switch spec.Kind {
	case ListStatic:
		if spec.Rule != "" || spec.Scope != "" {
			return nil, errors.New("a static list has members, not a rule or a scope")
		}
	case ListDynamic:
		if _, err := lists.ParseRule(spec.Rule); err != nil {
			return nil, err
		}
		sc, err := lists.ParseScope(spec.Scope)
		if err != nil {
			return nil, err
		}
		if _, err := s.scopeOrgs(ctx, sc); err != nil {
			return nil, err
		}
		spec.Scope = sc.String()
	default:
		return nil, fmt.Errorf("unknown list kind %q", spec.Kind)
	}
	if len(spec.Owners) == 0 {
		return nil, errors.New("a list needs at least one owner")
	}
	if _, err := s.PersonByEmail(ctx, spec.Address); err == nil {
		return nil, fmt.Errorf("%s is a person's address", spec.Address)
	}
	if err := s.checkNesting(ctx, spec.Address, spec.Owners, spec.Sublists); err != nil {
		return nil, err
	}
	var id int64
	err := s.Write(ctx, func(tx *Tx) error {
		now := tx.s.now().Unix()
		err := tx.QueryRow(`INSERT INTO lists (address, name, kind, rule, scope, post_policy, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			spec.Address, strings.TrimSpace(spec.Name), spec.Kind, strings.TrimSpace(spec.Rule), spec.Scope, spec.PostPolicy, spec.CreatedBy, now, now).Scan(&id)
		if err != nil {
			if strings.Contains(err.Error(), "UNIQUE") || strings.Contains(err.Error(), "unique") {
				return fmt.Errorf("%w: a list called %s", ErrExists, spec.Address)
			}
			return err
		}
		if _, err := tx.Exec(`INSERT INTO domains (name) VALUES (?) ON CONFLICT (name) DO NOTHING`, spec.Address[at+1:]); err != nil {
			return err
		}
		for _, o := range spec.Owners {
			if _, err := tx.Exec(`INSERT INTO list_owners (list_id, person_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, id, o); err != nil {
				return err
			}
		}
		for _, p := range spec.Members {
			if _, err := tx.Exec(`INSERT INTO list_members (list_id, person_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, id, p); err != nil {
				return err
			}
		}
		for _, sub := range spec.Sublists {
			if err := addSublist(tx, id, sub); err != nil {
				return err
			}
		}
		return tx.Audit(actor, "list.create", spec.Address, map[string]any{
			"name": spec.Name, "kind": spec.Kind, "rule": spec.Rule, "scope": spec.Scope, "policy": spec.PostPolicy,
			"members": len(spec.Members), "sublists": len(spec.Sublists)})
	})
	if err != nil {
		return nil, err
	}
	if err := s.SyncList(ctx, id); err != nil {
		return nil, err
	}
	return s.ListByID(ctx, id)
}

// AddListMembers adds people and nested lists to a list's declared members
// and brings the effective members up to date. A list goes inside only when
// the outer list's owners may post to it (list_rights.go).
func (s *Store) AddListMembers(ctx context.Context, actor string, listID int64, people, sublists []int64) error {
	if len(sublists) > 0 {
		l, err := s.ListByID(ctx, listID)
		if err != nil {
			return err
		}
		var owners []int64
		if err := s.eachRow(ctx, `SELECT person_id FROM list_owners WHERE list_id = ?`, []any{listID}, func(scan func(...any) error) error {
			var id int64
			err := scan(&id)
			owners = append(owners, id)
			return err
		}); err != nil {
			return err
		}
		if err := s.checkNesting(ctx, l.Address, owners, sublists); err != nil {
			return err
		}
	}
	err := s.Write(ctx, func(tx *Tx) error {
		for _, p := range people {
			if _, err := tx.Exec(`INSERT INTO list_members (list_id, person_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, listID, p); err != nil {
				return err
			}
		}
		for _, sub := range sublists {
			if err := addSublist(tx, listID, sub); err != nil {
				return err
			}
		}
		return tx.Audit(actor, "list.add", listTarget(tx, listID), map[string]any{"people": addressesOf(tx, "people", "email", people), "lists": addressesOf(tx, "lists", "address", sublists)})
	})
	if err != nil {
		return err
	}
	return s.SyncList(ctx, listID)
}

// RemoveListMembers removes people and nested lists from a list's declared
// members. People who leave keep the posts made while they were members.
func (s *Store) RemoveListMembers(ctx context.Context, actor string, listID int64, people, sublists []int64) error {
	err := s.Write(ctx, func(tx *Tx) error {
		for _, p := range people {
			if _, err := tx.Exec(`DELETE FROM list_members WHERE list_id = ? AND person_id = ? AND sublist_id = 0`, listID, p); err != nil {
				return err
			}
		}
		for _, sub := range sublists {
			if _, err := tx.Exec(`DELETE FROM list_members WHERE list_id = ? AND sublist_id = ? AND person_id = 0`, listID, sub); err != nil {
				return err
			}
		}
		return tx.Audit(actor, "list.remove", listTarget(tx, listID), map[string]any{"people": addressesOf(tx, "people", "email", people), "lists": addressesOf(tx, "lists", "address", sublists)})
	})
	if err != nil {
		return err
	}
	return s.SyncList(ctx, listID)
}

// SetListRule changes a dynamic list's rule and scope and recomputes its
// members.
func (s *Store) SetListRule(ctx context.Context, actor string, listID int64, rule, scope string) error {
	if _, err := lists.ParseRule(rule); err != nil {
		return err
	}
	sc, err := lists.ParseScope(scope)
	if err != nil {
		return err
	}
	if _, err := s.scopeOrgs(ctx, sc); err != nil {
		return err
	}
	err = s.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE lists SET rule = ?, scope = ?, updated_at = ? WHERE id = ? AND kind = 'dynamic'`,
			strings.TrimSpace(rule), sc.String(), tx.s.now().Unix(), listID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: no dynamic list %d", ErrNotFound, listID)
		}
		return tx.Audit(actor, "list.rule", listTarget(tx, listID), map[string]any{"rule": rule, "scope": sc.String()})
	})
	if err != nil {
		return err
	}
	return s.SyncList(ctx, listID)
}

// SetPostPolicy sets who may post. An administrator's choice is recorded so
// that governance defaults (named senders only above 500 members) step aside
// for it; the audit trail keeps who chose what.
func (s *Store) SetPostPolicy(ctx context.Context, actor string, listID int64, policy string, senders []int64, byAdmin int64) error {
	if !lists.ValidPolicy(policy) {
		return fmt.Errorf("unknown posting policy %q: use %s", policy, strings.Join(lists.Policies, ", "))
	}
	return s.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE lists SET post_policy = ?, policy_set_by = ?, updated_at = ? WHERE id = ?`, policy, byAdmin, tx.s.now().Unix(), listID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if senders != nil {
			if _, err := tx.Exec(`DELETE FROM list_senders WHERE list_id = ?`, listID); err != nil {
				return err
			}
			for _, p := range senders {
				if _, err := tx.Exec(`INSERT INTO list_senders (list_id, person_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, listID, p); err != nil {
					return err
				}
			}
		}
		return tx.Audit(actor, "list.policy", listTarget(tx, listID), map[string]any{"policy": policy, "senders": addressesOf(tx, "people", "email", senders), "admin": byAdmin})
	})
}

// ApproveList records an administrator's approval of a list at its current
// live size. It returns the approvals so far. The approved size is the size
// the last approval recorded, once enough administrators approved (callers
// decide how many: lists.Governance). Approving also lifts a suspension.
func (s *Store) ApproveList(ctx context.Context, actor string, listID, adminID int64, needed int) (*List, error) {
	err := s.Write(ctx, func(tx *Tx) error {
		var size int64
		if err := tx.QueryRow(`SELECT size FROM lists WHERE id = ?`, listID).Scan(&size); errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		now := tx.s.now().Unix()
		// An approval is of a size: approvals of an older size no longer count.
		if _, err := tx.Exec(`DELETE FROM list_approvals WHERE list_id = ? AND size != ?`, listID, size); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO list_approvals (list_id, admin_id, size, at) VALUES (?, ?, ?, ?)
			ON CONFLICT (list_id, admin_id) DO UPDATE SET size = excluded.size, at = excluded.at`, listID, adminID, size, now); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(`SELECT COUNT(*) FROM list_approvals WHERE list_id = ?`, listID).Scan(&n); err != nil {
			return err
		}
		if n >= needed {
			if _, err := tx.Exec(`UPDATE lists SET approved_size = ?, suspended = 0, updated_at = ? WHERE id = ?`, size, now, listID); err != nil {
				return err
			}
		}
		return tx.Audit(actor, "list.approve", listTarget(tx, listID), map[string]any{"size": size, "approvals": n, "needed": needed})
	})
	if err != nil {
		return nil, err
	}
	return s.ListByID(ctx, listID)
}

// SetListSuspended suspends or resumes posting to a list.
func (s *Store) SetListSuspended(ctx context.Context, actor string, listID int64, suspended bool, why string) error {
	v := 0
	if suspended {
		v = 1
	}
	return s.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE lists SET suspended = ?, updated_at = ? WHERE id = ? AND suspended != ?`, v, tx.s.now().Unix(), listID, v)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		action := "list.resume"
		if suspended {
			action = "list.suspend"
		}
		return tx.Audit(actor, action, listTarget(tx, listID), map[string]any{"why": why})
	})
}

// DeleteList removes a list. Members keep what was materialised; posts still
// pending are materialised first, so nobody loses a post they were sent.
func (s *Store) DeleteList(ctx context.Context, actor string, listID int64) error {
	l, err := s.ListByID(ctx, listID)
	if err != nil {
		return err
	}
	parents, err := s.exists(ctx, `SELECT 1 FROM list_members WHERE sublist_id = ?`, listID)
	if err != nil {
		return err
	}
	if parents {
		return fmt.Errorf("%s is nested in another list: remove it from there first", l.Address)
	}
	// Empty the effective membership through the usual path (materialising
	// what is pending), then drop the definition.
	if err := s.applyMembership(ctx, listID, nil); err != nil {
		return err
	}
	return s.Write(ctx, func(tx *Tx) error {
		// Audited first: the entry's organisations are the list's owners'
		// and scope's, read before they go (audit_orgs.go).
		if err := tx.Audit(actor, "list.delete", l.Address, map[string]any{"size": l.Size}); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM list_members WHERE list_id = ?`, `DELETE FROM list_owners WHERE list_id = ?`,
			`DELETE FROM list_senders WHERE list_id = ?`, `DELETE FROM list_approvals WHERE list_id = ?`,
			`DELETE FROM memberships WHERE list_id = ?`, `UPDATE held SET state = 'deleted' WHERE list_id = ? AND state = 'held'`,
			`UPDATE held SET state = 'deleted' WHERE post_list_id = ? AND state = 'held'`,
			`DELETE FROM lists WHERE id = ?`,
		} {
			if _, err := tx.Exec(q, listID); err != nil {
				return err
			}
		}
		return nil
	})
}

// ListMembers returns a list's effective members by address, after the
// address given.
func (s *Store) ListMembers(ctx context.Context, listID int64, after string, limit int) ([]Person, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+personCols+` FROM memberships m JOIN people p ON p.id = m.person_id
		JOIN orgs o ON o.id = p.org_id WHERE m.list_id = ? AND p.email > ? ORDER BY p.email LIMIT ?`), listID, after, limit)
	if err != nil {
		return nil, err
	}
	return scanPeople(rows)
}

// PersonIDs resolves addresses to people; unknown addresses are returned
// apart.
func (s *Store) PersonIDs(ctx context.Context, addrs []string) (ids []int64, unknown []string, err error) {
	for _, a := range addrs {
		if strings.TrimSpace(a) == "" {
			continue
		}
		p, err := s.PersonByEmail(ctx, a)
		if errors.Is(err, ErrNotFound) {
			unknown = append(unknown, a)
			continue
		} else if err != nil {
			return nil, nil, err
		}
		ids = append(ids, p.ID)
	}
	return ids, unknown, nil
}
