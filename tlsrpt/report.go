package tlsrpt

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"sort"
	"strings"
	"time"
)

// Report is the JSON report of RFC 8460 section 4.
type Report struct {
	Organization string    `json:"organization-name"`
	DateRange    DateRange `json:"date-range"`
	Contact      string    `json:"contact-info"`
	ReportID     string    `json:"report-id"`
	Policies     []Policy  `json:"policies"`
}

// DateRange is the period a report covers (RFC 8460 4.4).
type DateRange struct {
	Start time.Time `json:"start-datetime"`
	End   time.Time `json:"end-datetime"`
}

// Policy is one policy's results (RFC 8460 4.4).
type Policy struct {
	Policy         PolicyDesc      `json:"policy"`
	Summary        Summary         `json:"summary"`
	FailureDetails []FailureDetail `json:"failure-details,omitempty"`
}

// PolicyDesc says which policy was applied.
type PolicyDesc struct {
	Type   string   `json:"policy-type"`
	String []string `json:"policy-string,omitempty"`
	Domain string   `json:"policy-domain"`
	MXHost []string `json:"mx-host,omitempty"`
}

// Summary counts the sessions.
type Summary struct {
	Success int64 `json:"total-successful-session-count"`
	Failure int64 `json:"total-failure-session-count"`
}

// FailureDetail counts one kind of failure at one host.
type FailureDetail struct {
	ResultType      string `json:"result-type"`
	SendingIP       string `json:"sending-mta-ip,omitempty"`
	ReceivingMXHost string `json:"receiving-mx-hostname,omitempty"`
	ReceivingIP     string `json:"receiving-ip,omitempty"`
	Count           int64  `json:"failed-session-count"`
}

// Build makes the report of one day's results for one policy domain.
func Build(organization, contact string, day time.Time, results []Result) Report {
	day = day.UTC().Truncate(24 * time.Hour)
	var id [8]byte
	_, _ = rand.Read(id[:])
	rep := Report{Organization: organization, Contact: contact,
		DateRange: DateRange{Start: day, End: day.Add(24*time.Hour - time.Second)},
		ReportID:  day.Format("2006-01-02") + "-" + hex.EncodeToString(id[:])}
	type key struct{ typ, str string }
	byPolicy := map[key]*Policy{}
	var order []key
	for _, r := range results {
		k := key{r.PolicyType, strings.Join(r.PolicyString, "\n")}
		p, ok := byPolicy[k]
		if !ok {
			p = &Policy{Policy: PolicyDesc{Type: r.PolicyType, String: r.PolicyString, Domain: r.PolicyDomain}}
			byPolicy[k] = p
			order = append(order, k)
		}
		if r.MXHost != "" && r.PolicyType == "sts" && !containsStr(p.Policy.MXHost, r.MXHost) {
			p.Policy.MXHost = append(p.Policy.MXHost, r.MXHost)
		}
		if r.Success {
			p.Summary.Success += r.Count
			continue
		}
		p.Summary.Failure += r.Count
		p.FailureDetails = append(p.FailureDetails, FailureDetail{ResultType: r.FailureType,
			ReceivingMXHost: r.MXHost, ReceivingIP: r.ReceivingIP, Count: r.Count})
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].typ < order[j].typ })
	for _, k := range order {
		rep.Policies = append(rep.Policies, *byPolicy[k])
	}
	return rep
}

func containsStr(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// Message makes the report's mail (RFC 8460 section 5.3): multipart/report
// with report-type=tlsrpt, a human-readable part, and the JSON gzipped as
// application/tlsrpt+gzip, named as section 5.1 says
// (submitter!policy-domain!begin!end!id.json.gz). Lines end in CRLF.
func Message(rep Report, from, to, submitter, policyDomain string, now time.Time) ([]byte, error) {
	js, err := json.Marshal(rep)
	if err != nil {
		return nil, err
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(js); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	name := fmt.Sprintf("%s!%s!%d!%d!%s.json.gz", submitter, policyDomain,
		rep.DateRange.Start.Unix(), rep.DateRange.End.Unix(), rep.ReportID)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	var msg bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&msg, "%s: %s\r\n", k, v) }
	h("From", from)
	h("To", to)
	h("Subject", fmt.Sprintf("Report Domain: %s Submitter: %s Report-ID: <%s@%s>", policyDomain, submitter, rep.ReportID, submitter))
	h("Date", now.UTC().Format(time.RFC1123Z))
	h("Message-ID", fmt.Sprintf("<tlsrpt.%s.%s@%s>", policyDomain, rep.ReportID, submitter))
	h("TLS-Report-Domain", policyDomain)
	h("TLS-Report-Submitter", submitter)
	h("MIME-Version", "1.0")
	h("Content-Type", fmt.Sprintf("multipart/report; report-type=\"tlsrpt\"; boundary=\"%s\"", mw.Boundary()))
	msg.WriteString("\r\n")
	text, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"text/plain; charset=utf-8"}})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(text, "This is an aggregate TLS report (RFC 8460) from %s for %s, %s.\r\n",
		submitter, policyDomain, rep.DateRange.Start.Format("2 January 2006"))
	part, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {"application/tlsrpt+gzip"},
		"Content-Transfer-Encoding": {"base64"},
		"Content-Disposition":       {fmt.Sprintf("attachment; filename=\"%s\"", name)},
	})
	if err != nil {
		return nil, err
	}
	b64 := base64Lines(gz.Bytes())
	if _, err := part.Write(b64); err != nil {
		return nil, err
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	msg.Write(body.Bytes())
	return msg.Bytes(), nil
}
