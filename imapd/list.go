package imapd

import (
	"slices"
	"strings"

	"wardmail/imapd/wire"
	"wardmail/mail"
)

// listOptions are LIST's selection and return options (RFC 5258 3, RFC 6154
// 5.1, RFC 5819).
type listOptions struct {
	subscribed   bool // selection SUBSCRIBED
	specialOnly  bool // selection SPECIAL-USE
	recursive    bool // RECURSIVEMATCH
	retSubscribe bool // RETURN (SUBSCRIBED)
	status       []string
}

// cmdList lists mailboxes (RFC 9051 6.3.9, RFC 5258 LIST-EXTENDED, RFC 5819
// LIST-STATUS, RFC 6154 SPECIAL-USE).
func cmdList(c *conn, cmd *wire.Command) error {
	args := cmd.Args
	var opt listOptions
	if len(args) > 0 && args[0].Kind == wire.List {
		for _, o := range args[0].List {
			switch {
			case o.IsAtom("SUBSCRIBED"):
				opt.subscribed = true
			case o.IsAtom("SPECIAL-USE"):
				opt.specialOnly = true
			case o.IsAtom("RECURSIVEMATCH"):
				opt.recursive = true
			case o.IsAtom("REMOTE"):
			default:
				return bad("Unknown LIST selection option.")
			}
		}
		if opt.recursive && !opt.subscribed && !opt.specialOnly {
			return bad("RECURSIVEMATCH needs another selection option.")
		}
		args = args[1:]
	}
	if len(args) != 2 && len(args) != 4 {
		return bad("LIST takes a reference and a mailbox pattern.")
	}
	if len(args) == 4 {
		if !args[2].IsAtom("RETURN") || args[3].Kind != wire.List {
			return bad("Expected RETURN (options).")
		}
		ret := args[3].List
		for i := 0; i < len(ret); i++ {
			switch {
			case ret[i].IsAtom("SUBSCRIBED"):
				opt.retSubscribe = true
			case ret[i].IsAtom("CHILDREN"), ret[i].IsAtom("SPECIAL-USE"):
				// Always returned.
			case ret[i].IsAtom("STATUS"):
				if i+1 >= len(ret) || ret[i+1].Kind != wire.List {
					return bad("STATUS needs a list of items.")
				}
				i++
				items, err := statusItems(ret[i].List)
				if err != nil {
					return err
				}
				opt.status = items
			default:
				return bad("Unknown LIST return option.")
			}
		}
	}
	ref, ok := args[0].AString()
	if !ok {
		return bad("Invalid reference name.")
	}
	var patterns []string
	if args[1].Kind == wire.List {
		for _, p := range args[1].List {
			s, ok := p.AString()
			if !ok {
				return bad("Invalid mailbox pattern.")
			}
			patterns = append(patterns, s)
		}
	} else {
		s, ok := args[1].AString()
		if !ok {
			return bad("Invalid mailbox pattern.")
		}
		patterns = []string{s}
	}
	if len(patterns) == 1 && patterns[0] == "" && !opt.subscribed && !opt.specialOnly {
		// The hierarchy delimiter and root (RFC 9051 6.3.9).
		c.w.Raw(`* LIST (\Noselect) "/" ""`).CRLF()
		return nil
	}
	return c.list(ref, patterns, opt, "LIST")
}

// cmdLsub lists subscribed mailboxes (RFC 3501 6.3.9; deprecated by RFC 9051
// but still used by IMAP4rev1 clients).
func cmdLsub(c *conn, cmd *wire.Command) error {
	if len(cmd.Args) != 2 {
		return bad("LSUB takes a reference and a mailbox pattern.")
	}
	ref, ok1 := cmd.Args[0].AString()
	pat, ok2 := cmd.Args[1].AString()
	if !ok1 || !ok2 {
		return bad("LSUB takes a reference and a mailbox pattern.")
	}
	return c.list(ref, []string{pat}, listOptions{subscribed: true}, "LSUB")
}

// listEntry is one name a LIST or LSUB answer shows.
type listEntry struct {
	name       string
	mb         *mail.Mailbox // nil: no such mailbox
	subscribed bool
	childInfo  bool // RECURSIVEMATCH: a subscribed child not matched itself (RFC 5258 3.5)
	noselect   bool // LSUB: a level above a subscribed name (RFC 3501 6.3.9)
}

func (c *conn) list(ref string, patterns []string, opt listOptions, resp string) error {
	mbs, err := c.srv.cfg.Mail.Mailboxes(c.ctx, c.person.ID)
	if err != nil {
		return err
	}
	byName := make(map[string]*mail.Mailbox, len(mbs))
	for i := range mbs {
		if mbs[i].PersonID == c.person.ID {
			byName[mbs[i].Name] = &mbs[i]
		}
	}
	var pats []string
	for _, p := range patterns {
		full := ref + p
		if d, ok := decodeMUTF7(full); ok && !c.utf8Names() {
			full = d
		}
		if len(full) >= 5 && strings.EqualFold(full[:5], "INBOX") && (len(full) == 5 || full[5:6] == mail.Delimiter) {
			full = "INBOX" + full[5:]
		}
		pats = append(pats, full)
	}
	matches := func(name string) bool {
		for _, p := range pats {
			if matchPattern(p, name) {
				return true
			}
		}
		return false
	}
	var subs []string
	if opt.subscribed || opt.retSubscribe {
		if subs, err = c.srv.cfg.Mail.Subscriptions(c.ctx, c.person.ID); err != nil {
			return err
		}
	}
	subscribed := make(map[string]bool, len(subs))
	for _, n := range subs {
		subscribed[n] = true
	}

	entries := map[string]*listEntry{}
	if opt.subscribed {
		// Subscriptions are names: they are listed whether or not the
		// mailbox exists (RFC 5258 3, \NonExistent).
		for _, n := range subs {
			if matches(n) {
				entries[n] = &listEntry{name: n, mb: byName[n], subscribed: true}
			}
		}
		for _, n := range subs {
			for _, parent := range ancestors(n) {
				if !matches(parent) {
					continue
				}
				switch {
				case opt.recursive && !matches(n):
					// RFC 5258 3.5: a matched name with a subscribed
					// descendant that the patterns do not show.
					e := entries[parent]
					if e == nil {
						e = &listEntry{name: parent, mb: byName[parent]}
						entries[parent] = e
					}
					e.childInfo = true
				case resp == "LSUB" && !matches(n) && !subscribed[parent] && entries[parent] == nil:
					// RFC 3501 6.3.9: a level above a subscribed name
					// the pattern stops short of ("%") is shown
					// \Noselect.
					entries[parent] = &listEntry{name: parent, noselect: true}
				}
			}
		}
	} else {
		for n, mb := range byName {
			if matches(n) {
				entries[n] = &listEntry{name: n, mb: mb, subscribed: subscribed[n]}
			}
		}
	}
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		e := entries[n]
		if opt.specialOnly && (e.mb == nil || e.mb.SpecialUse == "") {
			continue
		}
		var attrs []string
		switch {
		case resp == "LSUB":
			if e.noselect || e.mb == nil {
				attrs = append(attrs, `\Noselect`)
			}
		case e.mb == nil:
			attrs = append(attrs, `\NonExistent`)
			if hasChild(mbs, n) {
				attrs = append(attrs, `\HasChildren`)
			}
		default:
			if hasChild(mbs, n) {
				attrs = append(attrs, `\HasChildren`)
			} else {
				attrs = append(attrs, `\HasNoChildren`)
			}
			if e.mb.SpecialUse != "" {
				attrs = append(attrs, e.mb.SpecialUse)
			}
		}
		if resp == "LIST" && e.subscribed {
			attrs = append(attrs, `\Subscribed`)
		}
		c.w.Raw("* ").Raw(resp).Raw(" (").Raw(strings.Join(attrs, " ")).Raw(`) "/" `)
		c.writeMailbox(n)
		if e.childInfo {
			c.w.Raw(` ("CHILDINFO" ("SUBSCRIBED"))`)
		}
		c.w.CRLF()
		if opt.status != nil && e.mb != nil {
			if err := c.writeStatus(e.mb, opt.status); err != nil {
				return err
			}
		}
	}
	return nil
}

// ancestors returns the levels above a name: "a/b/c" gives "a" and "a/b".
func ancestors(name string) []string {
	var out []string
	for i := 0; i < len(name); i++ {
		if name[i] == mail.Delimiter[0] {
			out = append(out, name[:i])
		}
	}
	return out
}

func hasChild(mbs []mail.Mailbox, name string) bool {
	prefix := name + mail.Delimiter
	for i := range mbs {
		if strings.HasPrefix(mbs[i].Name, prefix) {
			return true
		}
	}
	return false
}

// matchPattern matches a LIST pattern: "*" matches anything, "%" anything
// but the delimiter (RFC 9051 6.3.9). It runs in O(len(p)*len(name)).
func matchPattern(p, name string) bool {
	// prev[j]: p[:i] matches name[:j].
	prev := make([]bool, len(name)+1)
	cur := make([]bool, len(name)+1)
	prev[0] = true
	for i := 0; i < len(p); i++ {
		pc := p[i]
		cur[0] = prev[0] && (pc == '*' || pc == '%')
		for j := 1; j <= len(name); j++ {
			nc := name[j-1]
			switch pc {
			case '*':
				cur[j] = prev[j] || cur[j-1]
			case '%':
				cur[j] = prev[j] || (cur[j-1] && nc != '/')
			default:
				cur[j] = prev[j-1] && pc == nc
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(name)]
}
