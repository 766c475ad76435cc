package imapd

import (
	"strings"

	"wardmail/imapd/wire"
	"wardmail/message"
)

// writeBodyStructure renders BODY (extended false) or BODYSTRUCTURE
// (extended true) from the stored summary (RFC 9051 7.5.2 and the "body"
// grammar of section 9). Type, subtype, encoding and parameter names are
// upper case, as in RFC 9051's examples; values are as stored.
func writeBodyStructure(w *wire.Writer, p *message.Part, extended bool) {
	w.Byte('(')
	if len(p.Children) > 0 {
		for _, ch := range p.Children {
			writeBodyStructure(w, ch, extended) // no space between parts
		}
		w.SP().String(strings.ToUpper(p.Subtype))
		if extended {
			w.SP()
			writeParams(w, p.Params)
			w.SP()
			writeExtension(w, p)
		}
		w.Byte(')')
		return
	}
	typ := strings.ToUpper(p.Type)
	if typ == "" {
		typ = "TEXT"
	}
	sub := strings.ToUpper(p.Subtype)
	if sub == "" {
		sub = "PLAIN"
	}
	w.String(typ).SP().String(sub).SP()
	writeParams(w, p.Params)
	w.SP().NString(p.ID).SP()
	w.Text(p.Description).SP()
	enc := strings.ToUpper(p.Encoding)
	if enc == "" {
		enc = "7BIT"
	}
	w.String(enc).SP().Int(p.Size())
	switch {
	case p.Message != nil && typ == "MESSAGE" && p.Message.Structure != nil:
		w.SP()
		writeEnvelope(w, &p.Message.Envelope)
		w.SP()
		writeBodyStructure(w, p.Message.Structure, extended)
		w.SP().Int(p.Lines)
	case typ == "TEXT":
		w.SP().Int(p.Lines)
	}
	if extended {
		w.SP().NString(p.MD5).SP()
		writeExtension(w, p)
	}
	w.Byte(')')
}

// writeExtension writes disposition, language and location, the extension
// data multipart and single parts share.
func writeExtension(w *wire.Writer, p *message.Part) {
	if p.Disposition == "" {
		w.NIL()
	} else {
		w.Byte('(').String(strings.ToUpper(p.Disposition)).SP()
		writeParams(w, p.DispParams)
		w.Byte(')')
	}
	w.SP()
	switch len(p.Language) {
	case 0:
		w.NIL()
	case 1:
		w.String(p.Language[0])
	default:
		w.Byte('(')
		for i, l := range p.Language {
			if i > 0 {
				w.SP()
			}
			w.String(l)
		}
		w.Byte(')')
	}
	w.SP().NString(p.Location)
}

// writeParams writes ("NAME" "value" ...) or NIL.
func writeParams(w *wire.Writer, params [][2]string) {
	if len(params) == 0 {
		w.NIL()
		return
	}
	w.Byte('(')
	for i, kv := range params {
		if i > 0 {
			w.SP()
		}
		w.String(strings.ToUpper(kv[0])).SP()
		if kv[1] == "" {
			w.Raw(`""`) // a parameter value is a string, never NIL
		} else {
			w.Text(kv[1])
		}
	}
	w.Byte(')')
}
