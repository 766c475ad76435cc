package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"

	"wardmail/directory"
	"wardmail/lists"
	"wardmail/privilege"
	"wardmail/store"
)

const listUsage = `usage:
  wardmail list create --data DIR --address ADDR --name NAME --owner EMAIL[,EMAIL] (--members A,B,... | --rule RULE --scope org:ORG|set:ORG|ORG|national)
  wardmail list show --data DIR ADDR [--json]
  wardmail list members --data DIR ADDR
  wardmail list add|remove --data DIR ADDR EMAIL|LIST...
  wardmail list set-rule --data DIR ADDR --rule RULE --scope SCOPE
  wardmail list set-policy --data DIR ADDR --post members|org|senders|announce|moderated [--senders A,B,...] [--by ADMIN_EMAIL]
  wardmail list approve --data DIR ADDR --by ADMIN_EMAIL
  wardmail list held --data DIR [ADDR]
  wardmail list moderate --data DIR HELD_ID approve|reject [--reason TEXT] [--by EMAIL]
  wardmail list list --data DIR
  wardmail list delete --data DIR ADDR`

func runList(args []string) error {
	if len(args) == 0 {
		return errors.New(listUsage)
	}
	ctx := context.Background()
	verb := args[0]
	fs := flag.NewFlagSet("list "+verb, flag.ExitOnError)
	data := storeFlags(fs, "")
	var (
		address  = fs.String("address", "", "the list's address")
		name     = fs.String("name", "", "the list's display name")
		owner    = fs.String("owner", "", "owners' addresses, comma-separated")
		members  = fs.String("members", "", "members' addresses (people or lists), comma-separated")
		rule     = fs.String("rule", "", `dynamic rule, e.g. role = "Nurse" and site = "LGI"`)
		scope    = fs.String("scope", "", "org:NAME, set:NAME|NAME or national")
		post     = fs.String("post", "", "posting policy")
		senders  = fs.String("senders", "", "named senders, comma-separated")
		by       = fs.String("by", "", "the administrator acting")
		reason   = fs.String("reason", "", "why (sent to the sender)")
		asJSON   = fs.Bool("json", false, "print JSON")
		gov      = lists.DefaultGovernance()
		operator = "cli:" + osUser()
	)
	rest := parseMixed(fs, args[1:])
	st, err := openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer st.Close()
	listArg := func() (*store.List, error) {
		if len(rest) == 0 {
			return nil, fmt.Errorf("name the list's address\n%s", listUsage)
		}
		l, err := st.ListByAddress(ctx, rest[0])
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("there is no list %s", rest[0])
		}
		return l, err
	}
	actor := operator
	var admin *store.Person
	if *by != "" {
		if admin, err = st.PersonByEmail(ctx, *by); err != nil {
			return fmt.Errorf("--by %s: %w", *by, err)
		}
		actor = admin.Email
	}

	switch verb {
	case "create":
		spec := store.ListSpec{Address: *address, Name: *name, PostPolicy: *post}
		if spec.Name == "" {
			spec.Name = *address
		}
		if spec.Name, err = directory.CheckText(directory.FieldListName, spec.Name); err != nil {
			return fmt.Errorf("--name: %w", err)
		}
		if spec.Owners, err = peopleIDs(ctx, st, *owner); err != nil {
			return fmt.Errorf("--owner: %w", err)
		}
		switch {
		case *rule != "" && *members != "":
			return errors.New("a list has --members or a --rule, not both (nest a static list in it instead)")
		case *rule != "":
			spec.Kind, spec.Rule, spec.Scope = store.ListDynamic, *rule, *scope
		default:
			spec.Kind = store.ListStatic
			if spec.Members, spec.Sublists, err = membersOf(ctx, st, splitList(*members)); err != nil {
				return fmt.Errorf("--members: %w", err)
			}
		}
		if admin != nil {
			spec.CreatedBy = admin.ID
		}
		l, err := st.CreateList(ctx, actor, spec)
		if err != nil {
			return err
		}
		fmt.Printf("created %s (%s): %d members\n", l.Address, l.Kind, l.Size)
		if l.Size > gov.SendersOnlyAbove && l.PolicySetBy == 0 {
			fmt.Printf("note: over %d members, only named senders may post until an administrator sets a policy (list set-policy)\n", gov.SendersOnlyAbove)
		}
		if l.Size > gov.ApprovalAbove {
			fmt.Printf("note: over %d members, %d administrators must approve it (list approve) before anyone may post\n", gov.ApprovalAbove, gov.Approvals)
		}
		return nil
	case "show":
		l, err := listArg()
		if err != nil {
			return err
		}
		return printList(l, gov, *asJSON)
	case "list":
		all, err := st.Lists(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ADDRESS\tKIND\tSIZE\tAPPROVED\tPOLICY\tSUSPENDED")
		for _, l := range all {
			fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%s\t%v\n", l.Address, l.Kind, l.Size, l.ApprovedSize, gov.EffectivePolicy(facts(&l)), l.Suspended)
		}
		return w.Flush()
	case "members":
		l, err := listArg()
		if err != nil {
			return err
		}
		after := ""
		for {
			people, err := st.ListMembers(ctx, l.ID, after, 1000)
			if err != nil {
				return err
			}
			for _, p := range people {
				fmt.Printf("%s\t%s\t%s\n", p.Email, p.Name, p.Org)
			}
			if len(people) < 1000 {
				return nil
			}
			after = people[len(people)-1].Email
		}
	case "add", "remove":
		l, err := listArg()
		if err != nil {
			return err
		}
		people, subs, err := membersOf(ctx, st, rest[1:])
		if err != nil {
			return err
		}
		if verb == "add" {
			err = st.AddListMembers(ctx, actor, l.ID, people, subs)
		} else {
			err = st.RemoveListMembers(ctx, actor, l.ID, people, subs)
		}
		if err != nil {
			return err
		}
		if l, err = st.ListByID(ctx, l.ID); err != nil {
			return err
		}
		fmt.Printf("%s now has %d members\n", l.Address, l.Size)
		return nil
	case "set-rule":
		l, err := listArg()
		if err != nil {
			return err
		}
		if err := st.SetListRule(ctx, actor, l.ID, *rule, *scope); err != nil {
			return err
		}
		l, _ = st.ListByID(ctx, l.ID)
		fmt.Printf("%s now has %d members\n", l.Address, l.Size)
		return nil
	case "set-policy":
		l, err := listArg()
		if err != nil {
			return err
		}
		var named []int64
		if *senders != "" {
			if named, err = peopleIDs(ctx, st, *senders); err != nil {
				return fmt.Errorf("--senders: %w", err)
			}
		}
		// The operator at the server's command line acts as a national
		// administrator; --by names the administrator in the audit trail.
		decidedBy := int64(-1)
		if admin != nil {
			if err := mayAs(ctx, st, admin, privilege.OpenLargeList); err != nil {
				return err
			}
			decidedBy = admin.ID
		}
		if err := st.SetPostPolicy(ctx, actor, l.ID, *post, named, decidedBy); err != nil {
			return err
		}
		fmt.Printf("%s: posting policy %s\n", l.Address, *post)
		return nil
	case "approve":
		l, err := listArg()
		if err != nil {
			return err
		}
		if admin == nil {
			return errors.New("--by ADMIN_EMAIL is required: approvals are an administrator's, by name")
		}
		if err := mayAs(ctx, st, admin, privilege.ApproveList); err != nil {
			return fmt.Errorf("%w (wardmail admin grant)", err)
		}
		needed := 1
		if l.Size > gov.ApprovalAbove {
			needed = gov.Approvals
		}
		if l, err = st.ApproveList(ctx, actor, l.ID, admin.ID, needed); err != nil {
			return err
		}
		if l.ApprovedSize > 0 && len(l.Approvals) >= needed {
			fmt.Printf("%s approved at %d members (%d of %d approvals)\n", l.Address, l.ApprovedSize, len(l.Approvals), needed)
		} else {
			fmt.Printf("%s: %d of %d approvals; one more administrator must approve\n", l.Address, len(l.Approvals), needed)
		}
		return nil
	case "held":
		var id int64
		if len(rest) > 0 {
			l, err := listArg()
			if err != nil {
				return err
			}
			id = l.ID
		}
		held, err := st.HeldPosts(ctx, id)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tLIST\tSENDER\tSUBJECT\tHELD\tEXPIRES")
		for _, h := range held {
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", h.ID, h.List, h.Sender, h.Subject, h.At.Format("2006-01-02 15:04"), h.Expires.Format("2006-01-02 15:04"))
		}
		return w.Flush()
	case "moderate":
		if len(rest) != 2 || (rest[1] != "approve" && rest[1] != "reject") {
			return errors.New("usage: wardmail list moderate --data DIR HELD_ID approve|reject [--reason TEXT]")
		}
		var id int64
		if _, err := fmt.Sscan(rest[0], &id); err != nil {
			return fmt.Errorf("%q is not a held post's id", rest[0])
		}
		var byID int64
		if admin != nil {
			if err := mayModerate(ctx, st, admin, id); err != nil {
				return err
			}
			byID = admin.ID
		}
		h, err := st.DecideHeld(ctx, actor, id, rest[1] == "approve", *reason, byID)
		if err != nil {
			return err
		}
		notifyHeld(ctx, st, h)
		fmt.Printf("post %d to %s: %s\n", h.ID, h.List, h.State)
		return nil
	case "delete":
		l, err := listArg()
		if err != nil {
			return err
		}
		if err := st.DeleteList(ctx, actor, l.ID); err != nil {
			return err
		}
		fmt.Printf("deleted %s\n", l.Address)
		return nil
	}
	return fmt.Errorf("unknown list command %q\n%s", verb, listUsage)
}

func facts(l *store.List) lists.ListFacts {
	return lists.ListFacts{Address: l.Address, Size: l.Size, ApprovedSize: l.ApprovedSize, Policy: l.PostPolicy,
		PolicyByAdm: l.PolicySetBy != 0, Suspended: l.Suspended}
}

func printList(l *store.List, gov lists.Governance, asJSON bool) error {
	eff := gov.EffectivePolicy(facts(l))
	if asJSON {
		out := struct {
			*store.List
			EffectivePolicy string `json:"effective_policy"`
		}{l, eff}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Printf("address:        %s\nname:           %s\nkind:           %s\n", l.Address, directory.ShowText(l.Name), l.Kind)
	if l.Kind == store.ListDynamic {
		fmt.Printf("rule:           %s\nscope:          %s\n", l.Rule, l.Scope)
	}
	fmt.Printf("size:           %d\napproved size:  %d\n", l.Size, l.ApprovedSize)
	fmt.Printf("policy:         %s (effective: %s)\nsuspended:      %v\n", l.PostPolicy, eff, l.Suspended)
	fmt.Printf("owners:         %s\n", strings.Join(l.Owners, ", "))
	if len(l.Senders) > 0 {
		fmt.Printf("named senders:  %s\n", strings.Join(l.Senders, ", "))
	}
	for _, a := range l.Approvals {
		fmt.Printf("approved by:    %s at %d members, %s\n", a.Admin, a.Size, a.At.Format("2006-01-02 15:04"))
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func peopleIDs(ctx context.Context, st *store.Store, csv string) ([]int64, error) {
	ids, unknown, err := st.PersonIDs(ctx, splitList(csv))
	if err != nil {
		return nil, err
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("nobody in the directory has the address %s", strings.Join(unknown, ", "))
	}
	return ids, nil
}

// membersOf resolves addresses to people and lists.
func membersOf(ctx context.Context, st *store.Store, addrs []string) (people, subs []int64, err error) {
	for _, a := range addrs {
		if p, err := st.PersonByEmail(ctx, a); err == nil {
			people = append(people, p.ID)
			continue
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, nil, err
		}
		l, err := st.ListByAddress(ctx, a)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil, fmt.Errorf("%s is neither a person nor a list", a)
		} else if err != nil {
			return nil, nil, err
		}
		subs = append(subs, l.ID)
	}
	return people, subs, nil
}

func osUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "unknown"
}
