package tlsrpt

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"time"
)

// Received is a report another operator sent about one of our domains.
type Received struct {
	ID           int64     `json:"id"`
	ReceivedAt   time.Time `json:"received_at"`
	Organization string    `json:"organization"`
	ReportID     string    `json:"report_id"`
	Start        time.Time `json:"start"`
	End          time.Time `json:"end"`
	PolicyDomain string    `json:"policy_domain"`
	Successes    int64     `json:"successes"`
	Failures     int64     `json:"failures"`
	JSON         []byte    `json:"-"`
}

// Limits on a received report: the message, the JSON once unzipped, and
// MIME depth.
const (
	maxMessage = 10 << 20
	maxJSON    = 20 << 20
	maxDepth   = 5
)

func base64Lines(b []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(b)
	var out bytes.Buffer
	for len(enc) > 76 {
		out.WriteString(enc[:76])
		out.WriteString("\r\n")
		enc = enc[76:]
	}
	out.WriteString(enc)
	out.WriteString("\r\n")
	return out.Bytes()
}

// ParseReport reads an RFC 8460 JSON report and sums its sessions.
func ParseReport(js []byte) (Report, Received, error) {
	var rep Report
	if err := json.Unmarshal(js, &rep); err != nil {
		return rep, Received{}, fmt.Errorf("tlsrpt: the report is not valid JSON: %w", err)
	}
	if rep.Organization == "" || rep.ReportID == "" || len(rep.Policies) == 0 {
		return rep, Received{}, errors.New("tlsrpt: the report lacks organization-name, report-id or policies")
	}
	r := Received{Organization: rep.Organization, ReportID: rep.ReportID, Start: rep.DateRange.Start.UTC(),
		End: rep.DateRange.End.UTC(), PolicyDomain: strings.ToLower(rep.Policies[0].Policy.Domain), JSON: js}
	for _, p := range rep.Policies {
		r.Successes += p.Summary.Success
		r.Failures += p.Summary.Failure
	}
	return rep, r, nil
}

// Parse reads a report mail (RFC 8460 5.3): the first part of type
// application/tlsrpt+gzip or application/tlsrpt+json, at any depth.
func Parse(msg []byte) (Report, Received, error) {
	if len(msg) > maxMessage {
		return Report{}, Received{}, errors.New("tlsrpt: the message is too large")
	}
	m, err := mail.ReadMessage(bufio.NewReader(bytes.NewReader(msg)))
	if err != nil {
		return Report{}, Received{}, fmt.Errorf("tlsrpt: %w", err)
	}
	js, err := findReport(m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body, 0)
	if err != nil {
		return Report{}, Received{}, err
	}
	return ParseReport(js)
}

func findReport(ctype, cte string, body io.Reader, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, errors.New("tlsrpt: MIME nested too deeply")
	}
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return nil, errors.New("tlsrpt: no TLS report in the message")
	}
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil, errors.New("tlsrpt: no TLS report in the message")
			}
			if err != nil {
				return nil, fmt.Errorf("tlsrpt: %w", err)
			}
			js, err := findReport(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, depth+1)
			if err == nil {
				return js, nil
			}
		}
	case mt == "application/tlsrpt+gzip" || mt == "application/tlsrpt+json":
		if strings.EqualFold(strings.TrimSpace(cte), "base64") {
			body = base64.NewDecoder(base64.StdEncoding, body)
		}
		if mt == "application/tlsrpt+gzip" {
			zr, err := gzip.NewReader(body)
			if err != nil {
				return nil, fmt.Errorf("tlsrpt: the report is not gzip: %w", err)
			}
			body = zr
		}
		js, err := io.ReadAll(io.LimitReader(body, maxJSON+1))
		if err != nil {
			return nil, fmt.Errorf("tlsrpt: %w", err)
		}
		if len(js) > maxJSON {
			return nil, errors.New("tlsrpt: the report is too large")
		}
		return js, nil
	}
	return nil, errors.New("tlsrpt: no TLS report in the message")
}
