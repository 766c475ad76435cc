package bench

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"wardmail/sim"
)

// The steps of one mailbox open in the flood, so that a slow open says
// where its time went: connecting (TCP, greeting, STARTTLS), LOGIN, SELECT
// (which takes in the member's pending list posts) and UID FETCH 1:*.

// floodOpen is one timed open.
type floodOpen struct {
	user                       string
	connect, login, sel, fetch time.Duration
	total                      time.Duration
	messages                   uint32        // EXISTS after SELECT
	tookIn                     int64         // messages SELECT added since this member's last open (-1: first open)
	at                         time.Duration // since the flood started
}

// FloodSteps are per-step percentiles of one phase's opens.
type FloodSteps struct {
	Opens        int     `json:"opens"`
	ConnectP99Ms float64 `json:"connect_p99_ms"`
	LoginP99Ms   float64 `json:"login_p99_ms"`
	SelectP50Ms  float64 `json:"select_p50_ms"`
	SelectP99Ms  float64 `json:"select_p99_ms"`
	FetchP50Ms   float64 `json:"fetch_p50_ms"`
	FetchP99Ms   float64 `json:"fetch_p99_ms"`
	// WriteWaitP99Ms is the group commit's p99 from queueing a write to
	// its durable commit in this phase, as the server's histogram
	// wardmail_store_write_seconds bounds it (the upper edge of a bucket);
	// WriteWaitMeanMs its mean, CommitMeanMs a batch's run and commit.
	WriteWaitP99Ms  float64 `json:"write_wait_p99_ms"`
	WriteWaitMeanMs float64 `json:"write_wait_mean_ms"`
	Writes          float64 `json:"writes"`
	CommitMeanMs    float64 `json:"commit_mean_ms"`
	Materialised    float64 `json:"materialised"`
	ServerCPUSec    float64 `json:"server_cpu_seconds"`
	Load            float64 `json:"load_average"`
	// Server is the IMAP door's own timing of each command (from command
	// read to answer written), so that the client's time can be split into
	// the server's and the rest (scheduling, the client's parsing).
	Server []ServerCommand `json:"server_commands"`
}

// ServerCommand is the server's timing of one IMAP command in a phase: the
// mean and the upper bound of the histogram bucket holding the p99.
type ServerCommand struct {
	Command string  `json:"command"`
	Count   float64 `json:"count"`
	MeanMs  float64 `json:"mean_ms"`
	P99Ms   float64 `json:"p99_le_ms"`
}

func floodSteps(opens []floodOpen, m0, m1 map[string]float64, cpu float64, load float64) FloodSteps {
	pick := func(f func(floodOpen) time.Duration, p int) float64 {
		d := make([]time.Duration, len(opens))
		for i, o := range opens {
			d[i] = f(o)
		}
		return sim.PercentileMs(d, p)
	}
	s := FloodSteps{Opens: len(opens), ServerCPUSec: cpu, Load: load,
		ConnectP99Ms: pick(func(o floodOpen) time.Duration { return o.connect }, 99),
		LoginP99Ms:   pick(func(o floodOpen) time.Duration { return o.login }, 99),
		SelectP50Ms:  pick(func(o floodOpen) time.Duration { return o.sel }, 50),
		SelectP99Ms:  pick(func(o floodOpen) time.Duration { return o.sel }, 99),
		FetchP50Ms:   pick(func(o floodOpen) time.Duration { return o.fetch }, 50),
		FetchP99Ms:   pick(func(o floodOpen) time.Duration { return o.fetch }, 99),
	}
	if m0 != nil && m1 != nil {
		const w = "wardmail_store_write_seconds"
		s.Writes = m1[w+"_count"] - m0[w+"_count"]
		if s.Writes > 0 {
			s.WriteWaitMeanMs = 1000 * (m1[w+"_sum"] - m0[w+"_sum"]) / s.Writes
		}
		s.WriteWaitP99Ms = 1000 * histQuantile(m0, m1, w+`_bucket{le="`, 0.99)
		for _, cmd := range []string{"LOGIN", "SELECT", "UID FETCH"} {
			const h = "wardmail_imap_command_seconds"
			l := `{command="` + cmd + `"}`
			n := m1[h+"_count"+l] - m0[h+"_count"+l]
			if n == 0 {
				continue
			}
			s.Server = append(s.Server, ServerCommand{Command: cmd, Count: n,
				MeanMs: 1000 * (m1[h+"_sum"+l] - m0[h+"_sum"+l]) / n,
				P99Ms:  1000 * histQuantile(m0, m1, h+`_bucket{command="`+cmd+`",le="`, 0.99)})
		}
		const c = "wardmail_store_commit_seconds"
		if n := m1[c+"_count"] - m0[c+"_count"]; n > 0 {
			s.CommitMeanMs = 1000 * (m1[c+"_sum"] - m0[c+"_sum"]) / n
		}
		s.Materialised = m1["wardmail_store_materialised_total"] - m0["wardmail_store_materialised_total"]
	}
	return s
}

// histQuantile is the upper bound of the bucket holding quantile q of
// what a Prometheus histogram counted between two scrapes (+Inf: beyond
// the last bound).
func histQuantile(m0, m1 map[string]float64, prefix string, q float64) float64 {
	type bucket struct{ le, n float64 }
	var bs []bucket
	for k, v := range m1 {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		le, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimPrefix(k, prefix), `"}`), 64)
		if err != nil {
			continue
		}
		bs = append(bs, bucket{le, v - m0[k]})
	}
	slices.SortFunc(bs, func(a, b bucket) int {
		switch {
		case a.le < b.le:
			return -1
		case a.le > b.le:
			return 1
		}
		return 0
	})
	if len(bs) == 0 || bs[len(bs)-1].n == 0 {
		return 0
	}
	want := q * bs[len(bs)-1].n
	for _, b := range bs {
		if b.n >= want {
			return b.le
		}
	}
	return math.Inf(1)
}

func (s FloodSteps) print(w io.Writer, phase string) {
	fmt.Fprintf(w, "  %-7s %3d opens: p99 connect %.1f, LOGIN %.1f, SELECT %.1f (p50 %.1f), FETCH %.1f (p50 %.1f) ms; group commit: %.0f writes, wait mean %.1f ms, p99 ≤ %.0f ms, commit mean %.1f ms; %.0f posts materialised; server CPU %.2f s; load %.1f\n",
		phase, s.Opens, s.ConnectP99Ms, s.LoginP99Ms, s.SelectP99Ms, s.SelectP50Ms, s.FetchP99Ms, s.FetchP50Ms,
		s.Writes, s.WriteWaitMeanMs, s.WriteWaitP99Ms, s.CommitMeanMs, s.Materialised, s.ServerCPUSec, s.Load)
	for _, c := range s.Server {
		fmt.Fprintf(w, "          server's %s: %.0f, mean %.1f ms, p99 ≤ %.1f ms\n", c.Command, c.Count, c.MeanMs, c.P99Ms)
	}
}

// printSlowest writes the n slowest opens of a phase, step by step.
func printSlowest(w io.Writer, opens []floodOpen, n int) {
	s := slices.Clone(opens)
	slices.SortFunc(s, func(a, b floodOpen) int { return int(b.total - a.total) })
	for _, o := range s[:min(n, len(s))] {
		took := "first open"
		if o.tookIn >= 0 {
			took = fmt.Sprintf("+%d since last", o.tookIn)
		}
		fmt.Fprintf(w, "    %6.1f ms at %5.1f s: connect %.1f, LOGIN %.1f, SELECT %.1f, FETCH %.1f ms; %d messages (%s)\n",
			ms(o.total), o.at.Seconds(), ms(o.connect), ms(o.login), ms(o.sel), ms(o.fetch), o.messages, took)
	}
}

// FloodBurst describes the opens that began while the senders were posting.
type FloodBurst struct {
	Opens       int     `json:"opens"`
	P50Ms       float64 `json:"p50_ms"`
	P90Ms       float64 `json:"p90_ms"`
	MaxMs       float64 `json:"max_ms"`
	SelectP50Ms float64 `json:"select_p50_ms"`
	SelectMaxMs float64 `json:"select_max_ms"`
}

func floodBurst(opens []floodOpen, posting time.Duration) FloodBurst {
	var total, sel []time.Duration
	for _, o := range opens {
		if o.at < posting {
			total = append(total, o.total)
			sel = append(sel, o.sel)
		}
	}
	if len(total) == 0 {
		return FloodBurst{}
	}
	return FloodBurst{Opens: len(total), P50Ms: sim.PercentileMs(total, 50), P90Ms: sim.PercentileMs(total, 90),
		MaxMs: ms(slices.Max(total)), SelectP50Ms: sim.PercentileMs(sel, 50), SelectMaxMs: ms(slices.Max(sel))}
}

func (b FloodBurst) print(w io.Writer) {
	if b.Opens == 0 {
		return
	}
	fmt.Fprintf(w, "  burst   %3d opens begun while the senders posted: p50 %.1f, p90 %.1f, max %.1f ms; SELECT p50 %.1f, max %.1f ms\n",
		b.Opens, b.P50Ms, b.P90Ms, b.MaxMs, b.SelectP50Ms, b.SelectMaxMs)
}
