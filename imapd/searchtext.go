package imapd

// narrowText asks the word index, for each BODY and TEXT key of the tree,
// which messages of the mailbox may hold its string (mail.TextCandidates,
// the engine the webmail's search uses), and gives the
// key that set: a message outside it is ruled out for BODY without reading
// it, and for TEXT once its header is checked (the index holds only the
// subject and addresses of a header). The set includes the messages whose
// bodies the indexer has not reached yet or indexed only in part; every
// message in it is still checked for the substring, so the answer is the
// one a scan gives (RFC 9051 6.4.4). A string the index cannot serve (a
// short word, punctuation) leaves its key without a set: every message is
// read. seen shares the sets of keys with the same string.
func (c *conn) narrowText(k *searchKey, seen map[string]map[uint32]bool) error {
	if c.srv.scanText.Load() {
		return nil
	}
	for _, kid := range k.kids {
		if err := c.narrowText(kid, seen); err != nil {
			return err
		}
	}
	if k.op != "BODY" && k.op != "TEXT" || k.value == "" {
		return nil
	}
	if set, ok := seen[k.value]; ok {
		k.index = set
		return nil
	}
	set, ok, err := c.srv.cfg.Mail.TextCandidates(c.ctx, c.sel.mb.ID, k.value)
	if err != nil || !ok {
		seen[k.value] = nil
		return err
	}
	k.index = set
	seen[k.value] = set
	return nil
}

// required is the set of UIDs outside which the tree cannot match: the
// index sets of the BODY keys it must satisfy (reached through AND only),
// intersected; nil when there is none. The search reads no row for a
// message outside it.
func (k *searchKey) required() map[uint32]bool {
	switch k.op {
	case "BODY":
		return k.index
	case "AND":
		var out map[uint32]bool
		for _, kid := range k.kids {
			set := kid.required()
			if set == nil {
				continue
			}
			if out == nil {
				out = set
				continue
			}
			both := map[uint32]bool{}
			for u := range set {
				if out[u] {
					both[u] = true
				}
			}
			out = both
		}
		return out
	}
	return nil
}
