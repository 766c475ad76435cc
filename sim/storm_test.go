package sim

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A small replay end to end, through the real doors: with protection, at
// most 10 reply-alls get through and the chart is written; without, every
// one is accepted. Figures are printed, not asserted.
func TestReplayStormSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a server and clients for some seconds")
	}
	for _, on := range []bool{true, false} {
		chart := filepath.Join(t.TempDir(), "chart.svg")
		res, err := ReplayStorm(context.Background(), StormConfig{Scenario: "reply-all-storm", Protection: on, People: 20000, Orgs: 40,
			Seed: 1, StormListSize: 3000, Readers: 8, OpenEvery: time.Second, Senders: 4, SendEvery: time.Second, Replies: 25,
			Duration: 6 * time.Second, Chart: chart})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("\n%s", res)
		if on && (res.StormAccepted > 10 || res.StormRefused["550 5.7.1"] != res.StormSent-res.StormAccepted) {
			t.Errorf("protection on: %d accepted, refused %v", res.StormAccepted, res.StormRefused)
		}
		if !on && res.StormAccepted != res.StormSent {
			t.Errorf("protection off: %d of %d accepted", res.StormAccepted, res.StormSent)
		}
		if res.PurgeTouched == 0 {
			t.Errorf("the purge through the admin API touched no mailbox")
		}
		if res.ListSize < 2500 || res.Open["before"].N == 0 || res.Direct["during"].N == 0 {
			t.Errorf("result: %+v", res)
		}
		var buf bytes.Buffer
		if err := writeStormChart(&buf, res); err != nil || !strings.Contains(buf.String(), "<polyline") {
			t.Errorf("chart: %v", err)
		}
	}
}
