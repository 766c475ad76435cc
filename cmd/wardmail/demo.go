package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"

	"wardmail/auth"
	"wardmail/server"
	"wardmail/sim"
	"wardmail/store"
)

func runDemo(args []string) error {
	fs := flag.NewFlagSet("demo", flag.ExitOnError)
	load := serveFlags(fs)
	_ = fs.Parse(args)
	cfg, err := load()
	if err != nil {
		return err
	}
	if err := seedDemo(context.Background(), cfg.DataDir); err != nil {
		return fmt.Errorf("seeding the demo: %w", err)
	}
	return serve(cfg, func(srv *server.Server) {
		fmt.Fprintf(os.Stderr, "\nWardmail demo: a small health service of %d people. Everyone's password: %s\n\n",
			len(sim.DemoPeople()), sim.DemoPassword)
		tw := tabwriter.NewWriter(os.Stderr, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  EMAIL\tNAME\tORGANISATION\tROLE")
		for _, p := range sim.DemoPeople() {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", p.Email, p.Name, p.Org, p.Role)
		}
		_ = tw.Flush()
		fmt.Fprintf(os.Stderr, "\nDoors: %s\nIMAP and submission use STARTTLS with a self-signed certificate (in %s).\n",
			describeDoors(srv), cfg.DataDir)
		if a, ok := srv.Addrs["http"]; ok {
			fmt.Fprintf(os.Stderr, "Webmail: https://%s/ (accept the self-signed certificate; sign in as ben.okafor@nhs.test)\n", a)
		}
		fmt.Fprintf(os.Stderr, "Stop with Ctrl-C.\n")
	})
}

// seedDemo adds the demo people (idempotent: a second run changes nothing
// but passwords a person has changed are kept).
func seedDemo(ctx context.Context, dir string) error {
	st, err := openStore(ctx, dir)
	if err != nil {
		return err
	}
	defer st.Close()
	var recs []store.PersonRecord
	for _, p := range sim.DemoPeople() {
		rec := store.PersonRecord{Email: p.Email, Name: p.Name, Org: p.Org, Role: p.Role, Site: p.Site}
		if existing, err := st.PersonByEmail(ctx, p.Email); err != nil || existing.PasswordHash == "" {
			if rec.PasswordHash, err = auth.HashPassword(auth.DefaultParams(), sim.DemoPassword); err != nil {
				return err
			}
		}
		recs = append(recs, rec)
	}
	_, _, err = st.UpsertPeople(ctx, recs)
	return err
}
