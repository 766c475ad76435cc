package server

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"wardmail/scan"
)

// ScanConfig is the content scanning of every message (package scan):
// blocked attachment types always, and the engines when they are named.
// Both engines are off in the embedded default.
type ScanConfig struct {
	// RspamdURL turns on spam scoring by Rspamd's normal worker, e.g.
	// http://127.0.0.1:11333.
	RspamdURL     string        `key:"rspamd_url"`
	RspamdTimeout time.Duration `key:"rspamd_timeout"` // default 15s
	// Spam thresholds on Rspamd's score: Junk, quarantine, refuse (0 off).
	JunkScore       float64       `key:"spam_junk_score"`       // default 6
	QuarantineScore float64       `key:"spam_quarantine_score"` // default 15
	RejectScore     float64       `key:"spam_reject_score"`     // default 0: never refused for spam alone
	RspamdDown      scan.Fallback `key:"rspamd_unavailable"`    // accept (default) or tempfail
	// ClamdAddr turns on malware scanning by clamd: its unix socket path
	// (/run/clamav/clamd.ctl on Debian) or host:port.
	ClamdAddr    string        `key:"clamd_addr"`
	ClamdTimeout time.Duration `key:"clamd_timeout"`     // default 30s
	ClamdDown    scan.Fallback `key:"clamd_unavailable"` // tempfail (default) or accept
	Malware      scan.Action   `key:"malware_action"`    // reject (default) or quarantine
	// Blocked are the refused file extensions (nil: scan.DefaultBlocked;
	// "none" in the file: nothing refused by type).
	Blocked []string `key:"blocked_attachments"`
}

// setScan sets one scanning key; ok is false for a key that is not one.
func (c *Config) setScan(key, value string) (ok bool, err error) {
	sc := &c.Scan
	score := func(p *float64) error {
		f, err := strconv.ParseFloat(value, 64)
		if err != nil || f < 0 {
			return fmt.Errorf("%s: %q is not a score such as 6 or 7.5", key, value)
		}
		*p = f
		return nil
	}
	duration := func(p *time.Duration) error {
		d, err := time.ParseDuration(value)
		if err != nil || d <= 0 {
			return fmt.Errorf("%s: %q is not a duration such as 10s", key, value)
		}
		*p = d
		return nil
	}
	fallback := func(p *scan.Fallback) error {
		f, err := scan.ParseFallback(value)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		*p = f
		return nil
	}
	switch key {
	case "rspamd_url":
		if value != "" && !strings.HasPrefix(value, "http://") && !strings.HasPrefix(value, "https://") {
			return true, fmt.Errorf("%s: give an http:// URL such as http://127.0.0.1:11333", key)
		}
		sc.RspamdURL = value
	case "clamd_addr":
		sc.ClamdAddr = value
	case "rspamd_timeout":
		return true, duration(&sc.RspamdTimeout)
	case "clamd_timeout":
		return true, duration(&sc.ClamdTimeout)
	case "spam_junk_score":
		return true, score(&sc.JunkScore)
	case "spam_quarantine_score":
		return true, score(&sc.QuarantineScore)
	case "spam_reject_score":
		return true, score(&sc.RejectScore)
	case "rspamd_unavailable":
		return true, fallback(&sc.RspamdDown)
	case "clamd_unavailable":
		return true, fallback(&sc.ClamdDown)
	case "malware_action":
		a, err := scan.ParseAction(value)
		if err != nil || (a != scan.Reject && a != scan.Quarantine) {
			return true, fmt.Errorf("%s: %q is not reject or quarantine", key, value)
		}
		sc.Malware = a
	case "blocked_attachments":
		sc.Blocked = []string{}
		if strings.EqualFold(strings.TrimSpace(value), "none") {
			return true, nil
		}
		for _, e := range strings.Split(value, ",") {
			if e = strings.TrimSpace(e); e != "" {
				sc.Blocked = append(sc.Blocked, e)
			}
		}
	default:
		return false, nil
	}
	return true, nil
}

// newScanner builds the scanner the pipeline asks about every message.
func newScanner(sc ScanConfig, cfg Config) *scan.Scanner {
	c := scan.Config{Blocked: sc.Blocked, JunkScore: sc.JunkScore, QuarantineScore: sc.QuarantineScore,
		RejectScore: sc.RejectScore, Malware: sc.Malware, ClamdDown: sc.ClamdDown, RspamdDown: sc.RspamdDown, Now: cfg.Now}
	if sc.RspamdURL != "" {
		c.Rspamd = &scan.Rspamd{URL: sc.RspamdURL, Timeout: sc.RspamdTimeout}
	}
	if sc.ClamdAddr != "" {
		c.Clamd = &scan.Clamd{Addr: sc.ClamdAddr, Timeout: sc.ClamdTimeout}
	}
	return scan.New(c)
}
