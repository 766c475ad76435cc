package imapd

import (
	"strconv"
	"strings"

	"wardmail/imapd/wire"
)

// capabilities lists what the server offers in the connection's current
// state (RFC 9051 6.1.1). Before TLS, sign-in is disabled (RFC 9051 11.1,
// LOGINDISABLED) and no SASL mechanism is offered.
func (c *conn) capabilities() string {
	caps := []string{"IMAP4rev1", "IMAP4rev2"}
	if c.state == stateNotAuth {
		if !c.tls && c.srv.cfg.TLS != nil {
			caps = append(caps, "STARTTLS")
		}
		if c.tls {
			caps = append(caps, "AUTH=PLAIN")
		} else {
			caps = append(caps, "LOGINDISABLED")
		}
		caps = append(caps, "SASL-IR")
	}
	caps = append(caps, "ID", "ENABLE", "LITERAL+", "IDLE", "NOTIFY", "NAMESPACE", "UNSELECT", "UIDPLUS", "MULTIAPPEND", "UTF8=ACCEPT", "MOVE", "REPLACE", "COMPRESS=DEFLATE", "CATENATE",
		"ESEARCH", "SEARCHRES", "SORT", "SORT=DISPLAY", "ESORT", "CONTEXT=SEARCH", "CONTEXT=SORT", "THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES", "WITHIN", "SAVEDATE", "OBJECTID", "PREVIEW", "SPECIAL-USE", "LIST-EXTENDED", "LIST-STATUS", "CHILDREN", "BINARY", "CONDSTORE", "QRESYNC",
		"QUOTA", "QUOTA=RES-STORAGE", "STATUS=SIZE", "APPENDLIMIT="+strconv.FormatInt(c.lim.MaxLiteral, 10))
	if c.state != stateNotAuth {
		caps = append(caps, "CREATE-SPECIAL-USE", "UNAUTHENTICATE")
	}
	return strings.Join(caps, " ")
}

func cmdCapability(c *conn, cmd *wire.Command) error {
	if len(cmd.Args) != 0 {
		return bad("CAPABILITY takes no arguments.")
	}
	c.w.Raw("* CAPABILITY ").Raw(c.capabilities()).CRLF()
	return nil
}

// cmdEnable turns on extensions that change the server's behaviour (RFC 5161,
// RFC 7162 3.1 and 3.2.3, RFC 9051 6.3.1, RFC 6855 3).
func cmdEnable(c *conn, cmd *wire.Command) error {
	if len(cmd.Args) == 0 {
		return bad("ENABLE needs at least one capability.")
	}
	var enabled []string
	for _, a := range cmd.Args {
		if a.Kind != wire.Atom {
			return bad("ENABLE takes capability names.")
		}
		switch strings.ToUpper(a.S) {
		case "CONDSTORE":
			if !c.condstore {
				c.enableCondstore()
				enabled = append(enabled, "CONDSTORE")
			}
		case "QRESYNC":
			if !c.qresync {
				c.qresync = true
				c.enableCondstore()
				enabled = append(enabled, "QRESYNC")
			}
		case "UTF8=ACCEPT":
			// Mailbox names, quoted strings and ENVELOPE fields in UTF-8
			// as they are (RFC 6855 3); IMAP4rev2 has the same already.
			if !c.utf8Accept {
				c.utf8Accept = true
				c.w.UTF8 = true
				enabled = append(enabled, "UTF8=ACCEPT")
			}
		case "IMAP4REV2":
			if !c.rev2 {
				c.rev2 = true
				c.w.UTF8 = true
				enabled = append(enabled, "IMAP4rev2")
			}
		}
	}
	c.w.Raw("* ENABLED")
	for _, e := range enabled {
		c.w.SP().Raw(e)
	}
	c.w.CRLF()
	return nil
}

// enableCondstore turns CONDSTORE on, as ENABLE or any CONDSTORE-enabling
// command does (RFC 7162 3.1). When that happens with a mailbox selected,
// the client learns the mailbox's HIGHESTMODSEQ at once (RFC 7162 3.1.2.1),
// so callers call it before writing their own responses.
func (c *conn) enableCondstore() {
	c.condstore = true
	if c.sel != nil && !c.sel.condstore {
		c.sel.condstore = true
		c.untagged("OK", "HIGHESTMODSEQ "+strconv.FormatUint(c.sel.modseq, 10), "Highest MODSEQ.")
	}
}

// cmdID answers the client's identification with ours (RFC 2971). The
// client's fields are not logged: they may hold personal device names.
func cmdID(c *conn, cmd *wire.Command) error {
	if len(cmd.Args) != 1 || (!cmd.Args[0].IsNIL() && cmd.Args[0].Kind != wire.List) {
		return bad("ID takes NIL or a list of field names and values.")
	}
	if l := cmd.Args[0].List; len(l) > 60 || len(l)%2 != 0 {
		return bad("ID takes at most 30 field-value pairs.")
	}
	c.w.Raw(`* ID ("name" "Wardmail")`).CRLF()
	return nil
}

// cmdNamespace: one personal namespace, no others (RFC 2342, RFC 9051
// 6.3.10).
func cmdNamespace(c *conn, cmd *wire.Command) error {
	if len(cmd.Args) != 0 {
		return bad("NAMESPACE takes no arguments.")
	}
	c.w.Raw(`* NAMESPACE (("" "/")) NIL NIL`).CRLF()
	return nil
}
