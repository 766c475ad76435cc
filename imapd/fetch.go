package imapd

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"wardmail/imapd/wire"
	"wardmail/mail"
	"wardmail/message"
)

// cmdFetch serves FETCH and UID FETCH (RFC 9051 6.4.5, 6.4.9), with
// CHANGEDSINCE and VANISHED (RFC 7162 3.1.4, 3.2.6) and BINARY (RFC 3516).
func cmdFetch(c *conn, cmd *wire.Command) error {
	if len(cmd.Args) < 2 || len(cmd.Args) > 3 || cmd.Args[0].Kind != wire.Atom {
		return bad("FETCH takes a sequence set, items and optional modifiers.")
	}
	set, err := parseNumSet(cmd.Args[0].S)
	if err != nil {
		return err
	}
	items, err := parseFetchItems(cmd.Args[1])
	if err != nil {
		return err
	}
	var opt fetchOptions
	if len(cmd.Args) == 3 {
		if opt, err = parseFetchOptions(cmd.Args[2]); err != nil {
			return err
		}
		if opt.vanished && (!cmd.UID || !c.qresync) {
			return bad("VANISHED needs UID FETCH and QRESYNC enabled.")
		}
	}
	for _, it := range items {
		if it.kind == itemModSeq {
			c.enableCondstore()
		}
	}
	if opt.changedSince > 0 {
		c.enableCondstore()
		items = append(items, fetchItem{kind: itemModSeq})
	}
	// Take in changes first, so the answer reflects the mailbox as it is.
	if err := c.sync(false); err != nil {
		return err
	}
	s := c.sel
	idx, err := s.indices(set, cmd.UID)
	if err != nil {
		return err
	}
	if opt.vanished {
		c.writeVanishedEarlier(set, opt.changedSince)
	}
	if opt.changedSince > 0 {
		kept := idx[:0]
		for _, i := range idx {
			if s.msgs[i].modseq > opt.changedSince {
				kept = append(kept, i)
			}
		}
		idx = kept
	}
	if len(idx) == 0 {
		return nil
	}
	return c.fetch(idx, items, cmd.UID)
}

// writeVanishedEarlier reports UIDs in the set removed since modseq
// (RFC 7162 3.2.6).
func (c *conn) writeVanishedEarlier(set numSet, since uint64) {
	_, vanished, _, err := c.srv.cfg.Mail.Changes(c.ctx, c.sel.mb.ID, since)
	if err != nil {
		c.log.Warn("reading vanished UIDs", "err", err)
		return
	}
	star := c.sel.maxUID()
	if set.isSaved() {
		set = uidSet(c.sel.saved)
	}
	var out []uint32
	for _, uid := range vanished {
		if c.sel.index(uid) < 0 && set.contains(uid, star) {
			out = append(out, uid)
		}
	}
	if len(out) > 0 {
		c.w.Raw("* VANISHED (EARLIER) ").Raw(formatSet(out)).CRLF()
	}
}

// fetch writes the FETCH responses for the messages at idx.
func (c *conn) fetch(idx []int, items []fetchItem, uidCmd bool) error {
	s := c.sel
	needRows, needBody, setSeen := false, false, false
	needSum, envOnly := false, true // envOnly: the summary is read for ENVELOPE alone
	for _, it := range items {
		needRows = needRows || it.needsRow()
		needBody = needBody || it.needsBody()
		setSeen = setSeen || (it.needsBody() && !it.peek)
		switch it.kind {
		case itemEnvelope:
			needSum = true
		case itemBody, itemBodyStructure, itemSection, itemBinary, itemBinarySize, itemPreview:
			needSum, envOnly = true, false
		}
	}
	flagsChanged := map[int]bool{}
	if setSeen && !s.readOnly {
		var unseen []uint32
		for _, i := range idx {
			if !hasFlag(s.msgs[i].flags, mail.FlagSeen) && !s.expunged[s.msgs[i].uid] {
				unseen = append(unseen, s.msgs[i].uid)
			}
		}
		if len(unseen) > 0 {
			updated, err := c.srv.cfg.Mail.MarkSeen(c.ctx, s.mb.ID, unseen)
			if err != nil {
				return err
			}
			for _, ref := range updated {
				s.setFlags(ref)
				flagsChanged[s.index(ref.UID)] = true
			}
		}
	}
	var rows map[uint32]*mail.Message
	if needRows {
		uids := make([]uint32, len(idx))
		for k, i := range idx {
			uids[k] = s.msgs[i].uid
		}
		var err error
		if rows, err = c.messages(uids); err != nil {
			return err
		}
	}
	for _, i := range idx {
		m := s.msgs[i]
		var row *mail.Message
		var sum *message.Summary
		var body []byte
		if needRows {
			if row = rows[m.uid]; row == nil {
				continue // removed by another session; its EXPUNGE comes later
			}
			var err error
			switch {
			case needSum && envOnly:
				sum, err = c.envelopeOnly(row)
			case needSum:
				sum, err = message.Unmarshal(row.Summary)
			}
			if err != nil {
				c.log.Error("stored summary unreadable", "mailbox", s.mb.ID, "uid", m.uid, "err", err)
				return no("SERVERBUG", "A stored message is damaged; the administrators have been told.")
			}
			if needBody {
				if body, err = c.srv.cfg.Mail.Body(c.ctx, row.ContentID); err != nil {
					if errors.Is(err, mail.ErrNotFound) {
						continue
					}
					return err
				}
			}
		}
		if err := c.writeFetch(i, items, uidCmd, flagsChanged[i], row, sum, body); err != nil {
			return err
		}
	}
	return nil
}

func (c *conn) writeFetch(i int, items []fetchItem, uidCmd, flagsChanged bool, row *mail.Message, sum *message.Summary, body []byte) error {
	m := c.sel.msgs[i]
	w := c.w
	w.Raw("* ").Uint(uint64(i + 1)).Raw(" FETCH (")
	first := true
	sep := func() {
		if !first {
			w.SP()
		}
		first = false
	}
	wroteUID, wroteFlags, wroteModSeq := false, false, false
	if uidCmd {
		sep()
		w.Raw("UID ").Uint(uint64(m.uid))
		wroteUID = true
	}
	for _, it := range items {
		switch it.kind {
		case itemUID:
			if wroteUID {
				continue
			}
			sep()
			w.Raw("UID ").Uint(uint64(m.uid))
			wroteUID = true
		case itemFlags:
			if wroteFlags {
				continue
			}
			sep()
			w.Raw("FLAGS ")
			c.writeMsgFlags(m)
			wroteFlags = true
		case itemModSeq:
			if wroteModSeq {
				continue
			}
			sep()
			w.Raw("MODSEQ (").Uint(m.modseq).Raw(")")
			wroteModSeq = true
		case itemInternalDate:
			sep()
			w.Raw("INTERNALDATE \"").Raw(row.InternalDate.UTC().Format(dateTimeLayout)).Raw("\"")
		case itemSaveDate:
			sep()
			w.Raw("SAVEDATE \"").Raw(row.SavedDate.UTC().Format(dateTimeLayout)).Raw("\"")
		case itemPreview:
			sep()
			w.Raw("PREVIEW ").String(preview(sum, body))
		case itemEmailID:
			sep()
			w.Raw("EMAILID (").Raw(emailObjectID(row)).Raw(")")
		case itemThreadID:
			sep()
			if id := threadObjectID(row.Summary); id != "" {
				w.Raw("THREADID (").Raw(id).Raw(")")
			} else {
				w.Raw("THREADID NIL")
			}
		case itemSize:
			sep()
			w.Raw("RFC822.SIZE ").Int(row.Size)
		case itemEnvelope:
			sep()
			w.Raw("ENVELOPE ")
			writeEnvelope(w, &sum.Envelope)
		case itemBody:
			sep()
			w.Raw("BODY ")
			writeBodyStructure(w, sum.Structure, false)
		case itemBodyStructure:
			sep()
			w.Raw("BODYSTRUCTURE ")
			writeBodyStructure(w, sum.Structure, true)
		case itemSection:
			data, err := sectionData(body, sum, it)
			if err != nil {
				return err
			}
			sep()
			w.Raw(it.name).SP()
			writePartial(w, data, it, false)
		case itemBinary, itemBinarySize:
			data, err := binaryData(body, sum, it.part)
			if err != nil {
				return err
			}
			sep()
			if it.kind == itemBinarySize {
				w.Raw(it.name).SP().Uint(uint64(len(data)))
				continue
			}
			w.Raw(it.name).SP()
			writePartial(w, data, it, true)
		}
	}
	// A FETCH that set \Seen reports the new flags (RFC 9051 6.4.5).
	if flagsChanged && !wroteFlags {
		sep()
		w.Raw("FLAGS ")
		c.writeMsgFlags(m)
	}
	if flagsChanged && c.sel.condstore && !wroteModSeq {
		sep()
		w.Raw("MODSEQ (").Uint(m.modseq).Raw(")")
	}
	w.Raw(")").CRLF()
	return w.Err()
}

// dateTimeLayout is RFC 9051's date-time: "17-Jul-1996 02:44:25 -0700".
const dateTimeLayout = "02-Jan-2006 15:04:05 -0700"

// sectionData cuts BODY[section] out of the body.
func sectionData(body []byte, sum *message.Summary, it fetchItem) ([]byte, error) {
	if it.name == "RFC822" {
		return body, nil
	}
	data, err := message.Section(body, sum, it.part, it.spec, it.fields, it.spec == "HEADER.FIELDS.NOT")
	if errors.Is(err, message.ErrBadSection) {
		return nil, bad("Invalid section for this message.")
	}
	if err != nil {
		return nil, fmt.Errorf("section of stored message: %w", err)
	}
	return data, nil
}

// writePartial writes section data, cut to <start.count> when asked, as a
// literal (a literal8 for binary data holding NUL, RFC 3516 4.2).
func writePartial(w *wire.Writer, data []byte, it fetchItem, binary bool) {
	if it.partial {
		if it.start >= int64(len(data)) {
			data = nil
		} else {
			data = data[it.start:]
			if int64(len(data)) > it.count {
				data = data[:it.count]
			}
		}
	}
	if bytes.IndexByte(data, 0) >= 0 {
		if binary {
			w.Literal8(data)
			return
		}
		// A literal cannot carry NUL (RFC 9051 9 CHAR8) and a literal8 is
		// for BINARY only (RFC 3516 4.2). Appended binary parts are stored
		// in base64, so only a damaged message gets here: its NULs are sent
		// as 0x80, byte for byte, so partial offsets stay true.
		data = bytes.ReplaceAll(data, []byte{0}, []byte{0x80})
	}
	w.Literal(data)
}

func hasFlag(flags []string, f string) bool {
	for _, x := range flags {
		if x == f {
			return true
		}
	}
	return false
}

// internalDate parses an APPEND date-time (RFC 9051 9 "date-time").
func internalDate(s string) (time.Time, error) {
	t, err := time.Parse("_2-Jan-2006 15:04:05 -0700", s)
	if err != nil {
		return time.Time{}, bad("Invalid date-time %q.", s)
	}
	return t, nil
}

// preview is a message's text preview (RFC 8970 3): the start of its
// readable text (message.Summary.Text: the text part, or HTML without its
// markup), white space folded, at most 256 characters; "" when it has no
// text.
func preview(sum *message.Summary, body []byte) string {
	words := strings.Fields(sum.Text(body, 8<<10))
	var sb strings.Builder
	n := 0
	for _, w := range words {
		if n > 0 {
			if n+1 > 256 {
				break
			}
			sb.WriteByte(' ')
			n++
		}
		for _, r := range w {
			if n >= 256 {
				break
			}
			sb.WriteRune(r)
			n++
		}
		if n >= 256 {
			break
		}
	}
	return sb.String()
}
