package inbound

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"wardmail/store"
)

// DMARC aggregate reports (RFC 7489 7.2): each message from a domain whose
// record has rua= is counted (Checker.Check); once a UTC day is over, a
// Reporter builds that day's XML report for each such domain and hands it
// to the outbound queue, or keeps it in the store's outbox until the queue
// exists.

// ReportStore is where results are counted and reports claimed;
// *store.Store implements it.
type ReportStore interface {
	RecordDMARC(ctx context.Context, p store.DMARCPolicy, r store.DMARCRow) error
	DMARCDue(ctx context.Context, beforeDay int64) ([]store.DMARCPolicy, error)
	DMARCRows(ctx context.Context, day int64, domain string) ([]store.DMARCRow, error)
	ClaimDMARC(ctx context.Context, day int64, domain string) (bool, error)
	ReleaseDMARC(ctx context.Context, day int64, domain string) error
}

// Enqueuer sends a message Wardmail wrote: the outbound queue, or the
// store's outbox until it exists.
type Enqueuer interface {
	Enqueue(ctx context.Context, from string, to []string, msg []byte) error
}

// ReporterConfig is what a Reporter needs.
type ReporterConfig struct {
	Store ReportStore
	Queue Enqueuer
	// Hostname names the reporting organisation and is the report's
	// authserv; From is the reports' sender (default postmaster@Hostname).
	Hostname, From string
	Resolver       TXTResolver // for the external destinations' consent (RFC 7489 7.1)
	Logger         *slog.Logger
	Now            func() time.Time
}

// Reporter sends the daily aggregate reports.
type Reporter struct{ cfg ReporterConfig }

// NewReporter returns a Reporter.
func NewReporter(cfg ReporterConfig) *Reporter {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.From == "" {
		cfg.From = "postmaster@" + cfg.Hostname
	}
	return &Reporter{cfg: cfg}
}

const day = 24 * time.Hour

func unixDay(t time.Time) int64 { return t.Unix() / 86400 }

// record counts one message for its author domain's report.
func (c *Checker) record(ctx context.Context, v *Verdict, pol policyRecord, in Input, mailFromDomain string, dkimPass, spfPass bool) {
	if c.cfg.Reports == nil || pol.rec == nil || len(pol.rec.ReportURIAggregate) == 0 || v.Action == Defer {
		return
	}
	r := pol.rec
	pct := 100
	if r.Percent != nil {
		pct = *r.Percent
	}
	domain := v.FromDomain
	if pol.atOrg {
		domain = orgDomain(v.FromDomain)
	}
	p := store.DMARCPolicy{Day: unixDay(c.cfg.Now()), Domain: domain, ADKIM: string(orDefault(string(r.DKIMAlignment), "r")),
		ASPF: orDefault(string(r.SPFAlignment), "r"), P: string(r.Policy), SP: orDefault(string(r.SubdomainPolicy), string(r.Policy)),
		Pct: pct, RUA: strings.Join(r.ReportURIAggregate, ",")}
	passFail := func(b bool) string {
		if b {
			return "pass"
		}
		return "fail"
	}
	var dk []string
	for _, d := range v.DKIM {
		res := "pass"
		if d.Err != nil {
			res = "fail"
		}
		dk = append(dk, strings.ToLower(d.Domain)+":"+res)
	}
	row := store.DMARCRow{SourceIP: in.RemoteIP.Unmap().String(), HeaderFrom: v.FromDomain, EnvelopeFrom: mailFromDomain,
		Disposition: [...]string{"none", "quarantine", "reject"}[v.Action], DKIMAligned: passFail(dkimPass), SPFAligned: passFail(spfPass),
		DKIM: strings.Join(dk, " "), SPF: mailFromDomain + ":" + string(v.SPF)}
	if err := c.cfg.Reports.RecordDMARC(ctx, p, row); err != nil {
		c.cfg.Logger.Warn("counting a DMARC result for the aggregate report", "domain", domain, "err", err)
	}
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// Run sends the due reports every interval until stop is called.
func (r *Reporter) Run(every time.Duration) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if n, err := r.SendDue(ctx); err != nil && ctx.Err() == nil {
				r.cfg.Logger.Warn("sending DMARC aggregate reports", "err", err)
			} else if n > 0 {
				r.cfg.Logger.Info("DMARC aggregate reports queued", "count", n)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() error { cancel(); <-done; return nil }
}

// SendDue builds and queues the reports of every day that is over, once
// each however many nodes run it, and returns how many it queued.
func (r *Reporter) SendDue(ctx context.Context) (int, error) {
	due, err := r.cfg.Store.DMARCDue(ctx, unixDay(r.cfg.Now()))
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, p := range due {
		ok, err := r.cfg.Store.ClaimDMARC(ctx, p.Day, p.Domain)
		if err != nil {
			return sent, err
		}
		if !ok {
			continue // another node has it
		}
		to := r.destinations(ctx, p)
		if len(to) == 0 {
			continue
		}
		msg, err := r.build(ctx, p)
		if err == nil {
			err = r.cfg.Queue.Enqueue(ctx, r.cfg.From, to, msg)
		}
		if err != nil {
			if rerr := r.cfg.Store.ReleaseDMARC(ctx, p.Day, p.Domain); rerr != nil {
				r.cfg.Logger.Warn("giving back a DMARC report", "domain", p.Domain, "err", rerr)
			}
			return sent, err
		}
		sent++
	}
	return sent, nil
}

// destinations are the mailto: addresses of rua= that may receive the
// report: those of the domain itself, and others that say they accept
// reports for it (RFC 7489 7.1: a TXT record at
// DOMAIN._report._dmarc.DESTINATION starting with v=DMARC1).
func (r *Reporter) destinations(ctx context.Context, p store.DMARCPolicy) []string {
	var out []string
	for _, u := range strings.Split(p.RUA, ",") {
		u = strings.TrimSpace(u)
		if i := strings.LastIndexByte(u, '!'); i > 0 {
			u = u[:i] // a size limit (RFC 7489 6.2)
		}
		pu, err := url.Parse(u)
		if err != nil || !strings.EqualFold(pu.Scheme, "mailto") || !strings.Contains(pu.Opaque, "@") {
			continue
		}
		addr := pu.Opaque
		if un, err := url.PathUnescape(addr); err == nil {
			addr = un
		}
		d := domainOf(addr)
		if orgDomain(d) != orgDomain(p.Domain) {
			txts, err := r.cfg.Resolver.LookupTXT(ctx, p.Domain+"._report._dmarc."+d)
			ok := false
			for _, t := range txts {
				ok = ok || strings.HasPrefix(strings.TrimSpace(t), "v=DMARC1")
			}
			if err != nil || !ok {
				r.cfg.Logger.Info("DMARC report destination did not consent", "domain", p.Domain, "destination", d)
				continue
			}
		}
		out = append(out, addr)
	}
	return out
}

// The aggregate report's XML (RFC 7489 Appendix C).
type feedback struct {
	XMLName  xml.Name       `xml:"feedback"`
	Metadata reportMetadata `xml:"report_metadata"`
	Policy   policyXML      `xml:"policy_published"`
	Records  []recordXML    `xml:"record"`
}

type reportMetadata struct {
	OrgName  string `xml:"org_name"`
	Email    string `xml:"email"`
	ReportID string `xml:"report_id"`
	Begin    int64  `xml:"date_range>begin"`
	End      int64  `xml:"date_range>end"`
}

type policyXML struct {
	Domain string `xml:"domain"`
	ADKIM  string `xml:"adkim"`
	ASPF   string `xml:"aspf"`
	P      string `xml:"p"`
	SP     string `xml:"sp"`
	Pct    int    `xml:"pct"`
}

type recordXML struct {
	SourceIP     string       `xml:"row>source_ip"`
	Count        int64        `xml:"row>count"`
	Disposition  string       `xml:"row>policy_evaluated>disposition"`
	DKIM         string       `xml:"row>policy_evaluated>dkim"`
	SPF          string       `xml:"row>policy_evaluated>spf"`
	EnvelopeFrom string       `xml:"identifiers>envelope_from"`
	HeaderFrom   string       `xml:"identifiers>header_from"`
	DKIMResults  []authResult `xml:"auth_results>dkim"`
	SPFResults   []authResult `xml:"auth_results>spf"`
}

type authResult struct {
	Domain string `xml:"domain"`
	Result string `xml:"result"`
}

// build writes a day's report as a message (RFC 7489 7.2.1.1): a short text
// and the gzipped XML, named receiver!domain!begin!end.xml.gz.
func (r *Reporter) build(ctx context.Context, p store.DMARCPolicy) ([]byte, error) {
	rows, err := r.cfg.Store.DMARCRows(ctx, p.Day, p.Domain)
	if err != nil {
		return nil, err
	}
	begin := time.Unix(p.Day*86400, 0).UTC()
	end := begin.Add(day - time.Second)
	id := randomID()
	fb := feedback{
		Metadata: reportMetadata{OrgName: r.cfg.Hostname, Email: r.cfg.From, ReportID: id, Begin: begin.Unix(), End: end.Unix()},
		Policy:   policyXML{Domain: p.Domain, ADKIM: p.ADKIM, ASPF: p.ASPF, P: p.P, SP: p.SP, Pct: p.Pct},
	}
	for _, row := range rows {
		rec := recordXML{SourceIP: row.SourceIP, Count: row.Count, Disposition: row.Disposition, DKIM: row.DKIMAligned,
			SPF: row.SPFAligned, EnvelopeFrom: row.EnvelopeFrom, HeaderFrom: row.HeaderFrom}
		for _, d := range strings.Fields(row.DKIM) {
			dom, res, _ := strings.Cut(d, ":")
			rec.DKIMResults = append(rec.DKIMResults, authResult{Domain: dom, Result: res})
		}
		if dom, res, ok := strings.Cut(row.SPF, ":"); ok {
			rec.SPFResults = append(rec.SPFResults, authResult{Domain: dom, Result: res})
		}
		fb.Records = append(fb.Records, rec)
	}
	var x bytes.Buffer
	x.WriteString(xml.Header)
	enc := xml.NewEncoder(&x)
	enc.Indent("", " ")
	if err := enc.Encode(fb); err != nil {
		return nil, err
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(x.Bytes()); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	name := fmt.Sprintf("%s!%s!%d!%d.xml.gz", r.cfg.Hostname, p.Domain, begin.Unix(), end.Unix())

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	var m bytes.Buffer
	fmt.Fprintf(&m, "From: %s\r\nTo: %s\r\n", r.cfg.From, strings.Join(r.destinations(ctx, p), ", "))
	fmt.Fprintf(&m, "Subject: Report Domain: %s Submitter: %s Report-ID: <%s>\r\n", p.Domain, r.cfg.Hostname, id)
	fmt.Fprintf(&m, "Date: %s\r\nMessage-ID: <%s@%s>\r\nMIME-Version: 1.0\r\n", r.cfg.Now().UTC().Format(time.RFC1123Z), id, r.cfg.Hostname)
	fmt.Fprintf(&m, "Content-Type: multipart/mixed; boundary=%q\r\n\r\n", mw.Boundary())
	tp, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"text/plain; charset=utf-8"}})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(tp, "DMARC aggregate report from %s for %s, %s.\r\n", r.cfg.Hostname, p.Domain, begin.Format("2 January 2006"))
	ap, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {mime.FormatMediaType("application/gzip", map[string]string{"name": name})},
		"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": name})},
		"Content-Transfer-Encoding": {"base64"},
	})
	if err != nil {
		return nil, err
	}
	enc64 := base64.StdEncoding.EncodeToString(gz.Bytes())
	for len(enc64) > 76 {
		fmt.Fprintf(ap, "%s\r\n", enc64[:76])
		enc64 = enc64[76:]
	}
	fmt.Fprintf(ap, "%s\r\n", enc64)
	if err := mw.Close(); err != nil {
		return nil, err
	}
	m.Write(body.Bytes())
	return m.Bytes(), nil
}

func randomID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
