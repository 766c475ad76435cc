package store

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Revoking access reaches sessions that are already open, within a second
// (DESIGN section 8). A revocation is written with the change that causes it
// (SetDisabled, SetPassword, RevokeSessions, RevokeAppPasswords): the
// person's credential generation (people.cred_gen) grows, and a row in
// signin_revocations names the person. Open sessions hold a CredWatch taken
// at sign-in with the generation they signed in under (and the app password
// they used, if any). The Revocations hub looks a person up again when
//
//   - this process revoked something of theirs (at once, after the commit);
//   - signin_revocations has a new row for them, which Run polls every
//     second: that is how a change made by the CLI, or by another node on
//     the same database, reaches this one;
//
// and ends every watch whose generation is old, whose person is disabled or
// gone, or whose app password no longer exists. Each door then ends its
// session in its own words (IMAP BYE, SMTP 421, HTTP 401).

// Why a revocation happened (signin_revocations.reason), for the sentence
// a door says when it ends a session.
const (
	RevokedDisabled    = "disabled"
	RevokedPassword    = "password"
	RevokedSignOut     = "signout"
	RevokedAppPassword = "app_password"
)

// revokeAll raises a person's credential generation and records why, inside
// the write that causes it: every session they have open ends.
func (t *Tx) revokeAll(personID int64, reason string) error {
	if _, err := t.Exec(`UPDATE people SET cred_gen = cred_gen + 1 WHERE id = ?`, personID); err != nil {
		return err
	}
	return t.recordRevocation(personID, 0, reason)
}

// recordRevocation adds the row running servers poll.
func (t *Tx) recordRevocation(personID, appPasswordID int64, reason string) error {
	_, err := t.Exec(`INSERT INTO signin_revocations (person_id, app_password_id, reason, at) VALUES (?, ?, ?, ?)`,
		personID, appPasswordID, reason, t.s.now().Unix())
	return err
}

// revokeChangedPassword is revokeAll for an import or `user add` that gives
// an existing person a password other than the one they have.
func revokeChangedPassword(tx *Tx, email, hash string, now int64) error {
	res, err := tx.Exec(`UPDATE people SET cred_gen = cred_gen + 1 WHERE email = ? AND password_hash <> ?`, email, hash)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err
	}
	_, err = tx.Exec(`INSERT INTO signin_revocations (person_id, app_password_id, reason, at)
		SELECT id, 0, ?, ? FROM people WHERE email = ?`, RevokedPassword, now, email)
	return err
}

// RevokeSessions ends every session a person has open, on every door ("sign
// out everywhere"), and says how many web sessions there were. Their app
// passwords stay valid: a device signs in again with its own.
func (s *Store) RevokeSessions(ctx context.Context, personID int64) (int, error) {
	var n int64
	err := s.Write(ctx, func(tx *Tx) error {
		if err := tx.revokeAll(personID, RevokedSignOut); err != nil {
			return err
		}
		res, err := tx.Exec(`DELETE FROM web_sessions WHERE person_id = ?`, personID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, err
	}
	s.revocations.changed(personID)
	return int(n), nil
}

// Revocations returns the hub that ends open sessions when their
// credentials are revoked.
func (s *Store) Revocations() *Revocations { return s.revocations }

// Revocations tells open sessions that their credentials were revoked.
type Revocations struct {
	s   *Store
	log *slog.Logger

	mu      sync.Mutex
	watches map[int64]map[*CredWatch]struct{}
	// recent holds people revoked in the last few minutes, so that a
	// sign-in that read the person just before a revocation and takes its
	// watch just after is still checked (Watch).
	recent map[int64]time.Time
	last   int64 // the newest signin_revocations row seen
	pruned time.Time
}

// recentFor bounds how long a sign-in may take between reading the person
// and taking its watch (argon2id waits for a place on the hashing pool).
const recentFor = 5 * time.Minute

func newRevocations(s *Store) *Revocations {
	return &Revocations{s: s, log: s.log, watches: map[int64]map[*CredWatch]struct{}{}, recent: map[int64]time.Time{}}
}

// CredWatch is one open session's hold on its credentials.
type CredWatch struct {
	r           *Revocations
	personID    int64
	gen         int64
	appPassword int64
	door        string
	onEnd       func(reason string)

	once   sync.Once
	done   chan struct{}
	reason string // set before done is closed
}

// Watch starts watching the credentials p signed in with (p as the sign-in
// returned it: CredGen and AppPasswordID). onEnd, when not nil, is called
// once, from another goroutine or from Watch itself, with the reason
// (RevokedDisabled...) when they are revoked; it must not block. door
// labels the metric ("imap", "submission"). Close the watch when the
// session ends.
func (r *Revocations) Watch(p *Person, door string, onEnd func(reason string)) *CredWatch {
	w := &CredWatch{r: r, personID: p.ID, gen: p.CredGen, appPassword: p.AppPasswordID, door: door, onEnd: onEnd,
		done: make(chan struct{})}
	r.mu.Lock()
	m := r.watches[p.ID]
	if m == nil {
		m = map[*CredWatch]struct{}{}
		r.watches[p.ID] = m
	}
	m[w] = struct{}{}
	_, recent := r.recent[p.ID]
	r.mu.Unlock()
	if recent {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r.check(ctx, p.ID)
	}
	return w
}

// Done is closed when the credentials are revoked.
func (w *CredWatch) Done() <-chan struct{} { return w.done }

// Ended reports whether the credentials were revoked, and why.
func (w *CredWatch) Ended() (reason string, ended bool) {
	select {
	case <-w.done:
		return w.reason, true
	default:
		return "", false
	}
}

// Close stops watching.
func (w *CredWatch) Close() {
	r := w.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if m := r.watches[w.personID]; m != nil {
		delete(m, w)
		if len(m) == 0 {
			delete(r.watches, w.personID)
		}
	}
}

func (w *CredWatch) end(reason string) {
	w.once.Do(func() {
		w.reason = reason
		close(w.done)
		w.r.s.metrics.revoked.WithLabelValues(w.door).Inc()
		if w.onEnd != nil {
			w.onEnd(reason)
		}
	})
}

// Open reports how many sessions hold a watch (for tests and metrics).
func (r *Revocations) Open() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, m := range r.watches {
		n += len(m)
	}
	return n
}

// CountEnded counts a session that a door ended by itself when it found its
// credentials revoked (the web door compares generations on each request).
func (r *Revocations) CountEnded(door string) { r.s.metrics.revoked.WithLabelValues(door).Inc() }

// changed looks a person's open sessions over after this process revoked
// something of theirs.
func (r *Revocations) changed(personID int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r.check(ctx, personID)
}

// credState is what decides whether a session may go on.
type credState struct {
	exists, disabled bool
	gen              int64
	appPasswords     []int64 // sorted; read only when a watch used one
	reason           string  // of the newest revocation of every session
}

// check ends the watches of a person whose credentials no longer hold.
func (r *Revocations) check(ctx context.Context, personID int64) {
	r.mu.Lock()
	r.recent[personID] = time.Now()
	var ws []*CredWatch
	needApp := false
	for w := range r.watches[personID] {
		ws = append(ws, w)
		needApp = needApp || w.appPassword != 0
	}
	r.mu.Unlock()
	if len(ws) == 0 {
		return
	}
	st, err := r.s.credState(ctx, personID, needApp)
	if err != nil {
		// Checked again at the next revocation of theirs; the sign-in
		// check itself still refuses new sessions.
		r.log.Warn("checking revoked credentials", "person", personID, "err", err)
		return
	}
	for _, w := range ws {
		switch {
		case !st.exists || st.disabled:
			w.end(RevokedDisabled)
		case w.gen != st.gen:
			w.end(st.reason)
		case w.appPassword != 0:
			if _, ok := slices.BinarySearch(st.appPasswords, w.appPassword); !ok {
				w.end(RevokedAppPassword)
			}
		}
	}
}

func (s *Store) credState(ctx context.Context, personID int64, appPasswords bool) (*credState, error) {
	st := &credState{exists: true, reason: RevokedPassword}
	var disabled int
	err := s.r.QueryRowContext(ctx, s.q(`SELECT disabled, cred_gen FROM people WHERE id = ?`), personID).Scan(&disabled, &st.gen)
	if errors.Is(err, sql.ErrNoRows) {
		st.exists = false
		return st, nil
	} else if err != nil {
		return nil, err
	}
	st.disabled = disabled != 0
	err = s.r.QueryRowContext(ctx, s.q(`SELECT reason FROM signin_revocations WHERE person_id = ? AND app_password_id = 0
		ORDER BY id DESC LIMIT 1`), personID).Scan(&st.reason)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	if !appPasswords {
		return st, nil
	}
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT id FROM app_passwords WHERE person_id = ? ORDER BY id`), personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		st.appPasswords = append(st.appPasswords, id)
	}
	return st, rows.Err()
}

// Run polls signin_revocations every interval for revocations made by other
// processes (the CLI, other nodes) until the returned stop is called. Rows
// older than a day are removed as it goes: a server that was down longer
// has no sessions left to end.
func (r *Revocations) Run(every time.Duration) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	var last sql.NullInt64
	if err := r.s.r.QueryRowContext(ctx, `SELECT MAX(id) FROM signin_revocations`).Scan(&last); err != nil {
		r.log.Warn("reading revocations", "err", err)
	}
	r.mu.Lock()
	r.last = last.Int64
	r.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if err := r.poll(ctx); err != nil && ctx.Err() == nil {
				r.log.Warn("reading revocations", "err", err)
			}
		}
	}()
	return func() error {
		cancel()
		<-done
		return nil
	}
}

// Poll reads new revocations now rather than at the next tick.
func (r *Revocations) Poll(ctx context.Context) error { return r.poll(ctx) }

func (r *Revocations) poll(ctx context.Context) error {
	r.mu.Lock()
	after := r.last
	now := time.Now()
	for id, at := range r.recent {
		if now.Sub(at) > recentFor {
			delete(r.recent, id)
		}
	}
	prune := now.Sub(r.pruned) > time.Hour
	if prune {
		r.pruned = now
	}
	r.mu.Unlock()
	if prune {
		if err := r.s.Write(ctx, func(tx *Tx) error {
			_, err := tx.Exec(`DELETE FROM signin_revocations WHERE at < ?`, tx.s.now().Add(-24*time.Hour).Unix())
			return err
		}); err != nil {
			return err
		}
	}
	rows, err := r.s.r.QueryContext(ctx, r.s.q(`SELECT id, person_id FROM signin_revocations WHERE id > ? ORDER BY id LIMIT 10000`), after)
	if err != nil {
		return err
	}
	var people []int64
	seen := map[int64]bool{}
	for rows.Next() {
		var id, person int64
		if err := rows.Scan(&id, &person); err != nil {
			rows.Close()
			return err
		}
		after = max(after, id)
		if !seen[person] {
			seen[person] = true
			people = append(people, person)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	r.mu.Lock()
	r.last = max(r.last, after)
	r.mu.Unlock()
	for _, p := range people {
		r.check(ctx, p)
	}
	return nil
}
