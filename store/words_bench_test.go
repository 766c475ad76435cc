package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"wardmail/message"
	"wardmail/store/storetest"
)

// BenchmarkIndexWords indexes b.N delivered bodies of about 2 KB of text
// (300 words from a clinical vocabulary of 5,000, each body distinct), as
// the node holding the word-index lease does for every message the cluster
// accepts. It reports the indexing process's CPU per body (user + system,
// getrusage), which is what one node must have spare per delivered body;
// with WARDMAIL_TEST_POSTGRES the database server's share is not included.
func BenchmarkIndexWords(b *testing.B) {
	ctx := context.Background()
	s := storetest.Open(b, storetest.Options{IndexEvery: -1})
	ids := addPeopleB(b, s, []string{"ben@nhs.test"})
	rng := rand.New(rand.NewPCG(1, 2))
	stems := []string{"obs", "ward", "bed", "discharge", "handover", "patient", "chart", "dose", "review", "clinic",
		"referral", "bloods", "scan", "theatre", "consultant", "nurse", "pharmacy", "admission", "plan", "result"}
	vocab := make([]string, 5000)
	for i := range vocab {
		vocab[i] = fmt.Sprintf("%s%d", stems[i%len(stems)], i/len(stems))
	}
	for i := range b.N {
		var sb strings.Builder
		fmt.Fprintf(&sb, "From: amira@nhs.test\r\nTo: ben@nhs.test\r\nSubject: handover %d\r\n\r\n", i)
		for w := range 300 {
			sb.WriteString(vocab[rng.IntN(len(vocab))])
			if w%12 == 11 {
				sb.WriteString(".\r\n")
			} else {
				sb.WriteByte(' ')
			}
		}
		body := []byte(sb.String())
		sum, err := message.Summarize(body)
		if err != nil {
			b.Fatal(err)
		}
		c, err := s.PrepareContent(ctx, body, sum.Marshal())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Deliver(ctx, c, ids, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	cpu0, pg0 := cpuTime(b), postgresCPU()
	b.ResetTimer()
	done := 0
	for {
		n, err := s.IndexWords(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			break
		}
		done += n
	}
	b.StopTimer()
	if done != b.N {
		b.Fatalf("indexed %d bodies of %d", done, b.N)
	}
	b.ReportMetric(float64((cpuTime(b)-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/body")
	if pg := postgresCPU(); pg0 > 0 && pg > 0 {
		b.ReportMetric(float64((pg-pg0).Microseconds())/1000/float64(b.N), "pg-cpu-ms/body")
	}
}

// postgresCPU is the CPU time of the PostgreSQL server the tests run on, when
// it is a local cluster this process may read (scripts/test-postgres.sh):
// the postmaster's own and its reaped children's, and its live backends'.
// 0 when it cannot be read. Other databases' work on the same server counts
// too: run the benchmark alone.
func postgresCPU() time.Duration {
	u, err := url.Parse(os.Getenv(storetest.Env))
	if err != nil || u.Query().Get("host") == "" {
		return 0
	}
	pidFile, err := os.ReadFile(filepath.Join(u.Query().Get("host"), "data", "postmaster.pid"))
	if err != nil {
		return 0
	}
	master := strings.SplitN(string(pidFile), "\n", 2)[0]
	ticks := func(stat string, fields ...int) (n int64) {
		for _, i := range fields {
			v, _ := strconv.ParseInt(strings.Fields(stat)[i], 10, 64)
			n += v
		}
		return n
	}
	var total int64
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// Fields after the command's closing parenthesis: state is 0,
		// ppid 1, utime 11, stime 12, cutime 13, cstime 14.
		stat := string(b)
		stat = stat[strings.LastIndexByte(stat, ')')+2:]
		pid := strings.TrimSuffix(strings.TrimPrefix(p, "/proc/"), "/stat")
		switch {
		case pid == master:
			total += ticks(stat, 11, 12, 13, 14)
		case strings.Fields(stat)[1] == master:
			total += ticks(stat, 11, 12)
		}
	}
	return time.Duration(total) * time.Second / 100 // USER_HZ
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
