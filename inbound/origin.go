package inbound

import (
	"strconv"
	"strings"
)

// Origin is what the webmail and IMAP clients are told about where a message
// came from. Wardmail writes it in the Wardmail-Origin field of every message
// that arrives from outside, so it is stored with the message and read back
// with it.
type Origin struct {
	// Outside: the message came from outside the health service.
	Outside bool `json:"outside"`
	// LookAlike, when set, says why the sender looks like someone inside
	// (a look-alike domain, a directory person's display name).
	LookAlike string `json:"lookAlike,omitempty"`
	// Junk, when set, says why the message was put in Junk (a DMARC
	// quarantine policy, or a scanner's verdict).
	Junk string `json:"junk,omitempty"`
	// Banner is the sentence to show above the message.
	Banner string `json:"banner,omitempty"`
	// Strong asks for the stronger warning (LookAlike or Junk set).
	Strong bool `json:"strong,omitempty"`
}

// Banner sentences, shown as they are by the webmail.
const (
	OutsideBanner   = "This message came from outside the health service: check before you act on it"
	LookAlikeBanner = "Warning: this message came from outside the health service but looks like it came from inside it"
	JunkBanner      = "This message was put in Junk"
)

// maxOriginValue bounds what ParseOrigin reads.
const maxOriginValue = 4096

// String formats the Wardmail-Origin value: "outside", then each reason as a
// quoted parameter, e.g. `outside; look-alike="..."; junk="..."`.
func (o Origin) String() string {
	if !o.Outside {
		return "inside"
	}
	s := "outside"
	if o.LookAlike != "" {
		s += "; look-alike=" + strconv.Quote(oneLine(o.LookAlike))
	}
	if o.Junk != "" {
		s += "; junk=" + strconv.Quote(oneLine(o.Junk))
	}
	return s
}

// oneLine keeps a reason printable and on one line.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// ParseOrigin reads a Wardmail-Origin value; anything it cannot read is
// taken as "outside" with no reasons, so a damaged field never hides the
// banner.
func ParseOrigin(v string) Origin {
	if len(v) > maxOriginValue {
		v = v[:maxOriginValue]
	}
	parts := splitParams(v)
	if len(parts) == 0 || strings.EqualFold(strings.TrimSpace(parts[0]), "inside") {
		return Origin{}
	}
	o := Origin{Outside: true}
	for _, p := range parts[1:] {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		if u, err := strconv.Unquote(val); err == nil {
			val = u
		}
		val = oneLine(val)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "look-alike":
			o.LookAlike = val
		case "junk":
			o.Junk = val
		}
	}
	o.fill()
	return o
}

// fill sets Banner and Strong from the reasons.
func (o *Origin) fill() {
	switch {
	case !o.Outside:
		o.Banner, o.Strong = "", false
	case o.LookAlike != "":
		o.Banner, o.Strong = LookAlikeBanner+": "+o.LookAlike, true
	case o.Junk != "":
		o.Banner, o.Strong = OutsideBanner+". "+JunkBanner+": "+o.Junk, true
	default:
		o.Banner = OutsideBanner
	}
}

// splitParams splits on semicolons outside double quotes.
func splitParams(v string) []string {
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			if quoted {
				i++
			}
		case '"':
			quoted = !quoted
		case ';':
			if !quoted {
				out = append(out, v[start:i])
				start = i + 1
			}
		}
	}
	if start <= len(v) {
		out = append(out, v[start:])
	}
	return out
}

// ReadOrigin returns the origin recorded in a stored message's header
// (msg[:headerSize]; headerSize <= 0 finds the end). A message with no
// Wardmail-Origin field came from inside.
func ReadOrigin(msg []byte, headerSize int64) Origin {
	if headerSize > 0 && headerSize <= int64(len(msg)) {
		msg = msg[:headerSize]
	}
	fields, _ := splitHeader(msg)
	for _, f := range fields {
		if strings.EqualFold(f.name, OriginField) {
			return ParseOrigin(f.value())
		}
	}
	return Origin{}
}

// MarkJunk records in a message's Wardmail-Origin field that it goes to
// Junk and why, keeping what the field said already; a message without the
// field gets one. A scanner's verdict (spam, a suspicious attachment) uses
// it so that the webmail shows the same Junk banner as for a DMARC
// quarantine.
func MarkJunk(msg []byte, reason string) []byte {
	o := ReadOrigin(msg, 0)
	o.Outside = true // only mail from outside is judged as junk on arrival
	if o.Junk == "" {
		o.Junk = reason
	}
	fields, _ := splitHeader(msg)
	field := []byte(OriginField + ": " + o.String() + "\r\n")
	for _, f := range fields {
		if strings.EqualFold(f.name, OriginField) {
			at := cap(msg) - cap(f.raw)
			out := make([]byte, 0, len(msg)+len(field))
			out = append(out, msg[:at]...)
			out = append(out, field...)
			return append(out, msg[at+len(f.raw):]...)
		}
	}
	return append(field, msg...)
}
