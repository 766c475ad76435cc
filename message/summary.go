// Package message parses and builds Internet messages: headers, MIME structure,
// the IMAP envelope and body structure, thread keys and the headers a receiving
// server adds.
//
// A message is parsed once, when it is stored; the result (a Summary) is kept
// beside the body so that IMAP FETCH ENVELOPE/BODYSTRUCTURE, section fetches and
// header searches never parse the body again.
//
// RFC 5322 (message format), RFC 2045-2049 (MIME), RFC 2231 (parameter
// continuations), RFC 2047 (encoded words), RFC 9051 7.5.2 (ENVELOPE and
// BODYSTRUCTURE).
package message

// Summary is what the store keeps beside each body.
type Summary struct {
	Envelope   Envelope `json:"e"`
	Structure  *Part    `json:"s"`
	References []string `json:"r,omitempty"` // message ids from References, in order
	// HeaderSize is the length of the top-level header including the blank line.
	HeaderSize int64 `json:"hs"`
	// HasAttachment is true when some part has Content-Disposition attachment
	// or is a named non-text part.
	HasAttachment bool `json:"a,omitempty"`
}

// Envelope is the RFC 9051 7.5.2 ENVELOPE, with header values decoded from
// RFC 2047 encoded words into UTF-8 where they were valid.
type Envelope struct {
	Date      string    `json:"d,omitempty"` // the Date header as written
	Subject   string    `json:"s,omitempty"`
	From      []Address `json:"f,omitempty"`
	Sender    []Address `json:"se,omitempty"`
	ReplyTo   []Address `json:"rt,omitempty"`
	To        []Address `json:"t,omitempty"`
	Cc        []Address `json:"c,omitempty"`
	Bcc       []Address `json:"b,omitempty"`
	InReplyTo string    `json:"ir,omitempty"` // as written, e.g. "<a@b>"
	MessageID string    `json:"m,omitempty"`  // as written, e.g. "<a@b>"
}

// Address is one mailbox of an address list. A group is written as RFC 9051
// does: an Address with Group set and empty Mailbox/Host starts it, one with
// GroupEnd set ends it.
type Address struct {
	Name     string `json:"n,omitempty"`
	Route    string `json:"ro,omitempty"` // obsolete source route, "@a,@b" (RFC 5322 4.4; the ENVELOPE's adl)
	Mailbox  string `json:"m,omitempty"`  // local part
	Host     string `json:"h,omitempty"`
	Group    string `json:"g,omitempty"`
	GroupEnd bool   `json:"ge,omitempty"`
}

// Addr returns "mailbox@host" (or just the mailbox when there is no host).
func (a Address) Addr() string {
	if a.Host == "" {
		return a.Mailbox
	}
	return a.Mailbox + "@" + a.Host
}

// Part is one MIME part. Offsets are byte positions in the stored body, so any
// section can be cut out without parsing again.
type Part struct {
	Type        string      `json:"t"`            // lower case, e.g. "text"
	Subtype     string      `json:"st"`           // lower case, e.g. "plain"
	Params      [][2]string `json:"p,omitempty"`  // Content-Type parameters, names lower case, values decoded (RFC 2231)
	ID          string      `json:"id,omitempty"` // Content-ID
	Description string      `json:"de,omitempty"`
	Encoding    string      `json:"en,omitempty"` // Content-Transfer-Encoding, lower case; "" means 7bit
	MD5         string      `json:"md,omitempty"`
	Disposition string      `json:"di,omitempty"` // lower case, e.g. "attachment"
	DispParams  [][2]string `json:"dp,omitempty"`
	Language    []string    `json:"l,omitempty"`
	Location    string      `json:"lo,omitempty"`

	// HeaderStart is where the part's MIME header starts, BodyStart where its
	// body starts (after the blank line) and End where the body ends (before
	// the CRLF that precedes the next boundary).
	HeaderStart int64 `json:"hs"`
	BodyStart   int64 `json:"bs"`
	End         int64 `json:"e"`
	Lines       int64 `json:"ln"` // lines in the body, for text/* and message/rfc822

	Children []*Part `json:"c,omitempty"` // multipart/* children

	// For message/rfc822 (and message/global): the enclosed message.
	Message *Summary `json:"m,omitempty"`
}

// Size is the body size in bytes, as FETCH BODYSTRUCTURE reports it.
func (p *Part) Size() int64 { return p.End - p.BodyStart }

// Param returns a Content-Type parameter by lower-case name.
func (p *Part) Param(name string) string {
	for _, kv := range p.Params {
		if kv[0] == name {
			return kv[1]
		}
	}
	return ""
}
