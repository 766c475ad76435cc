package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"

	"wardmail/directory"
)

const userUsage = `usage:
  wardmail user add --data DIR --email ADDR --name NAME --org ORG [--role R] [--site S]  (password on stdin; empty for none)
  wardmail user passwd --data DIR ADDR   (new password on stdin)
  wardmail user list --data DIR [--after ADDR] [--limit N]
  wardmail user disable|enable --data DIR ADDR`

func runUser(args []string) error {
	if len(args) == 0 {
		return errors.New(userUsage)
	}
	ctx := context.Background()
	fs := flag.NewFlagSet("user "+args[0], flag.ExitOnError)
	data := storeFlags(fs, "")
	switch args[0] {
	case "add":
		email := fs.String("email", "", "address")
		name := fs.String("name", "", "display name")
		org := fs.String("org", "", "organisation")
		role := fs.String("role", "", "role")
		site := fs.String("site", "", "site")
		_ = fs.Parse(args[1:])
		if *name == "" || *org == "" {
			return errors.New("--name and --org are required")
		}
		// The rule of the CSV import and the admin API, checked before the
		// password is asked for.
		in := directory.PersonInput{Email: *email, Name: *name, Org: *org, Role: *role, Site: *site}
		var fe *directory.FieldError
		if err := directory.CheckPerson(&in); errors.As(err, &fe) {
			return fmt.Errorf("--%s: %w", fe.Field, fe.Err)
		} else if err != nil {
			return err
		}
		pw, err := readPassword("Password (empty for none): ")
		if err != nil {
			return err
		}
		var hash string
		if pw != "" {
			if hash, err = hashNew(ctx, pw); err != nil {
				return err
			}
		}
		st, err := openStore(ctx, *data)
		if err != nil {
			return err
		}
		defer st.Close()
		added, err := directory.NewService(st).Put(ctx, in, hash)
		if err != nil {
			return err
		}
		if added {
			fmt.Println("added", in.Email)
		} else {
			fmt.Println("updated", in.Email)
		}
		return nil
	case "passwd", "disable", "enable":
		_ = fs.Parse(args[1:])
		if fs.NArg() != 1 {
			return errors.New(userUsage)
		}
		var pw string
		if args[0] == "passwd" {
			var err error
			if pw, err = readPassword("New password: "); err != nil {
				return err
			}
		}
		st, err := openStore(ctx, *data)
		if err != nil {
			return err
		}
		defer st.Close()
		svc := adminService(st)
		if args[0] == "passwd" {
			p, _, err := svc.ResetPassword(ctx, operatorPrincipal(), fs.Arg(0), pw)
			if err != nil {
				return err
			}
			fmt.Println("password changed for", p.Email)
			return nil
		}
		p, err := svc.SetDisabled(ctx, operatorPrincipal(), fs.Arg(0), args[0] == "disable")
		if err != nil {
			return err
		}
		fmt.Println(args[0]+"d", p.Email)
		return nil
	case "list":
		after := fs.String("after", "", "list people after this address")
		limit := fs.Int("limit", 100, "how many")
		_ = fs.Parse(args[1:])
		st, err := openStore(ctx, *data)
		if err != nil {
			return err
		}
		defer st.Close()
		people, err := directory.NewService(st).People(ctx, *after, *limit)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "EMAIL\tNAME\tORGANISATION\tROLE\tSITE\tSIGN-IN")
		for _, p := range people {
			signin := "password"
			switch {
			case p.Disabled:
				signin = "disabled"
			case p.PasswordHash == "":
				signin = "no password"
			}
			// Rows stored before names were checked are shown escaped.
			show := directory.ShowText
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", show(p.Email), show(p.Name), show(p.Org), show(p.Role), show(p.Site), signin)
		}
		return tw.Flush()
	}
	return errors.New(userUsage)
}
