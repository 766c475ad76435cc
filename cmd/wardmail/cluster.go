package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"wardmail/cluster"
	"wardmail/store"
	"wardmail/store/postgres"
)

// runCluster is `wardmail cluster status`.
func runCluster(args []string) error {
	if len(args) == 0 || args[0] != "status" {
		return errors.New("usage: wardmail cluster status [--data DIR | --database postgres://...] [--json]")
	}
	fs := flag.NewFlagSet("cluster status", flag.ExitOnError)
	data := fs.String("data", "data", "data folder (SQLite)")
	database := fs.String("database", "", "postgres:// URL of the cluster's database")
	asJSON := fs.Bool("json", false, "print JSON")
	parseMixed(fs, args[1:])
	ctx := context.Background()
	var st *store.Store
	var err error
	if *database != "" {
		var extra []string
		if extra, err = testExtraMigrations(); err != nil {
			return err
		}
		st, err = postgres.Open(ctx, *database, postgres.Options{BlobDir: filepath.Join(*data, "blobs"), IndexEvery: -1, ExtraMigrations: extra})
	} else {
		st, err = openStore(ctx, storeAt{Dir: *data})
	}
	if err != nil {
		return err
	}
	defer st.Close()
	status, err := cluster.Read(ctx, st, time.Now())
	if err != nil {
		return err
	}
	repl, err := st.Replication(ctx)
	if err != nil {
		return fmt.Errorf("reading the database's replication: %w", err)
	}
	schema, err := st.Schema(ctx)
	if err != nil {
		return fmt.Errorf("reading the database's schema step: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"database": repl, "schema": schema, "nodes": status.Nodes, "unheld_jobs": status.Unheld})
	}
	printCluster(os.Stdout, status, repl, schema, time.Now())
	return nil
}

func printCluster(w io.Writer, s *cluster.Status, r *store.Replication, schema store.SchemaState, now time.Time) {
	role := "primary"
	if !r.Primary {
		role = "STANDBY (read-only: nodes connected here cannot write)"
	}
	fmt.Fprintf(w, "database: %s, %s", r.Backend, role)
	if r.Backend == "sqlite" {
		fmt.Fprint(w, " (embedded: one node)")
	}
	fmt.Fprintln(w)
	for _, sb := range r.Standbys {
		fmt.Fprintf(w, "  standby %s at %s: %s, %s, replay lag %s\n", sb.Name, sb.Addr, sb.State, sb.Sync, sb.ReplayLag)
	}
	if r.Backend == "postgres" && len(r.Standbys) == 0 && r.Primary {
		fmt.Fprintln(w, "  no standby streams from it: losing this database server loses the service")
	}
	fmt.Fprintf(w, "schema: step %d; a node must know at least step %d to run on it (docs/upgrades.md)\n", schema.Step, schema.Floor)
	fmt.Fprintf(w, "nodes: %d\n", len(s.Nodes))
	for _, n := range s.Nodes {
		state := "alive"
		if !n.Alive {
			state = "NOT SEEN for " + now.Sub(n.Seen).Round(time.Second).String()
		}
		jobs := "none"
		if len(n.Jobs) > 0 {
			jobs = strings.Join(n.Jobs, ", ")
		}
		step := fmt.Sprintf("schema step %d", n.SchemaStep)
		switch {
		case n.SchemaStep == 0:
			step = "schema step unknown (a release from before nodes recorded it)"
		case n.SchemaStep < schema.Step:
			step += fmt.Sprintf(" (the database is at %d: a newer release has migrated it)", schema.Step)
		}
		fmt.Fprintf(w, "  %s  %s  version %s, %s, up since %s\n    doors: %s\n    background jobs: %s\n",
			n.Name, state, n.Version, step, n.Started.Local().Format("2006-01-02 15:04:05"), n.Doors, jobs)
	}
	if len(s.Unheld) > 0 {
		fmt.Fprintf(w, "background jobs no node runs now (a lease lapsed; another node takes it within %s): %s\n",
			cluster.LeaseFor, strings.Join(s.Unheld, ", "))
	}
}
