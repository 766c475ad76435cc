// Package mail is the mail service: a person's mailboxes and the messages in
// them, their flags, moves, copies and removal, appending, the one search
// engine that answers both IMAP SEARCH (RFC 9051 6.4.4) and the webmail's
// search box, conversations, and the change subscriptions behind IDLE
// (RFC 2177) and the webmail's live updates.
//
// The doors (imapd, web's mail handlers) translate their wire into calls on
// a *Service and hold no rule about mail: which folders exist and what may
// be renamed or deleted (RFC 6154 special use), what deleting means outside
// and inside Trash, which flags a message may carry, how a search turns into
// word-index lookups. Storage is reached through Storage, the narrow
// interface this package declares and *store.Store implements; nothing here
// sees SQL or a transaction.
package mail
