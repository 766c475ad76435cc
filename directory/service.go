package directory

import (
	"context"
	"io"

	"wardmail/auth"
	"wardmail/privilege"
	"wardmail/store"
)

// The directory service: the address book (suggestions as a sender types,
// the names that go with bare addresses), the organisations, and the
// national import. The web's directory handlers, the console and the CLI
// call it.

// Storage is what the directory service needs from the database;
// *store.Store implements it.
type Storage interface {
	ImportStore
	Suggest(ctx context.Context, q string, limit int) ([]store.Suggestion, error)
	SuggestLists(ctx context.Context, q string, limit int) ([]store.ListSuggestion, error)
	DirectoryNames(ctx context.Context, addrs []string) (map[string]string, error)
	Orgs(ctx context.Context) ([]store.Org, error)
	UpsertPeople(ctx context.Context, recs []store.PersonRecord) (added, updated int, err error)
	People(ctx context.Context, after string, limit int) ([]store.Person, error)
	PersonByEmail(ctx context.Context, email string) (*store.Person, error)
}

// ImportStore is what Import needs: one transaction for the whole file,
// then the dynamic lists brought up to date.
type ImportStore interface {
	BeginImport(ctx context.Context) (*store.Importer, error)
	SyncDynamicLists(ctx context.Context) error
}

// Service is the directory service. It is safe for concurrent use.
type Service struct {
	st Storage
}

// NewService returns the directory service over st.
func NewService(st Storage) *Service { return &Service{st: st} }

// Suggestions are the people and the lists whose address (people: or name,
// or last name) starts with what the sender typed.
type Suggestions struct {
	People []store.Suggestion
	Lists  []store.ListSuggestion
}

// Suggest returns up to limit people and up to limit lists for the prefix
// q; nothing for an empty one. Each lookup is an index range scan bounded
// by limit (store/suggest.go), so it costs the same in a directory of 1.5
// million.
func (s *Service) Suggest(ctx context.Context, q string, limit int) (*Suggestions, error) {
	out := &Suggestions{}
	if q == "" {
		return out, nil
	}
	var err error
	if out.People, err = s.st.Suggest(ctx, q, limit); err != nil {
		return nil, err
	}
	if out.Lists, err = s.st.SuggestLists(ctx, q, limit); err != nil {
		return nil, err
	}
	return out, nil
}

// Names returns the directory's name for each address it knows, keyed by
// the address in lower case.
func (s *Service) Names(ctx context.Context, addrs []string) (map[string]string, error) {
	return s.st.DirectoryNames(ctx, addrs)
}

// Orgs lists every organisation with its head count.
func (s *Service) Orgs(ctx context.Context) ([]store.Org, error) { return s.st.Orgs(ctx) }

// AdministeredOrgs lists the organisations actor administers (every one
// for a national administrator).
func (s *Service) AdministeredOrgs(ctx context.Context, actor *privilege.Principal) ([]store.Org, error) {
	orgs, err := s.st.Orgs(ctx)
	if err != nil {
		return nil, err
	}
	out := []store.Org{}
	for _, o := range orgs {
		if actor.Administers(o.ID) {
			out = append(out, o)
		}
	}
	return out, nil
}

// Import loads a directory CSV file (Import).
func (s *Service) Import(ctx context.Context, r io.Reader, filename string, params auth.Params) (ImportStats, error) {
	return Import(ctx, s.st, r, filename, params)
}

// PersonInput is one person as an operator types them.
type PersonInput struct {
	Email, Name, Org, Role, Site string
}

// FieldError names the field of a PersonInput that is refused.
type FieldError struct {
	Field string // "email", "name", "org", "role", "site"
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// CheckPerson applies the directory's rules to in (those of the CSV
// import): a valid address, and a name, organisation, role and site a
// terminal, a mail header and a web page all show as they are. It trims
// the fields in place.
func CheckPerson(in *PersonInput) error {
	addr, err := ValidateAddress(in.Email)
	if err != nil {
		return &FieldError{"email", err}
	}
	in.Email = addr
	for _, f := range []struct {
		field Field
		value *string
	}{{FieldName, &in.Name}, {FieldOrg, &in.Org}, {FieldRole, &in.Role}, {FieldSite, &in.Site}} {
		if *f.value, err = CheckText(f.field, *f.value); err != nil {
			return &FieldError{f.field.Name, err}
		}
	}
	return nil
}

// Put adds a person, or updates the person with that address, as the CSV
// import does (a new organisation is created); passwordHash, when not
// empty, replaces their password. It reports whether the person is new.
func (s *Service) Put(ctx context.Context, in PersonInput, passwordHash string) (added bool, err error) {
	if err := CheckPerson(&in); err != nil {
		return false, err
	}
	n, _, err := s.st.UpsertPeople(ctx, []store.PersonRecord{{Email: in.Email, Name: in.Name, Org: in.Org, Role: in.Role,
		Site: in.Site, PasswordHash: passwordHash}})
	if err != nil {
		return false, err
	}
	return n == 1, nil
}

// People pages through the directory by address.
func (s *Service) People(ctx context.Context, after string, limit int) ([]store.Person, error) {
	return s.st.People(ctx, after, limit)
}

// Person returns the person with this address (store.ErrNotFound when
// nobody has it).
func (s *Service) Person(ctx context.Context, email string) (*store.Person, error) {
	return s.st.PersonByEmail(ctx, email)
}
