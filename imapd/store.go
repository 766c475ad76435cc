package imapd

import (
	"strings"

	"wardmail/imapd/wire"
	"wardmail/mail"
)

// cmdStore changes flags (RFC 9051 6.4.6) with UNCHANGEDSINCE (RFC 7162
// 3.1.3).
func cmdStore(c *conn, cmd *wire.Command) error {
	args := cmd.Args
	if len(args) < 3 || args[0].Kind != wire.Atom {
		return bad("STORE takes a sequence set, an item and flags.")
	}
	set, err := parseNumSet(args[0].S)
	if err != nil {
		return err
	}
	args = args[1:]
	unchangedSince, conditional := uint64(0), false
	if args[0].Kind == wire.List {
		m := args[0].List
		if len(m) != 2 || !m[0].IsAtom("UNCHANGEDSINCE") {
			return bad("Unknown STORE modifier.")
		}
		n, err := parseNumber(m[1], 63)
		if err != nil {
			return bad("Invalid UNCHANGEDSINCE value.")
		}
		unchangedSince, conditional = n, true
		args = args[1:]
		c.enableCondstore()
	}
	if len(args) < 2 || args[0].Kind != wire.Atom {
		return bad("STORE takes an item and flags.")
	}
	item := strings.ToUpper(args[0].S)
	silent := strings.HasSuffix(item, ".SILENT")
	item = strings.TrimSuffix(item, ".SILENT")
	var op mail.FlagOp
	switch item {
	case "FLAGS":
		op = mail.FlagsReplace
	case "+FLAGS":
		op = mail.FlagsAdd
	case "-FLAGS":
		op = mail.FlagsRemove
	default:
		return bad("Unknown STORE item %q.", args[0].S)
	}
	flagArgs := args[1:]
	if len(flagArgs) == 1 && flagArgs[0].Kind == wire.List {
		flagArgs = flagArgs[0].List
	}
	flags, err := parseFlags(flagArgs)
	if err != nil {
		return err
	}
	if c.sel.readOnly {
		return no("CANNOT", "The mailbox is open read-only (EXAMINE).")
	}
	if err := c.sync(false); err != nil {
		return err
	}
	s := c.sel
	idx, err := s.indices(set, cmd.UID)
	if err != nil {
		return err
	}
	uids := make([]uint32, 0, len(idx))
	for _, i := range idx {
		if !s.expunged[s.msgs[i].uid] {
			uids = append(uids, s.msgs[i].uid)
		}
	}
	var updated []mail.MessageRef
	var failed []uint32
	switch {
	case len(uids) == 0:
	case conditional && unchangedSince == 0:
		failed = uids // every message's MODSEQ is above 0 (RFC 7162 3.1.3)
	default:
		if updated, failed, err = c.srv.cfg.Mail.SetFlags(c.ctx, s.mb.ID, uids, op, flags, unchangedSince); err != nil {
			return err
		}
	}
	changed := make(map[uint32]bool, len(updated))
	for _, ref := range updated {
		c.announceKeywords(ref.Flags)
		s.setFlags(ref)
		changed[ref.UID] = true
	}
	isFailed := make(map[uint32]bool, len(failed))
	for _, uid := range failed {
		isFailed[uid] = true
	}
	for _, uid := range uids {
		if isFailed[uid] {
			continue
		}
		i := s.index(uid)
		switch {
		case !silent:
			c.writeFlagsFetch(i, false)
		case changed[uid] && s.condstore:
			c.writeFlagsFetch(i, true)
		}
	}
	if len(failed) > 0 {
		nums := failed
		if !cmd.UID {
			nums = make([]uint32, len(failed))
			for k, uid := range failed {
				nums[k] = uint32(s.index(uid) + 1)
			}
		}
		c.okText = "[MODIFIED " + formatSet(nums) + "] Conditional STORE failed for some messages."
	}
	return nil
}

// parseFlags validates flag arguments and returns system flags in their
// canonical case.
func parseFlags(args []wire.Arg) ([]string, error) {
	if len(args) > mail.MaxFlags {
		return nil, bad("Too many flags.")
	}
	out := make([]string, 0, len(args))
	for _, a := range args {
		if a.Kind != wire.Atom || a.S == "" {
			return nil, bad("Flags must be atoms.")
		}
		f, ok := mail.CanonicalFlag(a.S)
		switch {
		case !ok:
			return nil, bad("Unknown system flag %q.", a.S)
		case f == "": // \Recent: not settable, ignored
			continue
		case !strings.HasPrefix(f, `\`) && !mail.ValidKeyword(f):
			return nil, bad("Invalid keyword %q.", f)
		}
		out = append(out, f)
	}
	return out, nil
}
