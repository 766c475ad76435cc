package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Rolling upgrades (docs/upgrades.md): nodes of release N keep serving
// while a node of release N+1 migrates the database they share. What keeps
// that safe is checked here, under the migration lock:
//
//   - a node runs on a schema ahead of what it knows, as long as it knows
//     at least the database's floor (contract steps raise the floor);
//   - a node migrates only while every other node alive knows at least the
//     schema as it found it (the release before its own, at oldest);
//   - a step that is not marked as a contract step only adds (ExpandOnly);
//   - a contract step runs only once every other node alive knows at least
//     the step it names (its After), and raises the floor to that.

// RollingUpgrades is implemented by a Dialect whose database nodes of two
// releases may share during an upgrade (PostgreSQL). A database without it
// (SQLite: one process) refuses any schema ahead of the binary.
type RollingUpgrades interface {
	// ExpandOnlyFrom is the index of the first migration step the
	// expand-only rule binds; the steps before it are history.
	ExpandOnlyFrom() int
}

// NodeAliveWithin is how recently a node must have beaten to count as
// running: three of package cluster's heartbeats.
const NodeAliveWithin = 15 * time.Second

// UpgradeError is a refusal of the rolling-upgrade rule: the node does not
// start, and the sentence tells the operator what to do.
type UpgradeError struct{ Sentence string }

func (e *UpgradeError) Error() string { return e.Sentence }

func refuseUpgrade(format string, a ...any) error {
	return &UpgradeError{Sentence: fmt.Sprintf(format, a...)}
}

// KnownSteps is how many migration steps this binary knows: the schema step
// its heartbeat records.
func (s *Store) KnownSteps() int { return s.knownSteps }

// SchemaState is the database's schema as `wardmail cluster status` shows it.
type SchemaState struct {
	Step  int // migration steps applied
	Floor int // the fewest steps a node must know to run on it
	Known int // the steps this binary knows
}

// Schema reads the database's schema step and floor.
func (s *Store) Schema(ctx context.Context) (SchemaState, error) {
	st := SchemaState{Known: s.knownSteps}
	if err := s.r.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&st.Step); err != nil {
		return st, err
	}
	err := s.r.QueryRowContext(ctx, `SELECT oldest FROM schema_floor`).Scan(&st.Floor)
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	}
	return st, err
}

// checkSchemaAhead decides what a node that knows known steps does with a
// database at step v: it reports ahead (run on it without migrating) when
// the database is ahead and the dialect allows rolling upgrades and the
// floor is within what the node knows, and an error when the node may not
// run at all.
func (s *Store) checkSchemaAhead(ctx context.Context, tx *sql.Tx, v, known int) (ahead bool, err error) {
	_, rolling := s.dialect.(RollingUpgrades)
	if !rolling {
		if v > known {
			return false, fmt.Errorf("store: the database has schema version %d but this wardmail knows only %d: upgrade wardmail", v, known)
		}
		return false, nil
	}
	var floor int
	if _, err := s.probe(ctx, tx, func() error {
		return tx.QueryRowContext(ctx, `SELECT oldest FROM schema_floor`).Scan(&floor)
	}); err != nil {
		return false, err
	}
	if known < floor {
		return false, refuseUpgrade("this wardmail knows schema steps up to %d, and the database (at step %d) needs a node that knows at least step %d: "+
			"a later release has removed what this one uses. Upgrade this node to the release the other nodes run.", known, v, floor)
	}
	if v > known {
		s.log.Warn("the database's schema is ahead of this wardmail: running beside a newer release (its steps only add)",
			"schema_step", v, "known", known, "floor", floor)
		return true, nil
	}
	return false, nil
}

// checkStep decides whether step (index v, to be applied) may run now, in a
// migration that found the database at step start, and returns its rule.
func (s *Store) checkStep(ctx context.Context, tx *sql.Tx, step string, v, start int) (StepRule, error) {
	rule, err := ParseStepRule(step)
	if err != nil {
		return rule, fmt.Errorf("store: migration %d: %w", v+1, err)
	}
	ru, rolling := s.dialect.(RollingUpgrades)
	if !rolling {
		return rule, nil
	}
	if !rule.Contract && v >= ru.ExpandOnlyFrom() {
		if what := ExpandOnly(step); what != "" {
			return rule, refuseUpgrade("refusing migration step %d: it is not expand-only (%s), and nodes of the previous release may still use "+
				"what it removes or changes. A step that removes is a contract step, marked %q, that runs in a later release (docs/upgrades.md).",
				v+1, what, contractMarker+" after=N")
		}
	}
	if start <= ru.ExpandOnlyFrom() {
		// The database did not record the rule when this migration began:
		// the nodes alive are of the release before it, which records no
		// schema step (their rows say 0), and are the previous release.
		return rule, nil
	}
	need := start
	if rule.Contract && rule.After > need {
		need = rule.After
	}
	older, err := s.olderNodes(ctx, tx, need)
	if err != nil || len(older) == 0 {
		return rule, err
	}
	n := older[0]
	if rule.Contract {
		return rule, refuseUpgrade("refusing contract migration step %d: it removes what nodes knowing fewer than %d schema steps use, and node %s "+
			"(version %s, schema step %d) is alive. Upgrade or stop that node, then start this one again.", v+1, rule.After, n.Name, n.Version, n.SchemaStep)
	}
	return rule, refuseUpgrade("refusing to migrate the schema from step %d: node %s (version %s, schema step %d) is alive and older than the release "+
		"before this one. Upgrade or stop it, then start this node again.", start, n.Name, n.Version, n.SchemaStep)
}

// olderNodes lists the other nodes alive that know fewer than step schema
// steps (none while cluster_nodes lacks the column).
func (s *Store) olderNodes(ctx context.Context, tx *sql.Tx, step int) ([]NodeRow, error) {
	var out []NodeRow
	_, err := s.probe(ctx, tx, func() error {
		out = nil
		rows, err := tx.QueryContext(ctx, s.q(`SELECT name, version, schema_step FROM cluster_nodes
			WHERE seen >= ? AND name <> ? AND schema_step < ? ORDER BY name`), s.now().Add(-NodeAliveWithin).Unix(), s.nodeName, step)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var n NodeRow
			if err := rows.Scan(&n.Name, &n.Version, &n.SchemaStep); err != nil {
				return err
			}
			out = append(out, n)
		}
		return rows.Err()
	})
	return out, err
}

// probe runs read inside a savepoint and reports whether it succeeded: a
// table or column that an older schema lacks makes it fail, which leaves
// the migration's transaction usable (PostgreSQL aborts a transaction on
// any failed statement, short of a savepoint). A failure of the savepoint
// itself is an error.
func (s *Store) probe(ctx context.Context, tx *sql.Tx, read func() error) (bool, error) {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT wardmail_probe`); err != nil {
		return false, err
	}
	if rerr := read(); rerr != nil {
		if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT wardmail_probe`); err != nil {
			return false, errors.Join(rerr, err)
		}
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		return false, nil
	}
	_, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT wardmail_probe`)
	return err == nil, err
}
