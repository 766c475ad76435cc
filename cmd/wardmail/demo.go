package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"wardmail/admin"
	"wardmail/auth"
	"wardmail/directory"
	"wardmail/listsvc"
	"wardmail/privilege"
	"wardmail/server"
	"wardmail/sim"
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
			srv.DescribeDoors(), cfg.DataDir)
		if a, ok := srv.Addrs["http"]; ok {
			fmt.Fprintf(os.Stderr, "Webmail: https://%s/ (accept the self-signed certificate; sign in as ben.okafor@nhs.test)\n", a)
		}
		fmt.Fprintf(os.Stderr, "Stop with Ctrl-C.\n")
	})
}

// seedDemo adds the demo people (idempotent: a second run changes nothing
// but passwords a person has changed are kept), through the services an
// operator's commands use.
func seedDemo(ctx context.Context, at storeAt) error {
	st, err := openStore(ctx, at)
	if err != nil {
		return err
	}
	defer st.Close()
	dirsvc := directory.NewService(st)
	for _, p := range sim.DemoPeople() {
		var hash string
		if existing, err := dirsvc.Person(ctx, p.Email); err != nil || existing.PasswordHash == "" {
			if hash, err = auth.HashPassword(auth.DefaultParams(), sim.DemoPassword); err != nil {
				return err
			}
		}
		in := directory.PersonInput{Email: p.Email, Name: p.Name, Org: p.Org, Role: p.Role, Site: p.Site}
		if _, err := dirsvc.Put(ctx, in, hash); err != nil {
			return err
		}
	}
	if err := seedDemoAdmin(ctx, dirsvc, adminService(st)); err != nil {
		return err
	}
	return seedDemoLists(ctx, listService(st))
}

const (
	// demoAdmin is the demo's national administrator.
	demoAdmin = "rosa.martinez@" + sim.DemoDomain
	// demoAllStaff is a list of everyone in the demo, over demoConfirmAbove.
	demoAllStaff     = "all-staff@" + sim.DemoDomain
	demoConfirmAbove = 10
)

// seedDemoAdmin makes demoAdmin a national administrator (once).
func seedDemoAdmin(ctx context.Context, dirsvc *directory.Service, adm *admin.Service) error {
	p, err := dirsvc.Person(ctx, demoAdmin)
	if err != nil {
		return err
	}
	if pr, err := adm.Actor(ctx, p); err != nil || pr.IsAdmin() {
		return err
	}
	_, err = adm.Grant(ctx, privilege.Operator("demo"), demoAdmin, admin.RoleNational, "")
	return err
}

// seedDemoLists adds three lists to show the kinds (once; a list that
// exists is left as it is): a static ward list, a dynamic list of the
// pharmacists of every organisation, bounded to the demo's organisations,
// and everyone, large enough for the audience warning.
func seedDemoLists(ctx context.Context, lists *listsvc.Service) error {
	people := sim.DemoPeople()
	var orgs, everyone []string
	for _, p := range people {
		if !slices.Contains(orgs, p.Org) {
			orgs = append(orgs, p.Org)
		}
		everyone = append(everyone, p.Email)
	}
	owners := []string{people[0].Email}
	for _, nl := range []listsvc.NewList{
		{Address: "mri-ward-4@" + sim.DemoDomain, Name: "MRI Ward 4", Owners: owners, Members: everyone[:4]},
		{Address: demoAllStaff, Name: "All demo staff", Owners: owners, Members: everyone},
		{Address: "pharmacists@" + sim.DemoDomain, Name: "Pharmacists", Owners: owners,
			Rule: `role = "pharmacist"`, Scope: "set:" + strings.Join(orgs, "|")},
	} {
		if _, err := lists.Find(ctx, nl.Address); err == nil {
			continue
		}
		if _, err := lists.Create(ctx, nil, "demo", 0, nl); err != nil {
			return err
		}
	}
	return nil
}
