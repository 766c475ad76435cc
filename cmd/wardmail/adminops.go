package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"

	"wardmail/admin"
)

const adminUsage = `usage:
  wardmail admin grant --data DIR EMAIL --role local|national [--org ORG]
  wardmail admin revoke --data DIR EMAIL
  wardmail admin list --data DIR
  wardmail admin purge --data DIR (--message-id ID | --thread ID)
  wardmail admin trace --data DIR --message-id ID [--json]
  wardmail admin audit --data DIR [--action PREFIX] [--limit N]
  wardmail admin storms --data DIR [--since 168h] [--json]
  wardmail admin storm block|unblock --data DIR THREAD [--hours H] [--reason TEXT]
  wardmail admin broadcast grant|revoke|list --data DIR [EMAIL] [--per-day N]
  wardmail admin quarantine list|release|delete --data DIR [ID] [--by EMAIL]`

// runAdmin dispatches the administrators' commands. Sign-in commands
// (incident, unlock, lockouts) have their own file.
func runAdmin(args []string) error {
	if len(args) == 0 {
		return errors.New(adminUsage)
	}
	ctx := context.Background()
	verb := args[0]
	fs := flag.NewFlagSet("admin "+verb, flag.ExitOnError)
	data := storeFlags(fs, "")
	role := fs.String("role", "", "local or national")
	org := fs.String("org", "", "the organisation a local administrator manages")
	msgID := fs.String("message-id", "", "a Message-ID")
	thread := fs.String("thread", "", "a thread id (the Message-ID of its first message)")
	action := fs.String("action", "", "audit: only actions starting with this")
	limit := fs.Int("limit", 50, "audit: how many entries")
	asJSON := fs.Bool("json", false, "print JSON")
	switch verb {
	case "incident":
		return runIncident(args[1:])
	case "unlock":
		return runUnlock(args[1:])
	case "lockouts":
		return runLockouts(args[1:])
	case "quarantine":
		return runQuarantine(args[1:]) // quarantine.go
	}
	if fn, ok := stormAdminCommands[verb]; ok { // storm.go
		return fn(args[1:])
	}
	rest := parseMixed(fs, args[1:])
	st, err := openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer st.Close()

	switch verb {
	case "grant", "revoke":
		if len(rest) != 1 {
			return errors.New(adminUsage)
		}
		svc := adminService(st)
		if verb == "revoke" {
			p, err := svc.Revoke(ctx, operatorPrincipal(), rest[0])
			if err != nil {
				return err
			}
			fmt.Printf("%s is no longer an administrator\n", p.Email)
			return nil
		}
		p, err := svc.Grant(ctx, operatorPrincipal(), rest[0], *role, *org)
		if err != nil {
			return err
		}
		fmt.Printf("%s is now a %s administrator\n", p.Email, *role)
		return nil
	case "list":
		admins, err := adminService(st).Admins(ctx, operatorPrincipal())
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "EMAIL\tROLE\tORGANISATION\tGRANTED")
		for _, a := range admins {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", a.Email, a.Role, a.Org, a.GrantedAt.Format("2006-01-02"))
		}
		return w.Flush()
	case "purge":
		if (*msgID == "") == (*thread == "") {
			return errors.New("give exactly one of --message-id or --thread")
		}
		id, isThread := *msgID, false
		if *thread != "" {
			id, isThread = *thread, true
		}
		res, err := adminService(st).Purge(ctx, operatorPrincipal(), id, isThread, false)
		if err != nil {
			return err
		}
		fmt.Printf("purged %d message(s): removed from %d mailboxes (%d rows), withdrawn from %d pending, %d held; %d mailboxes touched; senders' own copies: %d in %d folders; in %.2fs\n",
			res.Submissions, res.Mailboxes, res.Removed, res.Pending, res.Held, res.Touched, res.SenderCopies, res.SenderMailboxes, res.Seconds)
		return nil
	case "trace":
		if *msgID == "" {
			return errors.New("--message-id is required")
		}
		traces, err := adminService(st).Trace(ctx, operatorPrincipal(), *msgID)
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(os.Stdout).Encode(traces)
		}
		for _, t := range traces {
			fmt.Printf("%s  queue %s  from %s  subject %q\n", t.At.Format("2006-01-02 15:04:05"), t.QueueID, t.Sender, t.Subject)
			fmt.Printf("  thread %s  audience %d  lists %v  direct %d  state %s\n", t.ThreadID, t.Audience, t.Lists, t.Direct, t.State)
			fmt.Printf("  now in %d mailboxes, pending for %d, held %d\n", t.Materialised, t.Pending, t.Held)
			for _, r := range t.Outbound {
				fmt.Printf("  to %s: %s after %d attempt(s)", r.Rcpt, r.State, r.Attempts)
				if r.MX != "" {
					fmt.Printf(" via %s (TLS: %s)", r.MX, r.TLS)
				}
				if r.LastReply != "" {
					fmt.Printf(": %s", r.LastReply)
				}
				fmt.Println()
				if r.RemoteDSN != "" {
					fmt.Printf("    returned later by their server: %s\n", r.RemoteDSN)
				}
			}
		}
		return nil
	case "audit":
		entries, err := adminService(st).Audit(ctx, operatorPrincipal(), admin.AuditQuery{ActionPrefix: *action, Limit: *limit})
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "AT\tACTOR\tACTION\tTARGET\tDETAIL")
		for _, e := range entries {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", e.At.Format("2006-01-02 15:04:05"), e.Actor, e.Action, e.Target, e.Detail)
		}
		return w.Flush()
	}
	return fmt.Errorf("unknown admin command %q\n%s", verb, adminUsage)
}
