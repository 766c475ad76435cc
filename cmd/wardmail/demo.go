package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
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
	// The demo's 20 people are far below the real confirmation threshold
	// (2,500): lower it so that all-staff shows the audience warning.
	if cfg.ConfirmAudienceAbove == server.Defaults().ConfirmAudienceAbove {
		cfg.ConfirmAudienceAbove = demoConfirmAbove
	}
	if err := seedDemo(context.Background(), storeAt{Dir: cfg.DataDir, Database: cfg.Database}); err != nil {
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
		fmt.Fprintf(os.Stderr, "\nLists: mri-ward-4@%s (static, 4 people), pharmacists@%s (dynamic: role = \"pharmacist\"),\n"+
			"       %s (everyone: above the demo's confirmation threshold of %d, so compose shows the audience warning)\n",
			sim.DemoDomain, sim.DemoDomain, demoAllStaff, cfg.ConfirmAudienceAbove)
		fmt.Fprintf(os.Stderr, "\nAdministrator: %s (national), password %s. The console asks an administrator to set up\n"+
			"two-step sign-in first: scan the QR code it shows with an authenticator app, then Administration in the header.\n",
			demoAdmin, sim.DemoPassword)
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
func seedDemo(ctx context.Context, at storeAt) error {
	st, err := openStore(ctx, at)
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
	if _, _, err = st.UpsertPeople(ctx, recs); err != nil {
		return err
	}
	if err := seedDemoAdmin(ctx, st); err != nil {
		return err
	}
	return seedDemoLists(ctx, st)
}

const (
	// demoAdmin is the demo's national administrator.
	demoAdmin = "rosa.martinez@" + sim.DemoDomain
	// demoAllStaff is a list of everyone in the demo, over demoConfirmAbove.
	demoAllStaff     = "all-staff@" + sim.DemoDomain
	demoConfirmAbove = 10
)

// seedDemoAdmin makes demoAdmin a national administrator (once).
func seedDemoAdmin(ctx context.Context, st *store.Store) error {
	p, err := st.PersonByEmail(ctx, demoAdmin)
	if err != nil {
		return err
	}
	if is, err := st.IsAdmin(ctx, p.ID); err != nil || is {
		return err
	}
	return st.GrantAdmin(ctx, "demo", p.ID, store.RoleNational, 0)
}

// seedDemoLists adds three lists to show the kinds (once; a list that
// exists is left as it is): a static ward list, a dynamic list of the
// pharmacists of every organisation, bounded to the demo's organisations,
// and everyone, large enough for the audience warning.
func seedDemoLists(ctx context.Context, st *store.Store) error {
	people := sim.DemoPeople()
	owner, err := st.PersonByEmail(ctx, people[0].Email)
	if err != nil {
		return err
	}
	var orgs []string
	for _, p := range people {
		if !slices.Contains(orgs, p.Org) {
			orgs = append(orgs, p.Org)
		}
	}
	var ward []int64
	for _, p := range people[:4] {
		q, err := st.PersonByEmail(ctx, p.Email)
		if err != nil {
			return err
		}
		ward = append(ward, q.ID)
	}
	var everyone []int64
	for _, p := range people {
		q, err := st.PersonByEmail(ctx, p.Email)
		if err != nil {
			return err
		}
		everyone = append(everyone, q.ID)
	}
	specs := []store.ListSpec{
		{Address: "mri-ward-4@" + sim.DemoDomain, Name: "MRI Ward 4", Kind: store.ListStatic, Members: ward},
		{Address: demoAllStaff, Name: "All demo staff", Kind: store.ListStatic, Members: everyone},
		{Address: "pharmacists@" + sim.DemoDomain, Name: "Pharmacists", Kind: store.ListDynamic,
			Rule: `role = "pharmacist"`, Scope: "set:" + strings.Join(orgs, "|")},
	}
	for _, spec := range specs {
		if _, err := st.ListByAddress(ctx, spec.Address); err == nil {
			continue
		}
		spec.Owners = []int64{owner.ID}
		if _, err := st.CreateList(ctx, "demo", spec); err != nil {
			return err
		}
	}
	return nil
}
