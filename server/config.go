package server

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is everything `wardmail serve` can be told. Fields carry the
// config-file key they are set by; command-line flags override the file.
type Config struct {
	DataDir  string `key:"data"`
	Hostname string `key:"hostname"`

	SMTPAddr        string `key:"smtp"`        // inbound, default 127.0.0.1:2525
	SubmissionAddr  string `key:"submission"`  // STARTTLS, default 127.0.0.1:2587
	SubmissionsAddr string `key:"submissions"` // implicit TLS; off unless set
	IMAPAddr        string `key:"imap"`        // STARTTLS, default 127.0.0.1:2143
	IMAPSAddr       string `key:"imaps"`       // implicit TLS; off unless set
	HTTPAddr        string `key:"http"`        // default 127.0.0.1:8080

	TLSCert string `key:"tls_cert"`
	TLSKey  string `key:"tls_key"`
	// KeyFile turns on AES-256-GCM encryption of bodies at rest.
	KeyFile string `key:"body_key_file"`

	LocalDomains    []string `key:"local_domains"` // comma-separated in the file
	MaxMessageBytes int64    `key:"max_message_bytes"`
	MaxRecipients   int      `key:"max_recipients"`
	InlineMax       int      `key:"inline_body_max"`

	// Password hashing (argon2id) and its worker pool.
	Argon2Memory  uint32        `key:"argon2_memory_kib"`
	Argon2Time    uint32        `key:"argon2_time"`
	Argon2Threads uint8         `key:"argon2_threads"`
	HashWorkers   int           `key:"hash_workers"`
	HashWait      time.Duration `key:"hash_max_wait"`

	LogLevel string `key:"log_level"` // debug, info, warn, error
}

// Defaults returns the embedded default configuration.
func Defaults() Config {
	host, _ := os.Hostname()
	if host == "" {
		host = "localhost"
	}
	return Config{
		DataDir:        "data",
		Hostname:       host,
		SMTPAddr:       "127.0.0.1:2525",
		SubmissionAddr: "127.0.0.1:2587",
		IMAPAddr:       "127.0.0.1:2143",
		HTTPAddr:       "127.0.0.1:8080",
		HashWait:       2 * time.Second,
		LogLevel:       "info",
	}
}

// LoadFile reads a config file of "key = value" lines ('#' starts a
// comment) into cfg. Unknown keys and bad values are errors that name the
// file and line.
func LoadFile(path string, cfg *Config) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return Parse(f, path, cfg)
}

// Parse reads config lines from r; name is used in error messages.
func Parse(r io.Reader, name string, cfg *Config) error {
	sc := bufio.NewScanner(io.LimitReader(r, 1<<20))
	sc.Buffer(make([]byte, 4096), 4096)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = strings.TrimSpace(text[:i])
		}
		if text == "" {
			continue
		}
		key, value, ok := strings.Cut(text, "=")
		if !ok {
			return fmt.Errorf("%s:%d: want key = value", name, line)
		}
		if err := cfg.Set(strings.TrimSpace(key), strings.TrimSpace(value)); err != nil {
			return fmt.Errorf("%s:%d: %w", name, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	return nil
}

// Set sets one setting by its config-file key.
func (c *Config) Set(key, value string) error {
	str := map[string]*string{
		"data": &c.DataDir, "hostname": &c.Hostname, "smtp": &c.SMTPAddr, "submission": &c.SubmissionAddr,
		"submissions": &c.SubmissionsAddr, "imap": &c.IMAPAddr, "imaps": &c.IMAPSAddr, "http": &c.HTTPAddr,
		"tls_cert": &c.TLSCert, "tls_key": &c.TLSKey, "body_key_file": &c.KeyFile, "log_level": &c.LogLevel,
	}
	if p, ok := str[key]; ok {
		*p = value
		return nil
	}
	num := func(bits int) (uint64, error) {
		n, err := strconv.ParseUint(value, 10, bits)
		if err != nil {
			return 0, fmt.Errorf("%s: %q is not a whole number", key, value)
		}
		return n, nil
	}
	var err error
	var n uint64
	switch key {
	case "local_domains":
		c.LocalDomains = nil
		for _, d := range strings.Split(value, ",") {
			if d = strings.TrimSpace(d); d != "" {
				c.LocalDomains = append(c.LocalDomains, d)
			}
		}
	case "max_message_bytes":
		n, err = num(40)
		c.MaxMessageBytes = int64(n)
	case "max_recipients":
		n, err = num(20)
		c.MaxRecipients = int(n)
	case "inline_body_max":
		n, err = num(24)
		c.InlineMax = int(n)
	case "argon2_memory_kib":
		n, err = num(32)
		c.Argon2Memory = uint32(n)
	case "argon2_time":
		n, err = num(8)
		c.Argon2Time = uint32(n)
	case "argon2_threads":
		n, err = num(8)
		c.Argon2Threads = uint8(n)
	case "hash_workers":
		n, err = num(16)
		c.HashWorkers = int(n)
	case "hash_max_wait":
		c.HashWait, err = time.ParseDuration(value)
		if err != nil {
			err = fmt.Errorf("%s: %q is not a duration such as 2s", key, value)
		}
	default:
		return fmt.Errorf("unknown setting %q", key)
	}
	return err
}
