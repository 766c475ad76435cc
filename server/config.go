package server

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is everything `wardmail serve` can be told. Fields carry the
// config-file key they are set by; command-line flags override the file.
type Config struct {
	DataDir string `key:"data"`
	// Database is a postgres:// URL for several nodes sharing one
	// PostgreSQL database (bodies stay in DATA/blobs, which the nodes
	// share). Empty: the embedded SQLite database in the data folder.
	Database string `key:"database"`
	Hostname string `key:"hostname"`
	// DKIMKeyDir holds the DKIM keys of every local domain (default
	// DATA/dkim); nodes sharing a database point it at one shared folder.
	DKIMKeyDir string `key:"dkim_key_dir"`
	// NodeName names this process among the nodes sharing a database
	// (`wardmail cluster status`); each node needs its own. Empty: the
	// machine's host name.
	NodeName string `key:"node_name"`
	// DNSResolver is the resolver (host:port) every DNS lookup goes to:
	// SPF, DKIM and DMARC for mail that arrives, MX and TLSA for mail that
	// leaves (package netdns). Empty: the system's resolver.
	DNSResolver string `key:"dns_resolver"`

	SMTPAddr        string `key:"smtp"`        // inbound, default 127.0.0.1:2525
	SubmissionAddr  string `key:"submission"`  // STARTTLS, default 127.0.0.1:2587
	SubmissionsAddr string `key:"submissions"` // implicit TLS; off unless set
	IMAPAddr        string `key:"imap"`        // STARTTLS, default 127.0.0.1:2143
	IMAPSAddr       string `key:"imaps"`       // implicit TLS; off unless set
	HTTPAddr        string `key:"http"`        // HTTPS, default 127.0.0.1:8080
	// HTTPPlain serves plain HTTP on the HTTP door, for running behind a
	// proxy that terminates TLS. Off by default: TLS on every door.
	HTTPPlain bool `key:"http_plain"`

	TLSCert string `key:"tls_cert"`
	TLSKey  string `key:"tls_key"`
	// KeyFile turns on AES-256-GCM encryption of bodies at rest.
	KeyFile string `key:"body_key_file"`
	// SignInKeyFile holds the key wrong-password fingerprints are keyed
	// with (default DATA/signin.key, made on the first start).
	SignInKeyFile string `key:"signin_key_file"`
	// TOTPKeyFile seals TOTP secrets at rest (default DATA/totp.key, made
	// on the first start).
	TOTPKeyFile string `key:"totp_key_file"`

	// Bodies in an S3-compatible object store (blob/s3blob) instead of
	// DATA/blobs, so that several nodes share them; off unless s3_endpoint
	// is set. The secret key is read from a file, never from this file.
	S3Endpoint      string `key:"s3_endpoint"` // host:port of the S3 API
	S3Bucket        string `key:"s3_bucket"`
	S3Prefix        string `key:"s3_prefix"`
	S3Region        string `key:"s3_region"`
	S3AccessKey     string `key:"s3_access_key"`
	S3SecretKeyFile string `key:"s3_secret_key_file"`
	S3CAFile        string `key:"s3_ca_file"`  // PEM roots for the endpoint's certificate; empty: the system's
	S3Insecure      bool   `key:"s3_insecure"` // plain HTTP to the endpoint (a loopback gateway only)
	// S3Timeout bounds each call to the object store, retries included
	// (default 10s): what a submission or a FETCH waits at most before
	// its temporary failure when the store hangs.
	S3Timeout time.Duration `key:"s3_timeout"`

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

	// Smart lockout (DESIGN section 5); zero keeps lockout.DefaultPolicy.
	LockoutThreshold         int           `key:"lockout_threshold"`
	LockoutFamiliarThreshold int           `key:"lockout_familiar_threshold"`
	LockoutAccountThreshold  int           `key:"lockout_account_threshold"`
	LockoutBase              time.Duration `key:"lockout_duration"`
	LockoutMax               time.Duration `key:"lockout_max_duration"`
	LockoutNetworkThreshold  int           `key:"lockout_network_threshold"`
	LockoutNetworkWindow     time.Duration `key:"lockout_network_window"`
	SignInSlowLookup         time.Duration `key:"signin_slow_lookup"`

	// List governance (DESIGN section 4); zero keeps lists.DefaultGovernance.
	ListSendersOnlyAbove int64 `key:"list_senders_only_above"` // default 500
	ListApprovalAbove    int64 `key:"list_approval_above"`     // default 50,000
	ListApprovals        int   `key:"list_approvals"`          // default 2
	ListDriftPercent     int64 `key:"list_drift_percent"`      // default 110
	ListHoldDays         int   `key:"list_hold_days"`          // default 7
	ConfirmAudienceAbove int64 `key:"confirm_audience_above"`  // default 2,500
	// PostTrickle is how often the idle-time trickle looks for pending list
	// posts to materialise; 0 turns it off (posts then wait for a read).
	PostTrickle time.Duration `key:"post_trickle_interval"`

	// Reply-all storm breaker and sender limits (DESIGN section 4, package
	// policy); zero keeps policy.DefaultStorm and policy.DefaultLimits.
	StormOff         bool          `key:"storm_breaker"` // "off" turns the breaker off
	StormMinAudience int64         `key:"storm_min_audience"`
	StormReplies     int           `key:"storm_replies"`
	StormWindow      time.Duration `key:"storm_window"`
	StormBlock       time.Duration `key:"storm_block"`
	StormBrakeFrom   int           `key:"storm_brake_from"`
	StormBrakeDelay  time.Duration `key:"storm_brake_delay"`
	SenderLimitsOff  bool          `key:"sender_limits"` // "off" turns the sender limits off
	SenderPerMinute  int           `key:"sender_messages_per_minute"`
	SenderPerDay     int64         `key:"sender_recipients_per_day"`

	// Connections per door, in total and from one client network (/24
	// IPv4, /56 IPv6), DESIGN section 8; zero keeps the default (doors.go),
	// sized to fit the process's open-file limit. Submission counts 587
	// and 465 together, IMAP 143 and 993.
	SMTPMaxConns             int `key:"smtp_max_connections"`
	SMTPMaxConnsPerNet       int `key:"smtp_max_connections_per_network"`
	SubmissionMaxConns       int `key:"submission_max_connections"`
	SubmissionMaxConnsPerNet int `key:"submission_max_connections_per_network"`
	IMAPMaxConns             int `key:"imap_max_connections"`
	IMAPMaxConnsPerNet       int `key:"imap_max_connections_per_network"`
	HTTPMaxConns             int `key:"http_max_connections"`
	HTTPMaxConnsPerNet       int `key:"http_max_connections_per_network"`

	// Time limits per state; zero keeps the default (doors.go).
	SMTPSessionLimit      time.Duration `key:"smtp_session_limit"`        // a whole inbound session, default 10m
	PreAuthSessionLimit   time.Duration `key:"preauth_session_limit"`     // submission and IMAP before sign-in, default 2m
	SMTPCommandTimeout    time.Duration `key:"smtp_command_timeout"`      // each command, default 5m (RFC 5321 4.5.3.2.7)
	SMTPDataTimeout       time.Duration `key:"smtp_data_timeout"`         // a message: this plus 1 s per smtp_data_min_rate bytes, default 1m
	SMTPDataMinRate       int64         `key:"smtp_data_min_rate"`        // bytes a second, default 10240
	IMAPPreAuthTimeout    time.Duration `key:"imap_preauth_idle_timeout"` // idle before sign-in, default 60s
	IMAPIdleTimeout       time.Duration `key:"imap_idle_timeout"`         // idle after sign-in and IDLE, default 30m
	HTTPReadHeaderTimeout time.Duration `key:"http_read_header_timeout"`  // TLS handshake and request header, default 10s
	HTTPBodyTimeout       time.Duration `key:"http_body_timeout"`         // a request body: this plus 1 s per http_body_min_rate bytes, default 30s
	HTTPBodyMinRate       int64         `key:"http_body_min_rate"`        // bytes a second, default 10240
	HTTPIdleTimeout       time.Duration `key:"http_idle_timeout"`         // between requests, default 2m

	// Mail security in transit (package tlspolicy, dnsrecords, dkimsign).
	// TLSRequired lists domains mail to which must use TLS with a valid
	// certificate ("nhs.net", "*.gov.uk"); MTASTSMode and MTASTSMaxAge are
	// the MTA-STS policy served for local domains; ReportAddress receives
	// DMARC and TLS reports (default reports@DOMAIN).
	TLSRequired   []string      `key:"tls_required"`
	MTASTSMode    string        `key:"mta_sts_mode"`
	MTASTSMaxAge  time.Duration `key:"mta_sts_max_age"`
	ReportAddress string        `key:"report_address"`
	// The outbound queue (package outbound, config_outbound.go).
	Outbound Outbound

	LogLevel string `key:"log_level"` // debug, info, warn, error

	// ExtraMigrations are appended to the PostgreSQL backend's migrations.
	// Not a config-file setting: only a test build of cmd/wardmail sets
	// it, to play the next release in tests of rolling upgrades.
	ExtraMigrations []string
	// Version is the program's version, shown to the other nodes. Not a
	// setting.
	Version string
	// Scan is attachment, malware and spam scanning (config_scan.go).
	Scan ScanConfig
	// Inbound is sender authentication on the inbound door (inbound.go).
	Inbound InboundConfig

	// Now is the clock (tests replace it); nil is time.Now. Not a setting.
	Now func() time.Time
	// Listen opens a door's socket (tests wrap it); nil is net.Listen. Not
	// a setting.
	Listen func(network, addr string) (net.Listener, error)
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
		PostTrickle:    time.Second,
		LogLevel:       "info",
		Inbound:        InboundConfig{TrustedRelays: defaultTrustedRelays()},
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
	if ok, err := c.setScan(key, value); ok {
		return err
	}
	str := map[string]*string{
		"data": &c.DataDir, "hostname": &c.Hostname, "smtp": &c.SMTPAddr, "submission": &c.SubmissionAddr,
		"submissions": &c.SubmissionsAddr, "imap": &c.IMAPAddr, "imaps": &c.IMAPSAddr, "http": &c.HTTPAddr,
		"tls_cert": &c.TLSCert, "tls_key": &c.TLSKey, "body_key_file": &c.KeyFile, "log_level": &c.LogLevel,
		"signin_key_file": &c.SignInKeyFile, "totp_key_file": &c.TOTPKeyFile, "dns_resolver": &c.DNSResolver, "node_name": &c.NodeName, "dkim_key_dir": &c.DKIMKeyDir,
		"s3_endpoint": &c.S3Endpoint, "s3_bucket": &c.S3Bucket, "s3_prefix": &c.S3Prefix, "s3_region": &c.S3Region,
		"s3_access_key": &c.S3AccessKey, "s3_secret_key_file": &c.S3SecretKeyFile, "s3_ca_file": &c.S3CAFile,
	}
	if p, ok := str[key]; ok {
		*p = value
		return nil
	}
	switch key {
	case "tls_required":
		c.TLSRequired = splitList(value)
		return nil
	case "mta_sts_mode":
		if value != "enforce" && value != "testing" && value != "none" {
			return fmt.Errorf("mta_sts_mode: %q is not enforce, testing or none", value)
		}
		c.MTASTSMode = value
		return nil
	case "mta_sts_max_age":
		d, err := time.ParseDuration(value)
		if err != nil || d < time.Hour || d > 31557600*time.Second {
			return fmt.Errorf("mta_sts_max_age: %q is not a duration between 1h and a year (8766h)", value)
		}
		c.MTASTSMaxAge = d
		return nil
	case "report_address":
		c.ReportAddress = value
		return nil
	}
	if key == "database" {
		if value != "" && !strings.HasPrefix(value, "postgres://") && !strings.HasPrefix(value, "postgresql://") {
			// The value is not echoed: it may hold a password.
			return fmt.Errorf("database: give a postgres:// URL, or nothing for the embedded SQLite database")
		}
		c.Database = value
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
	case "http_plain", "s3_insecure":
		p := map[string]*bool{"http_plain": &c.HTTPPlain, "s3_insecure": &c.S3Insecure}[key]
		switch strings.ToLower(value) {
		case "true", "yes", "on", "1":
			*p = true
		case "false", "no", "off", "0":
			*p = false
		default:
			err = fmt.Errorf("%s: %q is not true or false", key, value)
		}
	case "storm_breaker", "sender_limits":
		var on bool
		switch strings.ToLower(value) {
		case "true", "yes", "on", "1":
			on = true
		case "false", "no", "off", "0":
		default:
			return fmt.Errorf("%s: %q is not on or off", key, value)
		}
		*map[string]*bool{"storm_breaker": &c.StormOff, "sender_limits": &c.SenderLimitsOff}[key] = !on
	case "storm_min_audience", "sender_recipients_per_day":
		n, err = num(40)
		*map[string]*int64{"storm_min_audience": &c.StormMinAudience, "sender_recipients_per_day": &c.SenderPerDay}[key] = int64(n)
	case "storm_replies", "storm_brake_from", "sender_messages_per_minute":
		n, err = num(20)
		*map[string]*int{"storm_replies": &c.StormReplies, "storm_brake_from": &c.StormBrakeFrom,
			"sender_messages_per_minute": &c.SenderPerMinute}[key] = int(n)
	case "s3_timeout":
		d, derr := time.ParseDuration(value)
		if derr != nil || d <= 0 || d > 10*time.Minute {
			return fmt.Errorf("s3_timeout: %q is not a duration such as 10s (at most 10m)", value)
		}
		c.S3Timeout = d
	case "storm_window", "storm_block", "storm_brake_delay":
		d, derr := time.ParseDuration(value)
		if derr != nil || d <= 0 {
			return fmt.Errorf("%s: %q is not a duration such as 60m", key, value)
		}
		*map[string]*time.Duration{"storm_window": &c.StormWindow, "storm_block": &c.StormBlock, "storm_brake_delay": &c.StormBrakeDelay}[key] = d
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
	case "hash_max_wait", "lockout_duration", "lockout_max_duration", "lockout_network_window", "signin_slow_lookup", "post_trickle_interval":
		d, derr := time.ParseDuration(value)
		if derr != nil || d < 0 {
			return fmt.Errorf("%s: %q is not a duration such as 2s", key, value)
		}
		*map[string]*time.Duration{"hash_max_wait": &c.HashWait, "lockout_duration": &c.LockoutBase,
			"lockout_max_duration": &c.LockoutMax, "lockout_network_window": &c.LockoutNetworkWindow, "signin_slow_lookup": &c.SignInSlowLookup,
			"post_trickle_interval": &c.PostTrickle}[key] = d
	case "lockout_threshold", "lockout_familiar_threshold", "lockout_account_threshold", "lockout_network_threshold":
		n, err = num(16)
		*map[string]*int{"lockout_threshold": &c.LockoutThreshold, "lockout_familiar_threshold": &c.LockoutFamiliarThreshold,
			"lockout_account_threshold": &c.LockoutAccountThreshold, "lockout_network_threshold": &c.LockoutNetworkThreshold}[key] = int(n)
	case "list_senders_only_above", "list_approval_above", "list_drift_percent", "confirm_audience_above":
		n, err = num(32)
		*map[string]*int64{"list_senders_only_above": &c.ListSendersOnlyAbove, "list_approval_above": &c.ListApprovalAbove,
			"list_drift_percent": &c.ListDriftPercent, "confirm_audience_above": &c.ConfirmAudienceAbove}[key] = int64(n)
	case "smtp_max_connections", "smtp_max_connections_per_network", "submission_max_connections",
		"submission_max_connections_per_network", "imap_max_connections", "imap_max_connections_per_network",
		"http_max_connections", "http_max_connections_per_network":
		n, err = num(24)
		*map[string]*int{"smtp_max_connections": &c.SMTPMaxConns, "smtp_max_connections_per_network": &c.SMTPMaxConnsPerNet,
			"submission_max_connections": &c.SubmissionMaxConns, "submission_max_connections_per_network": &c.SubmissionMaxConnsPerNet,
			"imap_max_connections": &c.IMAPMaxConns, "imap_max_connections_per_network": &c.IMAPMaxConnsPerNet,
			"http_max_connections": &c.HTTPMaxConns, "http_max_connections_per_network": &c.HTTPMaxConnsPerNet}[key] = int(n)
	case "smtp_session_limit", "preauth_session_limit", "smtp_command_timeout", "smtp_data_timeout", "imap_preauth_idle_timeout",
		"imap_idle_timeout", "http_read_header_timeout", "http_body_timeout", "http_idle_timeout":
		d, derr := time.ParseDuration(value)
		if derr != nil || d < 0 {
			return fmt.Errorf("%s: %q is not a duration such as 2m", key, value)
		}
		*map[string]*time.Duration{"smtp_session_limit": &c.SMTPSessionLimit, "preauth_session_limit": &c.PreAuthSessionLimit,
			"smtp_command_timeout": &c.SMTPCommandTimeout, "smtp_data_timeout": &c.SMTPDataTimeout,
			"imap_preauth_idle_timeout": &c.IMAPPreAuthTimeout, "imap_idle_timeout": &c.IMAPIdleTimeout,
			"http_read_header_timeout": &c.HTTPReadHeaderTimeout, "http_body_timeout": &c.HTTPBodyTimeout,
			"http_idle_timeout": &c.HTTPIdleTimeout}[key] = d
	case "smtp_data_min_rate", "http_body_min_rate":
		n, err = num(40)
		*map[string]*int64{"smtp_data_min_rate": &c.SMTPDataMinRate, "http_body_min_rate": &c.HTTPBodyMinRate}[key] = int64(n)
	case "list_approvals", "list_hold_days":
		n, err = num(16)
		*map[string]*int{"list_approvals": &c.ListApprovals, "list_hold_days": &c.ListHoldDays}[key] = int(n)
	default:
		if ok, err := c.setInbound(key, value); ok {
			return err
		}
		if ok, err := c.Outbound.set(key, value); ok {
			return err
		}
		return fmt.Errorf("unknown setting %q", key)
	}
	return err
}

// splitList reads a comma-separated list, lower-cased, without blanks.
func splitList(v string) []string {
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.ToLower(strings.TrimSpace(f)); f != "" {
			out = append(out, f)
		}
	}
	return out
}
