package inbound

import (
	"bytes"
	"strings"

	"github.com/emersion/go-msgauth/authres"
	"github.com/emersion/go-msgauth/dkim"
)

// fields formats Authentication-Results (RFC 8601) and Wardmail-Origin.
func (c *Checker) fields(v *Verdict, in Input, mailFromDomain, helo string) []byte {
	results := []authres.Result{
		&authres.SPFResult{Value: authres.ResultValue(v.SPF), From: mailFromDomain},
	}
	if helo != "" {
		results = append(results, &authres.GenericResult{Method: "spf", Value: authres.ResultValue(v.HeloSPF), Params: map[string]string{"smtp.helo": helo}})
	}
	if len(v.DKIM) == 0 {
		results = append(results, &authres.DKIMResult{Value: authres.ResultNone})
	}
	for _, d := range v.DKIM {
		r := &authres.DKIMResult{Value: authres.ResultPass, Domain: d.Domain}
		switch {
		case d.Err == nil:
		case dkim.IsTempFail(d.Err):
			r.Value, r.Reason = authres.ResultTempError, d.Err.Error()
		case dkim.IsPermFail(d.Err):
			r.Value, r.Reason = authres.ResultPermError, d.Err.Error()
		default:
			r.Value, r.Reason = authres.ResultFail, d.Err.Error()
		}
		results = append(results, r)
	}
	if v.ARC.Value != authres.ResultNone {
		arc := &authres.GenericResult{Method: "arc", Value: v.ARC.Value, Params: map[string]string{"reason": v.ARC.Reason}}
		if v.ARC.Sealer != "" {
			arc.Params["header.d"] = v.ARC.Sealer
		}
		results = append(results, arc)
	}
	dm := &authres.DMARCResult{Value: v.DMARC, From: v.FromDomain}
	if v.DMARC == authres.ResultFail {
		dm.Reason = "p=" + string(v.Policy)
		if v.Action == Accept && !v.Trusted {
			dm.Reason += " overridden by arc"
		}
	}
	results = append(results, dm)
	// The library leaves a space before each ";" that follows a result
	// without parameters.
	ar := strings.ReplaceAll(authres.Format(v.authservID, results), " ;", ";")
	var b bytes.Buffer
	b.WriteString(AuthResultsField + ": " + fold(ar) + "\r\n")
	b.WriteString(OriginField + ": " + v.Origin.String() + "\r\n")
	return b.Bytes()
}

// fold breaks an Authentication-Results value after each result so that no
// line is long (RFC 5322 2.1.1).
func fold(s string) string {
	return strings.ReplaceAll(s, "; ", ";\r\n\t")
}

// Apply returns the message as it is stored: the fields only Wardmail may
// write removed, its own on top, and the subject tag before the subject of
// mail from outside when one is configured.
func (v *Verdict) Apply(msg []byte) []byte {
	out := Rewrite(msg, v.authservID, v.fields)
	if v.subjectTag != "" && v.Origin.Outside {
		out = tagSubject(out, v.subjectTag)
	}
	return out
}

// tagSubject puts tag before the Subject's value unless it is there already.
func tagSubject(msg []byte, tag string) []byte {
	fields, _ := splitHeader(msg)
	for _, f := range fields {
		if !strings.EqualFold(f.name, "Subject") {
			continue
		}
		if strings.HasPrefix(f.value(), tag) {
			return msg
		}
		at := cap(msg) - cap(f.raw) + len(f.name) + 1
		out := make([]byte, 0, len(msg)+len(tag)+1)
		out = append(out, msg[:at]...)
		out = append(out, ' ')
		out = append(out, tag...)
		return append(out, msg[at:]...)
	}
	return msg
}

// Header returns the fields Apply puts on top, for logs and tests.
func (v *Verdict) Header() string { return string(v.fields) }
