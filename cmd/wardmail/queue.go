package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"wardmail/outbound"
	"wardmail/store"
	"wardmail/store/postgres"
)

const queueUsage = `usage:
  wardmail queue list    --data DIR [--database URL] [--domain D] [--state queued|held|delivered|failed|deleted] [--limit N] [--json]
  wardmail queue domains --data DIR [--database URL] [--json]
  wardmail queue show    --data DIR [--database URL] QUEUEID [--json]
  wardmail queue retry|hold|release|delete --data DIR [--database URL] (QUEUEID | --domain D)

The outbound queue: mail from this server's people to other domains, until
each recipient's server has taken it. "list" shows what waits (queued and
held); "domains" each destination's state: how many wait, how many were tried
and deferred, the oldest, the next attempt and the last error. "retry" tries
now, "hold" stops attempts until "release", "delete" withdraws a message
without a notice. Every change is recorded in the audit trail`

// runQueue is "wardmail queue".
func runQueue(args []string) error {
	if len(args) == 0 {
		return errors.New(queueUsage)
	}
	verb := args[0]
	fs := flag.NewFlagSet("queue "+verb, flag.ExitOnError)
	data := fs.String("data", "", "data folder")
	database := fs.String("database", "", "postgres:// URL, when the server runs on PostgreSQL")
	domain := fs.String("domain", "", "a destination domain")
	state := fs.String("state", "", "recipients in this state (list)")
	limit := fs.Int("limit", 100, "at most this many recipients (list)")
	asJSON := fs.Bool("json", false, "print JSON")
	rest := parseMixed(fs, args[1:])
	ctx := context.Background()
	var st *store.Store
	var err error
	if *database != "" {
		if *data == "" {
			return errors.New("--data is required (the blobs are in DATA/blobs)")
		}
		st, err = postgres.Open(ctx, *database, postgres.Options{BlobDir: filepath.Join(*data, "blobs")})
	} else {
		st, err = openStore(ctx, storeAt{Dir: *data})
	}
	if err != nil {
		return err
	}
	defer st.Close()
	q := outbound.New(outbound.Config{Store: st}) // not started: the operator's view and actions
	actor := operatorPrincipal()
	out := func(v any) error { return json.NewEncoder(os.Stdout).Encode(v) }
	switch verb {
	case "list":
		ms, err := q.List(ctx, actor, store.QueueFilter{Domain: *domain, State: *state, Limit: *limit})
		if err != nil {
			return err
		}
		if *asJSON {
			return out(map[string]any{"messages": ms})
		}
		if len(ms) == 0 {
			fmt.Println("the queue is empty")
			return nil
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "QUEUE ID\tQUEUED\tSENDER\tRECIPIENT\tSTATE\tATTEMPTS\tNEXT\tLAST ANSWER")
		for _, m := range ms {
			for _, r := range m.Rcpts {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", m.QueueID, ago(m.CreatedAt), m.Sender, r.Rcpt, r.State, r.Attempts,
					next(r), short(r.LastReply, 70))
			}
		}
		return w.Flush()
	case "domains":
		ds, err := q.Domains(ctx, actor)
		if err != nil {
			return err
		}
		if *asJSON {
			return out(map[string]any{"domains": ds})
		}
		if len(ds) == 0 {
			fmt.Println("no destination has mail waiting")
			return nil
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "DOMAIN\tQUEUED\tDEFERRED\tHELD\tOLDEST\tNEXT ATTEMPT\tLAST ERROR")
		for _, d := range ds {
			nextAt := "now"
			if d.NextAt.After(time.Now()) {
				nextAt = "in " + time.Until(d.NextAt).Round(time.Second).String()
			}
			fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%s\t%s\t%s\n", d.Domain, d.Queued, d.Deferred, d.Held, ago(d.Oldest), nextAt, short(d.LastError, 70))
		}
		return w.Flush()
	case "show":
		if len(rest) != 1 {
			return errors.New(queueUsage)
		}
		m, err := q.Show(ctx, actor, rest[0])
		if err != nil {
			return err
		}
		if *asJSON {
			return out(m)
		}
		fmt.Printf("queue id:   %s\nmessage-id: %s\nsubject:    %s\nsender:     %s\nqueued:     %s (%s)\nsize:       %d bytes\n",
			m.QueueID, m.MessageID, m.Subject, m.Sender, m.CreatedAt.Format(time.RFC3339), ago(m.CreatedAt), m.Size)
		for _, r := range m.Rcpts {
			fmt.Printf("\n  %s: %s after %d attempt(s)\n", r.Rcpt, r.State, r.Attempts)
			if r.MX != "" {
				fmt.Printf("    server:  %s (TLS: %s)\n", r.MX, r.TLS)
			}
			if r.LastReply != "" {
				fmt.Printf("    answer:  %s\n", r.LastReply)
			}
			if r.State == store.QueueQueued {
				fmt.Printf("    next:    %s\n", next(r))
			}
			if r.RemoteDSN != "" {
				fmt.Printf("    returned: %s\n", r.RemoteDSN)
			}
		}
		return nil
	case outbound.ActRetry, outbound.ActHold, outbound.ActRelease, outbound.ActDelete:
		id := ""
		if len(rest) == 1 {
			id = rest[0]
		} else if len(rest) > 1 || *domain == "" {
			return errors.New(queueUsage)
		}
		n, err := q.Change(ctx, actor, verb, id, *domain)
		if err != nil {
			return err
		}
		fmt.Printf("%s: %d recipient(s)\n", verb, n)
		return nil
	}
	return errors.New(queueUsage)
}

func ago(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return time.Since(t).Round(time.Second).String() + " ago"
}

func next(r *store.QueuedRcpt) string {
	if r.State != store.QueueQueued {
		return "-"
	}
	if d := time.Until(r.NextAt); d > 0 {
		return "in " + d.Round(time.Second).String()
	}
	return "now"
}

func short(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
