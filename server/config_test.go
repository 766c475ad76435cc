package server

import (
	"strings"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	cfg := Defaults()
	file := `# Wardmail
hostname = mail.nhs.test
imaps = 0.0.0.0:993   # implicit TLS
local_domains = nhs.test, nhs.uk
max_message_bytes = 1000000
hash_max_wait = 500ms
database = postgres://wardmail@db.nhs.test/mail?sslmode=verify-full
`
	if err := Parse(strings.NewReader(file), "wardmail.conf", &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Hostname != "mail.nhs.test" || cfg.IMAPSAddr != "0.0.0.0:993" || cfg.MaxMessageBytes != 1000000 ||
		cfg.HashWait != 500*time.Millisecond || len(cfg.LocalDomains) != 2 || cfg.LocalDomains[1] != "nhs.uk" ||
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
	f.Fuzz(func(t *testing.T, file string) {
		cfg := Defaults()
		err := Parse(strings.NewReader(file), "f", &cfg)
		if err != nil && !strings.HasPrefix(err.Error(), "f:") {
			t.Fatalf("error without file and line: %v", err)
		}
	})
}
