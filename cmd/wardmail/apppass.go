package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"wardmail/auth"
)

const apppassUsage = `usage:
  wardmail apppass create --data DIR EMAIL --name NAME --scope imap,smtp   (prints the password as its last line)
  wardmail apppass list --data DIR EMAIL
  wardmail apppass revoke --data DIR EMAIL [--name NAME]                   (without --name: all of them)`

func runAppPass(args []string) error {
	if len(args) == 0 {
		return errors.New(apppassUsage)
	}
	verb := args[0]
	fs := flag.NewFlagSet("apppass "+verb, flag.ExitOnError)
	data := storeFlags(fs, "")
	name := fs.String("name", "", "the device, e.g. \"work phone\"")
	scope := fs.String("scope", "imap,smtp", "what it may sign in to: imap, smtp or both")
	rest := parseMixed(fs, args[1:])
	if len(rest) != 1 {
		return errors.New(apppassUsage)
	}
	ctx := context.Background()
	st, err := openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer st.Close()
	p, err := st.PersonByEmail(ctx, strings.ToLower(rest[0]))
	if err != nil {
		return fmt.Errorf("%s: %w", rest[0], err)
	}
	actor := "cli:" + osUser()
	// The sign-in service, for the person's settings only: nothing here
	// checks a password, so it needs no hasher.
	login := auth.New(auth.Config{Store: st})
	defer login.Close()
	switch verb {
	case "create":
		scopes, err := auth.ParseScopes(*scope)
		if err != nil {
			return err
		}
		if *name == "" {
			return errors.New("--name is required (the device, e.g. \"work phone\")")
		}
		ap, secret, err := login.IssueAppPassword(ctx, actor, p, *name, scopes)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "app password %q for %s (%s); it is shown once:\n", ap.Name, p.Email, strings.Join(ap.Scopes, ","))
		fmt.Println(secret)
	case "list":
		aps, err := login.AppPasswords(ctx, p)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tSCOPES\tCREATED\tLAST USED\tFROM")
		for _, a := range aps {
			used := "never"
			if !a.LastUsedAt.IsZero() {
				used = a.LastUsedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.Name, strings.Join(a.Scopes, ","), a.CreatedAt.Format(time.RFC3339), used, a.LastUsedFrom)
		}
		return tw.Flush()
	case "revoke":
		n, err := login.RevokeAppPasswords(ctx, actor, p, *name)
		if err != nil {
			return err
		}
		fmt.Printf("revoked %d app passwords of %s\n", n, p.Email)
	default:
		return errors.New(apppassUsage)
	}
	return nil
}
