package imapd

import (
	"strconv"

	"wardmail/mail"
	"wardmail/message"
)

// Object identifiers (RFC 8474): stable ids that survive renames, copies and
// reconnections, each 1*255 letters, digits, "-" and "_" starting with a
// letter (RFC 8474 4, objectid).
//
//   - MAILBOXID is "M" and the mailbox's row id: it stays through RENAME
//     and is never given again (the ids are never reused); renaming INBOX
//     moves its messages to a new mailbox, which gets a new id while INBOX
//     keeps its own (RFC 8474 4.2).
//   - EMAILID is "E" and the id of the stored body: a body is stored once
//     by its hash, so every copy of a message, in any mailbox, has the same
//     EMAILID, and it never changes (RFC 8474 5.1).
//   - THREADID is "T" and the hex key of the conversation's root: the first
//     Message-ID of References, else the In-Reply-To parent, else the
//     message's own Message-ID (message.ThreadKeys). It is worked out from
//     the message alone, so it never changes once given, as RFC 8474 5.2
//     requires; the webmail's grouping (store/threads.go) also joins
//     messages by subject and merges conversations as replies arrive, which
//     would change an id already given, so it is not used here. A message
//     without any Message-ID has no THREADID (NIL).

func mailboxObjectID(mb *mail.Mailbox) string { return "M" + strconv.FormatInt(mb.ID, 10) }

func emailObjectID(row *mail.Message) string { return "E" + strconv.FormatInt(row.ContentID, 10) }

// threadObjectID returns the THREADID of a stored summary, or "".
func threadObjectID(summary []byte) string {
	k, err := message.ThreadKeysOf(summary)
	if err != nil {
		return ""
	}
	root := k.Root
	if root == 0 {
		root = k.Parent
	}
	if root == 0 {
		root = k.Self
	}
	if root == 0 {
		return ""
	}
	return "T" + strconv.FormatUint(uint64(root), 16)
}
