// Package admin is the administration service: what administrators do to
// people, sign-in state and messages — add, disable, enable and reset people,
// see and end lockouts, switch incident mode, trace and purge messages. Each
// operation is decided by the privilege model (package privilege) and
// recorded in the audit trail. The HTTP API, the console and the command
// line call it and hold no rule of their own: they turn wire input into
// calls here, and Errors and privilege refusals back into replies.
package admin

import (
	"context"
	"errors"
	"fmt"

	"wardmail/privilege"
	"wardmail/store"
)

// Hasher hashes a new password (auth.Hasher: argon2id on the server's
// bounded pool).
type Hasher interface {
	Hash(ctx context.Context, password string) (string, error)
}

// Config is what the service needs.
type Config struct {
	// Store is the database (Storage: *store.Store).
	Store  Storage
	Hasher Hasher
	// Locks is the lockout state: the running engine in a server
	// (EngineLocks), the store from the command line (StoreLocks).
	Locks Locks
	// CheckPassword refuses a password the policy does not allow (nil: any).
	CheckPassword func(string) error
}

// Service is the administration service. It is safe for concurrent use.
type Service struct {
	cfg Config
	st  Storage
}

// New returns the service.
func New(cfg Config) *Service {
	if cfg.Locks == nil {
		cfg.Locks = StoreLocks{cfg.Store}
	}
	return &Service{cfg: cfg, st: cfg.Store}
}

// Kind is what went wrong with a request, for a door to choose its reply.
type Kind int

const (
	// Invalid: the request names something wrong (a weak password, an
	// unknown organisation): HTTP 422, a usage error at the command line.
	Invalid Kind = iota + 1
	// NotFound: what it names does not exist.
	NotFound
	// Conflict: it clashes with what exists (an address already taken).
	Conflict
	// Busy: the server cannot do it now; try again (the password pool is
	// full).
	Busy
)

// Error is a refusal the person can act on: Sentence says what to change,
// Field names the request field at fault when one is.
type Error struct {
	Kind     Kind
	Field    string
	Sentence string
}

func (e *Error) Error() string { return e.Sentence }

func invalid(field, format string, args ...any) *Error {
	return &Error{Kind: Invalid, Field: field, Sentence: fmt.Sprintf(format, args...)}
}

// Actor is a signed-in person with their grants, as the privilege model
// decides for them.
func (s *Service) Actor(ctx context.Context, p *store.Person) (*privilege.Principal, error) {
	return s.st.Principal(ctx, p)
}

// ActorNamed is the person with this address as Actor sees them: the
// administrator a command line's --by names.
func (s *Service) ActorNamed(ctx context.Context, email string) (*privilege.Principal, error) {
	p, err := s.person(ctx, email)
	if err != nil {
		return nil, err
	}
	return s.st.Principal(ctx, p)
}

// subject finds a person by address and asks whether the actor may take the
// action on them. Someone outside the actor's organisations, and someone who
// does not exist, are the same refusal.
func (s *Service) subject(ctx context.Context, actor privilege.Principal, action privilege.Action, email string) (*store.Person, error) {
	p, err := s.st.PersonByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &privilege.Denied{Action: action, NotFound: true,
			Sentence: fmt.Sprintf("There is nobody called %s in the organisations you administer.", email)}
	} else if err != nil {
		return nil, err
	}
	pr, err := s.st.Principal(ctx, p)
	if err != nil {
		return nil, err
	}
	if err := actor.MayActOn(action, *pr); err != nil {
		return nil, err
	}
	return p, nil
}
