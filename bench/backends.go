package bench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"text/tabwriter"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for the throwaway databases
)

// Backends runs a benchmark once per backend named in list ("sqlite",
// "postgres"), one after the other on the same machine, so that their
// figures can be read side by side. A PostgreSQL run gets a database of its
// own, made on the server that serverURL names (a postgres:// URL of a role
// allowed to create databases) and dropped afterwards. run is given the
// database to use ("" for SQLite).
func Backends(ctx context.Context, list []string, serverURL string, out io.Writer, run func(backend, database string) error) error {
	for _, b := range list {
		switch b {
		case "sqlite":
			fmt.Fprintf(out, "\n== SQLite ==\n")
			if err := run(b, ""); err != nil {
				return fmt.Errorf("sqlite: %w", err)
			}
		case "postgres":
			if serverURL == "" {
				return fmt.Errorf("postgres: give --database a postgres:// URL of a server where a throwaway database can be made")
			}
			fmt.Fprintf(out, "\n== PostgreSQL ==\n")
			dsn, drop, err := throwawayDatabase(ctx, serverURL)
			if err != nil {
				return err
			}
			err = run(b, dsn)
			if derr := drop(); err == nil {
				err = derr
			}
			if err != nil {
				return fmt.Errorf("postgres: %w", err)
			}
		default:
			return fmt.Errorf("unknown backend %q (sqlite, postgres)", b)
		}
	}
	return nil
}

// dbPath is the database part of a postgres:// URL.
var dbPath = regexp.MustCompile(`^(postgres(?:ql)?://[^/?]*)(/[^?]*)?`)

func throwawayDatabase(ctx context.Context, serverURL string) (string, func() error, error) {
	if !dbPath.MatchString(serverURL) {
		return "", nil, fmt.Errorf("--database: want a postgres:// URL, got %q", serverURL)
	}
	admin, err := sql.Open("pgx", serverURL)
	if err != nil {
		return "", nil, err
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "wardmail_bench_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		_ = admin.Close()
		return "", nil, fmt.Errorf("making a database for the run: %w", err)
	}
	dsn := dbPath.ReplaceAllString(serverURL, "${1}/"+name)
	return dsn, func() error {
		_, err := admin.ExecContext(context.WithoutCancel(ctx), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
		return errors.Join(err, admin.Close())
	}, nil
}

// PrintDeliverSideBySide prints the main delivery figures of each backend
// in columns.
func PrintDeliverSideBySide(w io.Writer, names []string, res []*DeliverResult) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "\t%s\t\n", strings.Join(names, "\t"))
	row := func(label string, f func(*DeliverResult) string) {
		cells := make([]string, len(res))
		for i, r := range res {
			cells[i] = f(r)
		}
		fmt.Fprintf(tw, "%s\t%s\t\n", label, strings.Join(cells, "\t"))
	}
	row("messages/s", func(r *DeliverResult) string { return fmt.Sprintf("%.0f", r.PerSecond) })
	row("submit p50 ms", func(r *DeliverResult) string { return fmt.Sprintf("%.2f", r.SubmitP50Ms) })
	row("submit p99 ms", func(r *DeliverResult) string { return fmt.Sprintf("%.2f", r.SubmitP99Ms) })
	row("IDLE EXISTS p50 ms", func(r *DeliverResult) string { return fmt.Sprintf("%.2f", r.VisibleP50Ms) })
	row("SELECT under load p50 ms", func(r *DeliverResult) string { return fmt.Sprintf("%.2f", r.LoadSelectP50Ms) })
	row("SELECT under load p99 ms", func(r *DeliverResult) string { return fmt.Sprintf("%.2f", r.LoadSelectP99Ms) })
	fmt.Fprintln(w)
	_ = tw.Flush()
}

// PrintFanoutSideBySide prints the main fan-out figures of each backend in
// columns.
func PrintFanoutSideBySide(w io.Writer, names []string, res []*FanoutResult) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "\t%s\t\n", strings.Join(names, "\t"))
	row := func(label string, f func(*FanoutResult) string) {
		cells := make([]string, len(res))
		for i, r := range res {
			cells[i] = f(r)
		}
		fmt.Fprintf(tw, "%s\t%s\t\n", label, strings.Join(cells, "\t"))
	}
	row("list built s", func(r *FanoutResult) string { return fmt.Sprintf("%.1f", r.ListSeconds) })
	row("first post ms", func(r *FanoutResult) string { return fmt.Sprintf("%.1f", r.FirstPostMs) })
	row("post p50 ms", func(r *FanoutResult) string { return fmt.Sprintf("%.2f", r.PostP50Ms) })
	row("first SELECT p50 ms", func(r *FanoutResult) string { return fmt.Sprintf("%.2f", r.FirstSelectP50) })
	row("SELECT+FETCH p50 ms", func(r *FanoutResult) string { return fmt.Sprintf("%.2f", r.ReadP50Ms) })
	row("SELECT+FETCH p99 ms", func(r *FanoutResult) string { return fmt.Sprintf("%.2f", r.ReadP99Ms) })
	fmt.Fprintln(w)
	_ = tw.Flush()
}
