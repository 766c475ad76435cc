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
	"wardmail/listsvc"
	"wardmail/privilege"
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
		operator = "cli:" + osUser()
	)
	rest := parseMixed(fs, args[1:])
	st, err := openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := listService(st)
	gov := svc.Governance()
	listArg := func() (*listsvc.List, error) {
		if len(rest) == 0 {
			return nil, fmt.Errorf("name the list's address\n%s", listUsage)
		}
		l, err := svc.Find(ctx, rest[0])
		var le *listsvc.Error
		if errors.As(err, &le) && le.Kind == listsvc.NotFound {
			return nil, fmt.Errorf("there is no list %s", rest[0])
		}
		return l, err
	}
	actor := operator
	var admin *directory.Person
	if *by != "" {
		if admin, err = directory.NewService(st).Person(ctx, *by); err != nil {
			return fmt.Errorf("--by %s: %w", *by, err)
		}
		actor = admin.Email
	}

	switch verb {
	case "create":
		req := listsvc.NewList{Address: *address, Name: *name, Policy: *post, Owners: splitList(*owner), Members: splitList(*members),
			Rule: *rule, Scope: *scope}
		if req.Name == "" {
			req.Name = *address
		}
		var creator int64
		if admin != nil {
			creator = admin.ID
		}
		l, err := svc.Create(ctx, nil, actor, creator, req)
		if err != nil {
			return flagError(err)
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
		return printList(svc.View(l), *asJSON)
	case "list":
		all, err := svc.All(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ADDRESS\tKIND\tSIZE\tAPPROVED\tPOLICY\tSUSPENDED")
		for i := range all {
			v := svc.View(&all[i])
			fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%s\t%v\n", v.Address, v.Kind, v.Size, v.ApprovedSize, v.EffectivePolicy, v.Suspended)
		}
		return w.Flush()
	case "members":
		l, err := listArg()
		if err != nil {
			return err
		}
		after := ""
		for {
			people, err := svc.Members(ctx, l.ID, after, 1000)
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
		if err := svc.ChangeMembers(ctx, actor, l, rest[1:], verb == "remove"); err != nil {
			return err
		}
		if l, err = svc.ByID(ctx, l.ID); err != nil {
			return err
		}
		fmt.Printf("%s now has %d members\n", l.Address, l.Size)
		return nil
	case "set-rule":
		l, err := listArg()
		if err != nil {
			return err
		}
		if err := svc.SetRule(ctx, nil, actor, l, *rule, *scope); err != nil {
			return err
		}
		if l, err = svc.ByID(ctx, l.ID); err != nil {
			return err
		}
		fmt.Printf("%s now has %d members\n", l.Address, l.Size)
		return nil
	case "set-policy":
		l, err := listArg()
		if err != nil {
			return err
		}
		var named []string
		if *senders != "" {
			named = splitList(*senders)
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
		if err := svc.SetPolicy(ctx, nil, actor, decidedBy, l, *post, named); err != nil {
			return flagError(err)
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
		l, needed, err := svc.Approve(ctx, actor, l, admin.ID)
		if err != nil {
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
		held, err := svc.Held(ctx, id)
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
			_, l, err := svc.HeldPost(ctx, id)
			if err != nil {
				return err
			}
			pr, err := adminService(st).Actor(ctx, admin)
			if err != nil {
				return err
			}
			if err := svc.MayModerate(ctx, pr, l, false); err != nil {
				return err
			}
			byID = admin.ID
		}
		h, err := svc.Decide(ctx, actor, id, rest[1] == "approve", *reason, byID)
		if err != nil {
			return err
		}
		fmt.Printf("post %d to %s: %s\n", h.ID, h.List, h.State)
		return nil
	case "delete":
		l, err := listArg()
		if err != nil {
			return err
		}
		if err := svc.Delete(ctx, actor, l); err != nil {
			return err
		}
		fmt.Printf("deleted %s\n", l.Address)
		return nil
	}
	return fmt.Errorf("unknown list command %q\n%s", verb, listUsage)
}

// flagError names the flag at fault in a refusal of the lists service.
func flagError(err error) error {
	var le *listsvc.Error
	if !errors.As(err, &le) || le.Field == "" {
		return err
	}
	flag := map[string]string{"owners": "owner"}[le.Field]
	if flag == "" {
		flag = le.Field
	}
	return fmt.Errorf("--%s: %w", flag, err)
}

func printList(v listsvc.View, asJSON bool) error {
	l := v.List
	if asJSON {
		// The API's view of the list (GET /api/v1/admin/lists/{list}).
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	fmt.Printf("address:        %s\nname:           %s\nkind:           %s\n", l.Address, directory.ShowText(l.Name), l.Kind)
	if l.Kind == listsvc.Dynamic {
		fmt.Printf("rule:           %s\nscope:          %s\n", l.Rule, l.Scope)
	}
	fmt.Printf("size:           %d\napproved size:  %d\n", l.Size, l.ApprovedSize)
	fmt.Printf("policy:         %s (effective: %s)\nsuspended:      %v\n", l.PostPolicy, v.EffectivePolicy, l.Suspended)
	if v.Drifted {
		fmt.Printf("drifted:        grown past its approved size\n")
	}
	if v.ApprovalsMissing > 0 {
		fmt.Printf("approvals:      %d more needed (of %d)\n", v.ApprovalsMissing, v.NeedsApprovals)
	}
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

func osUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "unknown"
}
