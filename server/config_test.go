package server

import (
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"wardmail/connlimit"
)

func TestParseConfig(t *testing.T) {
	cfg := Defaults()
	file := `# Wardmail
hostname = mail.nhs.test
imaps = 0.0.0.0:993   # implicit TLS
local_domains = nhs.test, nhs.uk
max_message_bytes = 1000000
hash_max_wait = 500ms
imap_max_connections = 5000
imap_max_connections_per_network = 300
smtp_session_limit = 15m
smtp_data_min_rate = 2048
database = postgres://wardmail@db.nhs.test/mail?sslmode=verify-full
`
	if err := Parse(strings.NewReader(file), "wardmail.conf", &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Hostname != "mail.nhs.test" || cfg.IMAPSAddr != "0.0.0.0:993" || cfg.MaxMessageBytes != 1000000 ||
		cfg.HashWait != 500*time.Millisecond || len(cfg.LocalDomains) != 2 || cfg.LocalDomains[1] != "nhs.uk" ||
		cfg.IMAPMaxConns != 5000 || cfg.IMAPMaxConnsPerNet != 300 || cfg.SMTPSessionLimit != 15*time.Minute || cfg.SMTPDataMinRate != 2048 ||
		cfg.Database != "postgres://wardmail@db.nhs.test/mail?sslmode=verify-full" {
		t.Fatalf("parsed %+v", cfg)
	}
	if cfg.SMTPAddr != "127.0.0.1:2525" {
		t.Errorf("a setting not in the file lost its default: smtp = %q", cfg.SMTPAddr)
	}
}

func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"hostname mail", "wardmail.conf:1: want key = value"},
		{"\n\nsmtpp = :25", `wardmail.conf:3: unknown setting "smtpp"`},
		{"max_recipients = many", `wardmail.conf:1: max_recipients: "many" is not a whole number`},
		{"hash_max_wait = soon", `wardmail.conf:1: hash_max_wait: "soon" is not a duration such as 2s`},
		{"http_max_connections = -1", `wardmail.conf:1: http_max_connections: "-1" is not a whole number`},
		{"preauth_session_limit = 2", `wardmail.conf:1: preauth_session_limit: "2" is not a duration such as 2m`},
		{"x = " + strings.Repeat("y", 5000), "wardmail.conf:1: bufio.Scanner: token too long"},
		{"database = mysql://root:secret@db/mail", "wardmail.conf:1: database: give a postgres:// URL, or nothing for the embedded SQLite database"},
	} {
		cfg := Defaults()
		err := Parse(strings.NewReader(tc.file), "wardmail.conf", &cfg)
		if err == nil || err.Error() != tc.want {
			t.Errorf("Parse(%.30q) = %v, want %q", tc.file, err, tc.want)
		}
	}
}

func FuzzConfig(f *testing.F) {
	f.Add("hostname = a\nsmtp = :25\n")
	f.Add("max_message_bytes = 99999999999999999999")
	f.Add("# only a comment")
	f.Add("smtp_max_connections_per_network = 50\nhttp_body_timeout = 30s\nsmtp_data_min_rate = 10240\n")
	f.Add("imap_idle_timeout = -5m")
	f.Fuzz(func(t *testing.T, file string) {
		cfg := Defaults()
		err := Parse(strings.NewReader(file), "f", &cfg)
		if err != nil && !strings.HasPrefix(err.Error(), "f:") {
			t.Fatalf("error without file and line: %v", err)
		}
	})
}

// The default connection caps fit the open-file limit: scaled down when it
// is small, as they are when it is large; configured caps are kept.
func TestDoorCapsFitTheFileLimit(t *testing.T) {
	sum := func(caps map[string]connlimit.Limits) (n int) {
		for door, l := range caps {
			if l.PerNetwork < 1 || l.PerNetwork > l.Total {
				t.Errorf("%s: %d per network of %d", door, l.PerNetwork, l.Total)
			}
			n += l.Total
		}
		return n
	}
	log := slog.New(slog.DiscardHandler)
	cfg := Defaults()
	if n := sum(fitDoors(&cfg, 1024, log)); n > 1024-256 {
		t.Errorf("with 1,024 open files the doors take %d", n)
	}
	big := fitDoors(&cfg, 1<<20, log)
	if big["smtp"].Total != 1000 || big["imap"].PerNetwork != 1000 {
		t.Errorf("with 1,048,576 open files: %+v, want the defaults", big)
	}
	cfg.SMTPMaxConns, cfg.SMTPMaxConnsPerNet = 100, 7
	caps := fitDoors(&cfg, 4096, log)
	if caps["smtp"] != (connlimit.Limits{Total: 100, PerNetwork: 7}) {
		t.Errorf("configured smtp caps: %+v", caps["smtp"])
	}
	if n := sum(caps); n > 4096-409 {
		t.Errorf("with 4,096 open files the doors take %d", n)
	}
}

// Every setting a field names with its key tag can be set from the config
// file: a key documented but unknown to Set would fail at start.
func TestEveryKeyIsSettable(t *testing.T) {
	var cfg Config
	typ := reflect.TypeOf(cfg)
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		key := f.Tag.Get("key")
		if key == "" {
			continue
		}
		value := map[reflect.Kind]string{reflect.String: "127.0.0.1:53", reflect.Bool: "off",
			reflect.Int: "3", reflect.Int64: "3", reflect.Uint32: "3", reflect.Uint8: "3", reflect.Slice: "nhs.test"}[f.Type.Kind()]
		// Settings whose values are constrained get one they accept.
		if v, ok := map[string]string{
			"database": "postgres://db.example/wardmail", "log_level": "warn",
			"mta_sts_mode": "enforce", "mta_sts_max_age": "24h",
		}[key]; ok {
			value = v
		} else if f.Type == reflect.TypeOf(time.Duration(0)) {
			value = "90s"
		}
		if err := cfg.Set(key, value); err != nil {
			t.Errorf("%s = %s: %v", key, value, err)
			continue
		}
		if f.Type.Kind() != reflect.Bool && reflect.ValueOf(cfg).Field(i).IsZero() {
			t.Errorf("%s = %s left %s unset", key, value, f.Name)
		}
	}
}
