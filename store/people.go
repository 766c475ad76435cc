package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Person is someone with a mailbox.
type Person struct {
	ID           int64
	Email        string // lower case
	Name         string
	OrgID        int64
	Org          string
	Role, Site   string
	PasswordHash string // argon2id PHC string; empty: cannot sign in
	Disabled     bool
	// CredGen is the person's credential generation (revoke.go): it grows
	// with every revocation that ends all their sessions, and a session
	// that signed in under an older one ends.
	CredGen int64
	// AppPasswordID is the app password a sign-in used, when this Person
	// comes from one (auth sets it; 0 for a password): revoking that app
	// password ends the sessions it opened and no others.
	AppPasswordID int64
}

// PersonRecord is one person as an import or the CLI describes them.
type PersonRecord struct {
	Email, Name, Org, Role, Site string
	// PasswordHash replaces the stored hash when not empty.
	PasswordHash string
}

const personCols = `p.id, p.email, p.name, p.org_id, o.name, p.role, p.site, p.password_hash, p.disabled, p.cred_gen`

func scanPerson(row interface{ Scan(...any) error }) (*Person, error) {
	var p Person
	var disabled int
	err := row.Scan(&p.ID, &p.Email, &p.Name, &p.OrgID, &p.Org, &p.Role, &p.Site, &p.PasswordHash, &disabled, &p.CredGen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	p.Disabled = disabled != 0
	return &p, err
}

// scanPeople reads every row of a query on personCols, and closes it.
func scanPeople(rows *sql.Rows) ([]Person, error) {
	defer rows.Close()
	var out []Person
	for rows.Next() {
		p, err := scanPerson(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *p)
	}
	return out, rows.Err()
}

// PersonByEmail finds a person by address, case-insensitively.
func (s *Store) PersonByEmail(ctx context.Context, email string) (*Person, error) {
	row := s.r.QueryRowContext(ctx, s.q(`SELECT `+personCols+` FROM people p JOIN orgs o ON o.id = p.org_id WHERE p.email = ?`),
		strings.ToLower(strings.TrimSpace(email)))
	return scanPerson(row)
}

// PersonByID finds a person by id.
func (s *Store) PersonByID(ctx context.Context, id int64) (*Person, error) {
	row := s.r.QueryRowContext(ctx, s.q(`SELECT `+personCols+` FROM people p JOIN orgs o ON o.id = p.org_id WHERE p.id = ?`), id)
	return scanPerson(row)
}

// People lists people ordered by address, starting after the address given.
func (s *Store) People(ctx context.Context, after string, limit int) ([]Person, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+personCols+` FROM people p JOIN orgs o ON o.id = p.org_id
		WHERE p.email > ? ORDER BY p.email LIMIT ?`), after, limit)
	if err != nil {
		return nil, err
	}
	return scanPeople(rows)
}

// CountPeople returns how many people the directory holds.
func (s *Store) CountPeople(ctx context.Context) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM people`).Scan(&n)
	return n, err
}

// IsLocalDomain reports whether some person has an address in domain.
func (s *Store) IsLocalDomain(ctx context.Context, domain string) (bool, error) {
	var one int
	err := s.r.QueryRowContext(ctx, s.q(`SELECT 1 FROM domains WHERE name = ?`), strings.ToLower(domain)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// UpsertPeople adds people or updates them in place, in one transaction. An
// empty PasswordHash leaves a stored hash alone. It returns how many were
// added and how many updated.
func (s *Store) UpsertPeople(ctx context.Context, recs []PersonRecord) (added, updated int, err error) {
	err = s.Write(ctx, func(tx *Tx) error {
		before, err := countPeople(tx)
		if err != nil {
			return err
		}
		if err := upsertPeople(tx, recs, map[string]int64{}, map[string]bool{}); err != nil {
			return err
		}
		after, err := countPeople(tx)
		added = int(after - before)
		updated = len(recs) - added
		return err
	})
	if err != nil {
		return added, updated, err
	}
	// Their organisation, role or site may have changed: dynamic lists
	// follow (a bulk import syncs the lists once instead).
	var ids []int64
	for _, r := range recs {
		if p, err := s.PersonByEmail(ctx, r.Email); err == nil {
			ids = append(ids, p.ID)
		}
	}
	return added, updated, s.SyncPeople(ctx, ids)
}

// Importer loads a large directory in one transaction that is committed only
// when every row is in (all rows or none). It bypasses the group-commit queue:
// a million-row import holds the database's write lock for its duration
// (seconds), which is why it is an administrator's command.
type Importer struct {
	s       *Store
	tx      *sql.Tx
	t       *Tx
	orgs    map[string]int64
	domains map[string]bool
	before  int64
	rows    int
}

// BeginImport starts an Importer.
func (s *Store) BeginImport(ctx context.Context) (*Importer, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	im := &Importer{s: s, tx: tx, t: &Tx{s: s, tx: tx, ctx: ctx}, orgs: map[string]int64{}, domains: map[string]bool{}}
	if im.before, err = countPeople(im.t); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	return im, nil
}

// Add adds or updates a batch of people.
func (im *Importer) Add(recs []PersonRecord) error {
	im.rows += len(recs)
	return upsertPeople(im.t, recs, im.orgs, im.domains)
}

// Commit makes the import durable and says how many people were added and
// how many already there were updated.
func (im *Importer) Commit() (added, updated int, err error) {
	after, err := countPeople(im.t)
	if err != nil {
		_ = im.tx.Rollback()
		return 0, 0, err
	}
	added = int(after - im.before)
	return added, im.rows - added, im.tx.Commit()
}

// Rollback abandons the import.
func (im *Importer) Rollback() error { return im.tx.Rollback() }

func countPeople(tx *Tx) (int64, error) {
	var n int64
	err := tx.QueryRow(`SELECT COUNT(*) FROM people`).Scan(&n)
	return n, err
}

func upsertPeople(tx *Tx, recs []PersonRecord, orgs map[string]int64, domains map[string]bool) error {
	now := tx.s.now().Unix()
	ins, err := tx.prepare(`INSERT INTO people (email, name, org_id, role, site, password_hash, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (email) DO UPDATE SET name = excluded.name, org_id = excluded.org_id, role = excluded.role,
			site = excluded.site, updated_at = excluded.updated_at,
			password_hash = CASE WHEN excluded.password_hash = '' THEN people.password_hash ELSE excluded.password_hash END`)
	if err != nil {
		return err
	}
	defer ins.Close()
	for _, r := range recs {
		email := strings.ToLower(strings.TrimSpace(r.Email))
		at := strings.LastIndexByte(email, '@')
		if at <= 0 || at == len(email)-1 {
			return fmt.Errorf("store: %q is not an address", r.Email)
		}
		orgID, err := orgIDFor(tx, orgs, r.Org)
		if err != nil {
			return err
		}
		if d := email[at+1:]; !domains[d] {
			if _, err := tx.Exec(`INSERT INTO domains (name) VALUES (?) ON CONFLICT (name) DO NOTHING`, d); err != nil {
				return err
			}
			domains[d] = true
		}
		if r.PasswordHash != "" {
			// A new password for someone who had another is a password
			// reset: their open sessions end (revoke.go).
			if err := revokeChangedPassword(tx, email, r.PasswordHash, now); err != nil {
				return fmt.Errorf("store: saving %s: %w", email, err)
			}
		}
		if _, err := ins.ExecContext(tx.ctx, email, r.Name, orgID, r.Role, r.Site, r.PasswordHash, now, now); err != nil {
			return fmt.Errorf("store: saving %s: %w", email, err)
		}
	}
	return nil
}

func orgIDFor(tx *Tx, cache map[string]int64, name string) (int64, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return 0, errors.New("store: a person needs an organisation")
	}
	if id, ok := cache[name]; ok {
		return id, nil
	}
	var id int64
	err := tx.QueryRow(`INSERT INTO orgs (name) VALUES (?) ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id`, name).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: organisation %q: %w", name, err)
	}
	cache[name] = id
	return id, nil
}

// SetPassword stores a new password hash for a person and ends every
// session they have open (IMAP, SMTP, web; see revoke.go): whoever knew the
// old password is signed out, whichever door changed it.
func (s *Store) SetPassword(ctx context.Context, personID int64, hash string) error {
	err := s.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE people SET password_hash = ?, updated_at = ? WHERE id = ?`, hash, s.now().Unix(), personID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return tx.revokeAll(personID, RevokedPassword)
	})
	if err != nil {
		return err
	}
	s.revocations.changed(personID)
	return nil
}

// SetDisabled turns a person's sign-in and delivery off or on. Turning it
// off ends every session they have open (revoke.go).
func (s *Store) SetDisabled(ctx context.Context, personID int64, disabled bool) error {
	v := 0
	if disabled {
		v = 1
	}
	err := s.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(`UPDATE people SET disabled = ?, updated_at = ? WHERE id = ?`, v, s.now().Unix(), personID); err != nil {
			return err
		}
		if disabled {
			return tx.revokeAll(personID, RevokedDisabled)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if disabled {
		s.revocations.changed(personID)
	}
	// A disabled person belongs to no list; enabled again, they rejoin.
	return s.SyncPeople(ctx, []int64{personID})
}

// Org is an organisation.
type Org struct {
	ID     int64
	Name   string
	Code   string
	People int64
}

// Orgs lists organisations with their head counts.
func (s *Store) Orgs(ctx context.Context) ([]Org, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT o.id, o.name, o.code, COUNT(p.id) FROM orgs o LEFT JOIN people p ON p.org_id = o.id
		GROUP BY o.id, o.name, o.code ORDER BY o.name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Org
	for rows.Next() {
		var o Org
		if err := rows.Scan(&o.ID, &o.Name, &o.Code, &o.People); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}
