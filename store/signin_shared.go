package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"
)

// Smart lockout's state as the database decides it when several servers
// share one (DESIGN section 6): each counted failure is one write that
// locks the counter rows it changes (and the network's budget row), reads
// them, lets the engine decide, and writes them back, so failures through
// any server count against the same budget and a lock set through one is
// in the row every server reads before verifying a password. Successes
// stay batched (SaveLockoutBatch).

// Shared reports whether several processes may share this store's
// database (PostgreSQL), so that decisions must be read from it rather
// than from a process's memory. A SQLite database belongs to one process.
func (s *Store) Shared() bool { return s.dialect.Name() != "sqlite" }

// NetworkRow is the lockout network budget of one client network: counted
// failures against accounts it is unfamiliar to, and successful sign-ins,
// in the fixed window starting at Start and in the one before it.
type NetworkRow struct {
	Network          string
	Start            time.Time
	Fails, PrevFails int
	OKs, PrevOKs     int
}

func lockCounter(tx *Tx, account, source string) error {
	_, err := tx.Exec(`INSERT INTO signin_counters (account, source) VALUES (?, ?)
		ON CONFLICT (account, source) DO UPDATE SET account = excluded.account`, account, source)
	return err
}

func readCounter(tx *Tx, account, source string) (LockoutRow, error) {
	r := LockoutRow{Account: account, Source: source}
	var fam, at, until, last int64
	var fps string
	err := tx.QueryRow(`SELECT familiar, failures, locks, locked_at, locked_until, last_failure, fingerprints
		FROM signin_counters WHERE account = ? AND source = ?`, account, source).Scan(&fam, &r.Failures, &r.Locks, &at, &until, &last, &fps)
	r.Familiar = fam != 0
	r.LockedAt, r.LockedUntil, r.LastFailure = fromUnix(at), fromUnix(until), fromUnix(last)
	r.Fingerprints = decodeFingerprints(fps)
	return r, err
}

// empty says whether a counter row holds nothing worth keeping.
func (r *LockoutRow) empty() bool {
	return r.Failures == 0 && r.Locks == 0 && r.LockedUntil.IsZero() && len(r.Fingerprints) == 0
}

// updateNetwork locks, reads, changes and writes one network's row inside
// a write; a network with no row starts at now.
func (t *Tx) updateNetwork(network string, now time.Time, fn func(n *NetworkRow)) error {
	if _, err := t.Exec(`INSERT INTO signin_networks (network, window_start) VALUES (?, ?)
		ON CONFLICT (network) DO UPDATE SET network = excluded.network`, network, now.Unix()); err != nil {
		return err
	}
	n := NetworkRow{Network: network}
	var start int64
	if err := t.QueryRow(`SELECT window_start, fails, prev_fails, oks, prev_oks FROM signin_networks WHERE network = ?`, network).
		Scan(&start, &n.Fails, &n.PrevFails, &n.OKs, &n.PrevOKs); err != nil {
		return err
	}
	n.Start = time.Unix(start, 0)
	fn(&n)
	_, err := t.Exec(`UPDATE signin_networks SET window_start = ?, fails = ?, prev_fails = ?, oks = ?, prev_oks = ? WHERE network = ?`,
		n.Start.Unix(), n.Fails, n.PrevFails, n.OKs, n.PrevOKs, network)
	return err
}

// UpdateLockout changes the counters of one account's sources in one
// write: each row is locked and read (one with no row comes as a zero row
// with Account and Source set), in the order sources are given; so is the
// network's budget row when network is not empty (otherwise fn gets nil).
// fn changes them; they are written back, and a row left empty is deleted.
// fn runs in a write and must only compute.
func (s *Store) UpdateLockout(ctx context.Context, account string, sources []string, network string, now time.Time,
	fn func(rows []LockoutRow, n *NetworkRow) error) error {
	// Rows are locked in one order (sources sorted, then the network) so
	// that two servers counting failures of one account do not wait for
	// each other in a circle.
	order := slices.Clone(sources)
	slices.Sort(order)
	return s.Write(ctx, func(tx *Tx) error {
		for _, src := range order {
			if err := lockCounter(tx, account, src); err != nil {
				return err
			}
		}
		rows := make([]LockoutRow, len(sources))
		for i, src := range sources {
			r, err := readCounter(tx, account, src)
			if err != nil {
				return err
			}
			rows[i] = r
		}
		save := func(n *NetworkRow) error {
			if err := fn(rows, n); err != nil {
				return err
			}
			for i := range rows {
				rows[i].Account, rows[i].Source = account, sources[i]
				var err error
				if rows[i].empty() {
					err = tx.DeleteLockout(account, sources[i])
				} else {
					err = tx.SaveLockout(rows[i])
				}
				if err != nil {
					return err
				}
			}
			return nil
		}
		if network == "" {
			return save(nil)
		}
		var ferr error
		if err := tx.updateNetwork(network, now, func(n *NetworkRow) { ferr = save(n) }); err != nil {
			return err
		}
		return ferr
	})
}

// LockoutRowsFor returns the counter rows of one account's sources that
// exist.
func (s *Store) LockoutRowsFor(ctx context.Context, account string, sources ...string) ([]LockoutRow, error) {
	if len(sources) == 0 {
		return nil, nil
	}
	args := []any{account}
	for _, src := range sources {
		args = append(args, src)
	}
	return s.lockoutRows(ctx, `WHERE account = ? AND source IN (?`+strings.Repeat(", ?", len(sources)-1)+`)`, args...)
}

// SignInNetwork returns a network's budget row, nil when it has none.
func (s *Store) SignInNetwork(ctx context.Context, network string) (*NetworkRow, error) {
	n := NetworkRow{Network: network}
	var start int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT window_start, fails, prev_fails, oks, prev_oks FROM signin_networks WHERE network = ?`), network).
		Scan(&start, &n.Fails, &n.PrevFails, &n.OKs, &n.PrevOKs)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	n.Start = time.Unix(start, 0)
	return &n, err
}

// LockoutBatch is what lockout saves in one batched write: counters as
// this process holds them (one process per database), deletes, successes
// that forgive a source's failures (when it was never locked and failed
// no later), familiar sources, and successful sign-ins per network (added
// to the network's row once its windows are brought to Now).
type LockoutBatch struct {
	Save     []LockoutRow
	Delete   []LockoutRow // Account and Source
	Forgive  []LockoutRow // Account, Source and LastFailure: the success's time
	Familiar []LockoutRow // Account, Source and LastFailure: the success's time
	Networks map[string]int
	Now      time.Time
	Window   time.Duration // of the network budget
}

// SaveLockoutBatch writes a batch in one write.
func (s *Store) SaveLockoutBatch(ctx context.Context, b LockoutBatch) error {
	return s.Write(ctx, func(tx *Tx) error {
		for _, r := range b.Save {
			if err := tx.SaveLockout(r); err != nil {
				return err
			}
		}
		for _, r := range b.Delete {
			if err := tx.DeleteLockout(r.Account, r.Source); err != nil {
				return err
			}
		}
		for _, r := range b.Forgive {
			if _, err := tx.Exec(`DELETE FROM signin_counters WHERE account = ? AND source = ? AND locks = 0 AND last_failure <= ?`,
				r.Account, r.Source, r.LastFailure.Unix()); err != nil {
				return err
			}
		}
		for _, r := range b.Familiar {
			if err := tx.SetFamiliar(r.Account, r.Source, r.LastFailure); err != nil {
				return err
			}
		}
		// A network's windows roll forward as lockout's do: within one
		// window nothing moves, within two the current becomes the
		// previous, beyond that both start again. Every right-hand side
		// reads the row as it was.
		w := int64(b.Window / time.Second)
		now := b.Now.Unix()
		for net, oks := range b.Networks {
			if _, err := tx.Exec(`INSERT INTO signin_networks (network, window_start, oks) VALUES (?, ?, ?)
				ON CONFLICT (network) DO UPDATE SET
				prev_fails = CASE WHEN ? - signin_networks.window_start >= 2 * ? THEN 0
					WHEN ? - signin_networks.window_start >= ? THEN signin_networks.fails ELSE signin_networks.prev_fails END,
				prev_oks = CASE WHEN ? - signin_networks.window_start >= 2 * ? THEN 0
					WHEN ? - signin_networks.window_start >= ? THEN signin_networks.oks ELSE signin_networks.prev_oks END,
				fails = CASE WHEN ? - signin_networks.window_start >= ? THEN 0 ELSE signin_networks.fails END,
				oks = CASE WHEN ? - signin_networks.window_start >= ? THEN 0 ELSE signin_networks.oks END + excluded.oks,
				window_start = CASE WHEN ? - signin_networks.window_start >= 2 * ? THEN ?
					WHEN ? - signin_networks.window_start >= ? THEN signin_networks.window_start + ? ELSE signin_networks.window_start END`,
				net, now, oks, now, w, now, w, now, w, now, w, now, w, now, w, now, w, now, now, w, w); err != nil {
				return err
			}
		}
		return nil
	})
}

// ForgetLockouts deletes counters with no failure since `before` and no
// lock running at now, and network rows whose windows ended before
// `networksBefore`: what no decision reads any more.
func (s *Store) ForgetLockouts(ctx context.Context, before, now, networksBefore time.Time) error {
	return s.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(`DELETE FROM signin_counters WHERE last_failure < ? AND locked_until <= ?`, before.Unix(), now.Unix()); err != nil {
			return err
		}
		_, err := tx.Exec(`DELETE FROM signin_networks WHERE window_start < ?`, networksBefore.Unix())
		return err
	})
}

// SignInKeyCheck keeps a check value of the key wrong-password
// fingerprints are keyed with, so that servers sharing a database can tell
// they were given different keys. It stores check when none is stored, or
// when replace is set, and returns the value stored before (empty when
// none).
func (s *Store) SignInKeyCheck(ctx context.Context, check string, replace bool) (previous string, err error) {
	err = s.Write(ctx, func(tx *Tx) error {
		err := tx.QueryRow(`SELECT value FROM signin_control WHERE key = 'fingerprint_key_check'`).Scan(&previous)
		if errors.Is(err, sql.ErrNoRows) {
			previous = ""
		} else if err != nil {
			return err
		}
		if previous != "" && !replace {
			return nil
		}
		_, err = tx.Exec(`INSERT INTO signin_control (key, value, updated_at) VALUES ('fingerprint_key_check', ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, check, tx.s.now().Unix())
		return err
	})
	return previous, err
}
