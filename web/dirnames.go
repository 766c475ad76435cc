package web

import (
	"context"
	"strings"
)

// nameFromDirectory gives each address without a display name the name the
// directory holds for it, in place: mail from a program or a client that
// writes a bare address (From: amira.khan@nhs.test) then reads as "Amira
// Khan" in the list and the reader, as mail from the webmail does. A name
// the message carries is kept. A failed lookup leaves the addresses as
// they are (the names are a convenience, not worth failing the page for).
func (a *API) nameFromDirectory(ctx context.Context, lists ...[]address) {
	var bare []string
	for _, l := range lists {
		for _, ad := range l {
			if ad.Name == "" {
				bare = append(bare, ad.Email)
			}
		}
	}
	if len(bare) == 0 {
		return
	}
	names, err := a.dir.Names(ctx, bare)
	if err != nil {
		a.log.Warn("directory names", "err", err)
		return
	}
	for _, l := range lists {
		for i := range l {
			if l[i].Name == "" {
				l[i].Name = names[strings.ToLower(l[i].Email)]
			}
		}
	}
}

// itemAddresses lists the From and To of each row, for nameFromDirectory.
func itemAddresses(items []listItem) [][]address {
	out := make([][]address, 0, 2*len(items))
	for i := range items {
		out = append(out, items[i].From, items[i].To)
	}
	return out
}
