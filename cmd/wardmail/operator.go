package main

import (
	"context"
	"fmt"
	"os"

	"wardmail/admin"
	"wardmail/auth"
	"wardmail/directory"
	"wardmail/lists"
	"wardmail/listsvc"
	"wardmail/privilege"
	"wardmail/store"
	"wardmail/submit"
)

// The command line asks the privilege model like every other door. Whoever
// runs it on the server holds the data folder already, so it acts as the
// operator (national rights) unless --by names the administrator whose
// decision it records (list approvals, policies, moderation): then that
// person's rights decide.

// operatorPrincipal is the command line's principal, named for the audit
// trail.
func operatorPrincipal() privilege.Principal { return privilege.Operator("cli:" + osUser()) }

// mayAs asks whether the administrator named by --by may take an action.
func mayAs(ctx context.Context, st *store.Store, admin *directory.Person, action privilege.Action) error {
	pr, err := adminService(st).Actor(ctx, admin)
	if err != nil {
		return err
	}
	if err := pr.May(action); err != nil {
		return fmt.Errorf("%s: %w", admin.Email, err)
	}
	return nil
}

// adminService is the administration service over a store opened by the
// command line: passwords hashed here with the default parameters, lockout
// state changed in the store (a running server picks it up within a
// second).
func adminService(st *store.Store) *admin.Service {
	return admin.New(admin.Config{Store: st, Hasher: cliHasher{}, CheckPassword: auth.CheckPasswordPolicy})
}

// listService is the lists service over a store opened by the command
// line, with the default governance; senders of held posts are told by a
// pipeline made for the purpose.
func listService(st *store.Store) *listsvc.Service {
	host, _ := os.Hostname()
	return listsvc.New(listsvc.Config{Store: st, Governance: lists.DefaultGovernance(),
		Notify: submit.New(submit.Config{Store: st, Hostname: host})})
}

// cliHasher hashes a new password at the command line.
type cliHasher struct{}

func (cliHasher) Hash(_ context.Context, pw string) (string, error) {
	return auth.HashPassword(auth.DefaultParams(), pw)
}
