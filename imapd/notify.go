package imapd

import (
	"strings"

	"wardmail/imapd/wire"
)

// NOTIFY (RFC 5465): the client names groups of mailboxes and, for each,
// the events it wants to hear of without asking. This file reads the
// command; notify_watch.go finds and reports the events.

// notifyFilter is a filter-mailboxes (RFC 5465 6).
type notifyFilter uint8

const (
	filterSelected notifyFilter = iota + 1
	filterSelectedDelayed
	filterInboxes
	filterPersonal
	filterSubscribed
	filterSubtree
	filterMailboxes
)

// notifyEvents is a set of events (RFC 5465 5).
type notifyEvents uint8

const (
	evMessageNew notifyEvents = 1 << iota
	evMessageExpunge
	evFlagChange
	evMailboxName
	evSubscriptionChange

	evMessage = evMessageNew | evMessageExpunge | evFlagChange
)

// supportedEvents is what BADEVENT lists (RFC 5465 3.1, 5):
// AnnotationChange, MailboxMetadataChange and ServerMetadataChange need
// METADATA or ANNOTATE, which the server does not offer.
const supportedEvents = "(MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange)"

// notifyGroup is one event-group: the mailboxes a filter covers and the
// events wanted from them (none: NONE, nothing at all).
type notifyGroup struct {
	filter notifyFilter
	names  []string // SUBTREE and MAILBOXES
	events notifyEvents
	// fetch is the MessageNew fetch-att list (SELECTED and
	// SELECTED-DELAYED only, RFC 5465 5.2): sent with each new message.
	fetch []fetchItem
}

// notifySpec is a parsed NOTIFY SET: the groups in the client's order (the
// first group that covers a mailbox decides, RFC 5465 6).
type notifySpec struct {
	status bool
	groups []notifyGroup
}

// maxNotifyNames bounds the mailbox names in one NOTIFY.
const maxNotifyNames = 1000

func cmdNotify(c *conn, cmd *wire.Command) error {
	spec, err := parseNotify(cmd.Args, c.mailboxArg)
	if err != nil {
		return err
	}
	if spec == nil {
		c.stopNotify()
		return nil
	}
	return c.startNotify(spec)
}

// parseNotify reads NOTIFY's arguments (RFC 5465 8):
//
//	notify          = "NOTIFY" SP (notify-set / notify-none)
//	notify-set      = "SET" [SP status-indicator] SP event-groups
//	event-group     = "(" filter-mailboxes SP events ")"
//	events          = ( "(" event *(SP event) ")" ) / "NONE"
//
// It returns nil for NOTIFY NONE. A syntax error is BAD; an event the
// server does not offer is NO [BADEVENT] with the list of those it does.
func parseNotify(args []wire.Arg, mailbox func(wire.Arg) (string, error)) (*notifySpec, error) {
	if len(args) == 1 && args[0].IsAtom("NONE") {
		return nil, nil
	}
	if len(args) < 2 || !args[0].IsAtom("SET") {
		return nil, bad("NOTIFY takes NONE, or SET and event groups.")
	}
	spec := &notifySpec{}
	args = args[1:]
	if args[0].IsAtom("STATUS") {
		spec.status = true
		args = args[1:]
	}
	if len(args) == 0 {
		return nil, bad("NOTIFY SET needs at least one event group.")
	}
	seen := map[notifyFilter]bool{}
	names := 0
	for _, a := range args {
		if a.Kind != wire.List {
			return nil, bad("An event group is a parenthesised filter and events.")
		}
		g, err := parseNotifyGroup(a.List, mailbox)
		if err != nil {
			return nil, err
		}
		if g.filter != filterSubtree && g.filter != filterMailboxes {
			if seen[g.filter] {
				return nil, bad("A mailbox filter appears twice.")
			}
			seen[g.filter] = true
		}
		if names += len(g.names); names > maxNotifyNames {
			return nil, no("LIMIT", "NOTIFY names at most %d mailboxes.", maxNotifyNames)
		}
		spec.groups = append(spec.groups, g)
	}
	if seen[filterSelected] && seen[filterSelectedDelayed] {
		return nil, bad("SELECTED and SELECTED-DELAYED exclude each other.")
	}
	return spec, nil
}

func parseNotifyGroup(l []wire.Arg, mailbox func(wire.Arg) (string, error)) (notifyGroup, error) {
	var g notifyGroup
	if len(l) < 2 || l[0].Kind != wire.Atom {
		return g, bad("An event group is a filter and its events.")
	}
	switch strings.ToUpper(l[0].S) {
	case "SELECTED":
		g.filter = filterSelected
	case "SELECTED-DELAYED":
		g.filter = filterSelectedDelayed
	case "INBOXES":
		g.filter = filterInboxes
	case "PERSONAL":
		g.filter = filterPersonal
	case "SUBSCRIBED":
		g.filter = filterSubscribed
	case "SUBTREE":
		g.filter = filterSubtree
	case "MAILBOXES":
		g.filter = filterMailboxes
	default:
		return g, bad("Unknown mailbox filter %q.", l[0].S)
	}
	rest := l[1:]
	if g.filter == filterSubtree || g.filter == filterMailboxes {
		// one-or-more-mailbox = mailbox / "(" mailbox *(SP mailbox) ")"
		one := []wire.Arg{rest[0]}
		if rest[0].Kind == wire.List {
			one = rest[0].List
			if len(one) == 0 {
				return g, bad("Name at least one mailbox.")
			}
		}
		for _, a := range one {
			name, err := mailbox(a)
			if err != nil {
				return g, err
			}
			g.names = append(g.names, name)
		}
		rest = rest[1:]
	}
	if len(rest) != 1 {
		return g, bad("An event group ends with its events.")
	}
	if rest[0].IsAtom("NONE") {
		return g, nil
	}
	if rest[0].Kind != wire.List || len(rest[0].List) == 0 {
		return g, bad("Events are NONE or a parenthesised list.")
	}
	if err := g.parseEvents(rest[0].List); err != nil {
		return g, err
	}
	return g, nil
}

func (g *notifyGroup) parseEvents(l []wire.Arg) error {
	selected := g.filter == filterSelected || g.filter == filterSelectedDelayed
	var unknown []string
	for i := 0; i < len(l); i++ {
		a := l[i]
		if a.Kind != wire.Atom {
			return bad("Expected an event name.")
		}
		var ev notifyEvents
		switch strings.ToUpper(a.S) {
		case "MESSAGENEW":
			ev = evMessageNew
			if i+1 < len(l) && l[i+1].Kind == wire.List {
				// RFC 5465 5.2: fetch attributes only for the selected
				// mailbox; others are told by STATUS.
				if !selected {
					return bad("MessageNew takes fetch attributes only for SELECTED or SELECTED-DELAYED.")
				}
				items, err := parseFetchItems(l[i+1])
				if err != nil {
					return err
				}
				// Being told of a message must not mark it read.
				for k := range items {
					items[k].peek = true
				}
				g.fetch = items
				i++
			}
		case "MESSAGEEXPUNGE":
			ev = evMessageExpunge
		case "FLAGCHANGE":
			ev = evFlagChange
		case "MAILBOXNAME":
			ev = evMailboxName
		case "SUBSCRIPTIONCHANGE":
			ev = evSubscriptionChange
		default:
			unknown = append(unknown, a.S)
			continue
		}
		if g.events&ev != 0 {
			return bad("Event %s appears twice.", a.S)
		}
		g.events |= ev
	}
	if len(unknown) > 0 {
		return no("BADEVENT "+supportedEvents, "Not offered: %s.", strings.Join(unknown, " "))
	}
	// RFC 5465 5: MessageNew and MessageExpunge come together (a client
	// that counts messages needs both); FlagChange needs them.
	if (g.events&evMessageNew != 0) != (g.events&evMessageExpunge != 0) {
		return bad("MessageNew and MessageExpunge must be asked for together.")
	}
	if g.events&evFlagChange != 0 && g.events&evMessageNew == 0 {
		return bad("FlagChange needs MessageNew and MessageExpunge.")
	}
	// RFC 5465 6: the selected mailbox has message events only.
	if selected && g.events&^evMessage != 0 {
		return bad("SELECTED and SELECTED-DELAYED take message events only.")
	}
	return nil
}
