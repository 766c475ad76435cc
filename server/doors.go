package server

import (
	"log/slog"
	"time"

	"wardmail/connlimit"
)

// Default connection caps per door (DESIGN section 8): in total, and from
// one client network (a /24 or /56; a hospital behind one NAT address is
// one network, so the IMAP and HTTP shares are generous). They suit a
// process allowed many open files (serve raises its soft limit to the hard
// one, commonly 524,288 or more); fitDoors scales them down to fit a
// smaller limit.
var doorDefaults = []struct {
	door          string
	total, perNet int
}{
	{"smtp", 1000, 50},
	{"submission", 2000, 200},
	{"imap", 20000, 1000},
	{"http", 10000, 1000},
}

// Time limits' defaults.
const (
	defSMTPSession     = 10 * time.Minute // Postfix reuses a connection for up to 5 minutes
	defPreAuthSession  = 2 * time.Minute
	defSMTPCommand     = 5 * time.Minute // RFC 5321 4.5.3.2.7
	defSMTPData        = time.Minute
	defMinRate         = 10 << 10 // bytes a second: a 35 MiB message may take an hour
	defIMAPPreAuthIdle = 60 * time.Second
	defIMAPIdle        = 30 * time.Minute // RFC 9051 5.4; clients re-IDLE each 29 minutes
	defHTTPHeader      = 10 * time.Second
	defHTTPBody        = 30 * time.Second
	defHTTPIdle        = 2 * time.Minute
)

// fileReserve is what the doors leave of the open-file limit for the
// database, blobs being written and the rest of the process.
func fileReserve(nofile uint64) uint64 { return max(256, nofile/10) }

// fitDoors returns each door's connection caps: the configured ones, and
// the defaults for the rest, scaled down when the doors' totals would not
// fit the open-file limit nofile (0: unknown, nothing scaled).
func fitDoors(cfg *Config, nofile uint64, log *slog.Logger) map[string]connlimit.Limits {
	set := map[string][2]int{
		"smtp":       {cfg.SMTPMaxConns, cfg.SMTPMaxConnsPerNet},
		"submission": {cfg.SubmissionMaxConns, cfg.SubmissionMaxConnsPerNet},
		"imap":       {cfg.IMAPMaxConns, cfg.IMAPMaxConnsPerNet},
		"http":       {cfg.HTTPMaxConns, cfg.HTTPMaxConnsPerNet},
	}
	var configured, defaults uint64
	for _, d := range doorDefaults {
		if t := set[d.door][0]; t > 0 {
			configured += uint64(t)
		} else {
			defaults += uint64(d.total)
		}
	}
	scale := 1.0
	if nofile > 0 {
		budget := nofile - min(nofile, fileReserve(nofile))
		if configured+defaults > budget {
			if configured >= budget {
				log.Warn("the configured connection caps exceed the open-file limit; accept errors will be retried",
					"caps", configured, "open_file_limit", nofile)
				scale = 0 // every default becomes 1
			} else if defaults > 0 {
				scale = float64(budget-configured) / float64(defaults)
			}
			log.Info("connection caps scaled to the open-file limit", "open_file_limit", nofile, "scale", scale)
		}
	}
	out := map[string]connlimit.Limits{}
	for _, d := range doorDefaults {
		total, perNet := set[d.door][0], set[d.door][1]
		if total <= 0 {
			total = max(1, int(float64(d.total)*scale))
		}
		if perNet <= 0 {
			perNet = max(1, min(total, int(float64(d.perNet)*scale)))
		}
		out[d.door] = connlimit.Limits{Total: total, PerNetwork: perNet}
	}
	return out
}

// orDefault returns v, or d when v is zero.
func orDefault[T int64 | time.Duration](v, d T) T {
	if v <= 0 {
		return d
	}
	return v
}
