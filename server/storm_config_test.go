package server

import (
	"strings"
	"testing"
	"time"
)

// The storm breaker's and sender limits' settings, and their mistakes.
func TestParseStormConfig(t *testing.T) {
	cfg := Defaults()
	file := `storm_breaker = off
storm_min_audience = 1000
storm_replies = 5
storm_window = 30m
storm_block = 12h
storm_brake_from = 2
storm_brake_delay = 5m
sender_limits = on
sender_messages_per_minute = 60
sender_recipients_per_day = 20000
`
	if err := Parse(strings.NewReader(file), "wardmail.conf", &cfg); err != nil {
		t.Fatal(err)
	}
	if !cfg.StormOff || cfg.StormMinAudience != 1000 || cfg.StormReplies != 5 || cfg.StormWindow != 30*time.Minute ||
		cfg.StormBlock != 12*time.Hour || cfg.StormBrakeFrom != 2 || cfg.StormBrakeDelay != 5*time.Minute ||
		cfg.SenderLimitsOff || cfg.SenderPerMinute != 60 || cfg.SenderPerDay != 20000 {
		t.Fatalf("parsed %+v", cfg)
	}
	for _, tc := range []struct{ file, want string }{
		{"storm_breaker = maybe", `wardmail.conf:1: storm_breaker: "maybe" is not on or off`},
		{"storm_window = 0s", `wardmail.conf:1: storm_window: "0s" is not a duration such as 60m`},
		{"storm_replies = -1", `wardmail.conf:1: storm_replies: "-1" is not a whole number`},
	} {
		cfg := Defaults()
		if err := Parse(strings.NewReader(tc.file), "wardmail.conf", &cfg); err == nil || err.Error() != tc.want {
			t.Errorf("Parse(%q) = %v, want %q", tc.file, err, tc.want)
		}
	}
}
