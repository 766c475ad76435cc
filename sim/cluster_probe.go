package sim

import (
	"crypto/tls"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"wardmail/localcluster"
)

// clockTicks is the kernel's USER_HZ, the unit of /proc/PID/stat's times
// (100 on every Linux architecture Go supports).
const clockTicks = 100

// procTimes is what /proc/PID/stat says of a process: CPU seconds it used
// itself, CPU seconds of its children it has reaped, its parent and its
// resident memory in pages.
type procTimes struct {
	self, children float64
	ppid           int
	rssPages       int64
}

// parseProcStat reads one /proc/PID/stat line (proc(5)). The command name
// is in parentheses and may hold spaces or parentheses itself, so the
// fields are counted from the last ')'.
func parseProcStat(line string) (procTimes, error) {
	var t procTimes
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return t, fmt.Errorf("no command name in %q", line)
	}
	// After ")": state(3) ppid(4) ... utime(14) stime(15) cutime(16)
	// cstime(17) ... rss(24); f[0] is field 3.
	f := strings.Fields(line[i+1:])
	if len(f) < 22 {
		return t, fmt.Errorf("%d fields after the command name, want 22 or more", len(f))
	}
	num := func(k int) (int64, error) { return strconv.ParseInt(f[k-3], 10, 64) }
	var v [5]int64
	for j, k := range []int{14, 15, 16, 17, 24} {
		n, err := num(k)
		if err != nil {
			return t, fmt.Errorf("field %d: %w", k, err)
		}
		v[j] = n
	}
	ppid, err := num(4)
	if err != nil {
		return t, fmt.Errorf("field 4: %w", err)
	}
	t.self = float64(v[0]+v[1]) / clockTicks
	t.children = float64(v[2]+v[3]) / clockTicks
	t.ppid, t.rssPages = int(ppid), v[4]
	return t, nil
}

func readProc(pid int) (procTimes, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procTimes{}, err
	}
	return parseProcStat(string(b))
}

// cpuSeconds is the CPU a process used, 0 when it cannot be read.
func cpuSeconds(pid int) float64 {
	if pid <= 0 {
		return 0
	}
	t, err := readProc(pid)
	if err != nil {
		return 0
	}
	return t.self
}

// treeCPUSeconds is the CPU of a process, of the children it has reaped,
// and of its live children: PostgreSQL's postmaster and its backends.
func treeCPUSeconds(pid int) float64 {
	if pid <= 0 {
		return 0
	}
	root, err := readProc(pid)
	if err != nil {
		return 0
	}
	total := root.self + root.children
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return total
	}
	for _, e := range ents {
		child, err := strconv.Atoi(e.Name())
		if err != nil || child == pid {
			continue
		}
		if t, err := readProc(child); err == nil && t.ppid == pid {
			total += t.self
		}
	}
	return total
}

// rssBytes is a process's resident memory.
func rssBytes(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	t, err := readProc(pid)
	if err != nil {
		return 0
	}
	return t.rssPages * int64(os.Getpagesize())
}

// scrapeMetrics reads a node's /metrics and sums what the sim reports:
// object-store requests and bytes by operation, group commits, list posts
// materialised, mailbox deliveries.
func scrapeMetrics(httpAddr string, tlsc *tls.Config) (map[string]float64, error) {
	c := httpClient(tlsc)
	c.Timeout = 10 * time.Second
	resp, err := c.Get("https://" + httpAddr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("/metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	add := func(family, key, label string) {
		f := fams[family]
		if f == nil {
			return
		}
		for _, m := range f.GetMetric() {
			k := key
			for _, l := range m.GetLabel() {
				if l.GetName() == label {
					k += "_" + l.GetValue()
				}
			}
			out[k] += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	add("wardmail_s3_requests_total", "s3_requests", "op")
	add("wardmail_s3_bytes_total", "s3_bytes", "op")
	add("wardmail_store_commits_total", "store_commits", "")
	add("wardmail_store_materialised_total", "materialised", "")
	add("wardmail_store_mailbox_deliveries_total", "deliveries", "")
	add("wardmail_store_bodies_word_indexed_total", "words_indexed", "")
	add("go_memstats_heap_inuse_bytes", "go_inuse", "")
	add("go_memstats_stack_inuse_bytes", "go_inuse", "")
	return out, nil
}

// pgCounters are PostgreSQL's own counters (localcluster.PGCounters).
type pgCounters = localcluster.PGCounters
