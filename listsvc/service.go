// Package listsvc is the lists service: what people and administrators do
// to distribution lists — see a list with its governance (effective policy,
// size drift, approvals still missing), create it, change its members, rule
// and scope, owners and posting policy, approve it, delete it, and decide
// the posts held for its moderators. The web API, the console and the
// command line call it and hold no rule of their own.
//
// The rules themselves (posting policies, governance thresholds, dynamic
// rules and scopes) are package lists; this package applies them to stored
// lists. It is a package of its own because package store evaluates the
// rules of package lists (at nesting and expansion), so a service there
// that reads and writes through the store would import it in a cycle.
//
// Every privilege decision goes through package privilege (MayManageList,
// MayOwn, May); every change is audited by the storage call that makes it.
package listsvc

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"wardmail/lists"
	"wardmail/store"
)

// Storage is what the service needs from the database; *store.Store
// implements it.
type Storage interface {
	ListByAddress(ctx context.Context, address string) (*store.List, error)
	ListByID(ctx context.Context, id int64) (*store.List, error)
	Lists(ctx context.Context) ([]store.List, error)
	ListsWithDetails(ctx context.Context, q store.ListQuery) ([]*store.List, error)
	CountLists(ctx context.Context, q store.ListQuery) (int, error)
	IsListOwner(ctx context.Context, listID, personID int64) (bool, error)
	DeclaredMembers(ctx context.Context, listID int64) (people, lists []string, err error)
	ListMembers(ctx context.Context, listID int64, after string, limit int) ([]store.Person, error)

	CreateList(ctx context.Context, actor string, spec store.ListSpec) (*store.List, error)
	AddListMembers(ctx context.Context, actor string, listID int64, people, sublists []int64) error
	RemoveListMembers(ctx context.Context, actor string, listID int64, people, sublists []int64) error
	SetListRule(ctx context.Context, actor string, listID int64, rule, scope string) error
	SetPostPolicy(ctx context.Context, actor string, listID int64, policy string, senders []int64, byAdmin int64) error
	ApproveList(ctx context.Context, actor string, listID, adminID int64, needed int) (*store.List, error)
	SetListOwners(ctx context.Context, actor string, listID int64, owners []int64) error
	DeleteList(ctx context.Context, actor string, listID int64) error

	HeldPosts(ctx context.Context, listID int64) ([]store.Held, error)
	HeldByID(ctx context.Context, id int64) (*store.Held, error)
	DecideHeld(ctx context.Context, actor string, id int64, approve bool, reason string, byPerson int64) (*store.Held, error)

	PersonByEmail(ctx context.Context, email string) (*store.Person, error)
	PersonIDs(ctx context.Context, addrs []string) (ids []int64, unknown []string, err error)
	Orgs(ctx context.Context) ([]store.Org, error)
	OrgNames(ctx context.Context) (map[int64]string, error)

	PreviewRule(ctx context.Context, rule *lists.Rule, orgIDs []int64) ([]store.OrgCount, int64, error)
	AudienceCount(ctx context.Context, people, listIDs []int64) (int64, error)
	AudienceOrgs(ctx context.Context, people, listIDs []int64) ([]store.OrgCount, error)
}

// Notifier tells a held post's sender what the moderators decided
// (submit.Pipeline.NotifyHeld).
type Notifier interface {
	NotifyHeld(ctx context.Context, h *store.Held)
}

// Config is what the service needs.
type Config struct {
	Store Storage
	// Governance is the thresholds (zero fields take the defaults).
	Governance lists.Governance
	// Notify tells senders of moderation decisions (nil: nobody is told).
	Notify Notifier
}

// Service is the lists service. It is safe for concurrent use.
type Service struct {
	st     Storage
	gov    lists.Governance
	notify Notifier
}

// New returns the service.
func New(cfg Config) *Service {
	cfg.Governance.Fill()
	return &Service{st: cfg.Store, gov: cfg.Governance, notify: cfg.Notify}
}

// Governance returns the thresholds the service applies.
func (s *Service) Governance() lists.Governance { return s.gov }

// Kind is what went wrong with a request, for a door to choose its reply.
type Kind int

const (
	// Invalid: the request names something wrong (HTTP 422).
	Invalid Kind = iota + 1
	// BadRequest: the request is incomplete (HTTP 400).
	BadRequest
	// Forbidden: the actor may not do this to this list (HTTP 403).
	Forbidden
	// NotFound: the list or held post does not exist (HTTP 404).
	NotFound
	// Conflict: the request clashes with the list's state (HTTP 409).
	Conflict
)

// Error is a refusal the person can act on. Type is a short name of the
// refusal (the API's problem type), Field the request field at fault.
type Error struct {
	Kind     Kind
	Type     string
	Field    string
	Sentence string
	// Err is the storage's refusal it came from, if any (store.ErrExists...).
	Err error
}

func (e *Error) Error() string { return e.Sentence }
func (e *Error) Unwrap() error { return e.Err }

// refusal turns the storage's refusals of a change to a list into an
// *Error; anything else (a failing database) is returned as it is.
func refusal(err error) error {
	var re *lists.RuleError
	var e *Error
	wrap := func(kind Kind, typ, field, sentence string) error {
		return &Error{Kind: kind, Type: typ, Field: field, Sentence: sentence, Err: err}
	}
	msg := err.Error()
	switch {
	case errors.As(err, &e):
		return err
	case errors.As(err, &re):
		return wrap(Invalid, "bad-rule", "rule", msg)
	case errors.Is(err, store.ErrExists):
		return wrap(Conflict, "exists", "", msg)
	case errors.Is(err, store.ErrListCycle), errors.Is(err, store.ErrListDepth):
		return wrap(Invalid, "bad-nesting", "", msg)
	case errors.Is(err, store.ErrNestingRefused):
		return wrap(Invalid, "nesting-refused", "members", msg+".")
	case errors.Is(err, store.ErrNotFound):
		return wrap(NotFound, "not-found", "", msg)
	case strings.Contains(msg, "organisation"), strings.Contains(msg, "scope"), strings.Contains(msg, "policy"),
		strings.Contains(msg, "address"), strings.Contains(msg, "owner"), strings.Contains(msg, "name"),
		strings.Contains(msg, "nested"):
		// The store's validation of what a list may be (store/lists.go).
		return wrap(Invalid, "invalid", "", msg)
	}
	return err
}

func refuse(kind Kind, typ, field, format string, args ...any) *Error {
	return &Error{Kind: kind, Type: typ, Field: field, Sentence: fmt.Sprintf(format, args...)}
}

// View is a list with what its governance makes of it, as every door
// shows it.
type View struct {
	*store.List
	EffectivePolicy string `json:"effective_policy"`
	NeedsApprovals  int    `json:"needs_approvals"`
	// Drifted: the live size is past DriftPercent of the approved size
	// (posting stops at the next post, and the console alerts until
	// administrators approve again).
	Drifted bool `json:"drifted"`
	// ApprovalsMissing is how many more national administrators must
	// approve the list at its live size before anyone may post (0: none).
	ApprovalsMissing int `json:"approvals_missing"`
}

// Facts is what the posting decision (lists.Governance) knows of l.
func Facts(l *store.List) lists.ListFacts {
	return lists.ListFacts{Address: l.Address, Size: l.Size, ApprovedSize: l.ApprovedSize, Policy: l.PostPolicy,
		PolicyByAdm: l.PolicySetBy != 0, Suspended: l.Suspended}
}

// NeedsApprovals is how many administrators must approve a list of this
// size: Approvals above ApprovalAbove members, one otherwise.
func (s *Service) NeedsApprovals(size int64) int {
	if size > s.gov.ApprovalAbove {
		return s.gov.Approvals
	}
	return 1
}

// View is the one place where a list's drift and its missing approvals are
// worked out.
func (s *Service) View(l *store.List) View {
	need := s.NeedsApprovals(l.Size)
	v := View{List: l, EffectivePolicy: s.gov.EffectivePolicy(Facts(l)), NeedsApprovals: need,
		Drifted: l.ApprovedSize > 0 && l.Size*100 > l.ApprovedSize*s.gov.DriftPercent}
	if v.Drifted || l.Suspended || (l.ApprovedSize == 0 && l.Size > s.gov.ApprovalAbove) {
		// Approvals count at the size they recorded: an older size's are
		// replaced by the next approval.
		current := 0
		for _, ap := range l.Approvals {
			if ap.Size == l.Size {
				current++
			}
		}
		v.ApprovalsMissing = max(need-current, 1)
	}
	return v
}

// NeedsAttention reports whether administrators must act on the list now:
// posting is suspended or its size has drifted past the approved one.
func (v View) NeedsAttention() bool { return v.Suspended || v.Drifted }

// The lists' records as the doors name them (rows the storage defines).
type (
	// List is a distribution list with its owners, senders and approvals.
	List = store.List
	// Held is a post waiting for a list's moderators.
	Held = store.Held
)

// List kinds.
const (
	Static  = store.ListStatic  // named members and nested lists
	Dynamic = store.ListDynamic // a rule within a scope
)
