package testnet

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// PostfixConfig describes a peer MTA.
type PostfixConfig struct {
	// Domain is the mail domain it sends for (DKIM-signed as d=Domain) and
	// receives for (any local part, into one Maildir).
	Domain string
	// Hostname is its name in HELO, MX and certificate; "mx."+Domain if empty.
	Hostname string
	// Selector is its DKIM selector; "peer" if empty.
	Selector string
	// Judge adds independent judges of the mail it receives from other
	// hosts: policyd-spf (Debian's postfix-policyd-spf-python, RFC 7208)
	// checks SPF at RCPT and writes its verdict as Authentication-Results,
	// and OpenDMARC (RFC 7489), a milter after OpenDKIM, reads both
	// verdicts and writes dmarc=; a message that fails DMARC for a domain
	// publishing p=reject is refused with OpenDMARC's 550.
	Judge bool
}

// Postfix is a running Postfix (Debian's) on one loopback host, with
// OpenDKIM as its milter: it signs mail that it sends for its domain and
// verifies the signatures of mail that it receives, adding an
// Authentication-Results header (RFC 8601) with its hostname as authserv-id.
type Postfix struct {
	Addr     netip.Addr
	Domain   string
	Hostname string
	Selector string

	n         *Net
	dir       string
	dkimTXT   string
	master    *proc
	opendkim  *proc
	opendmarc *proc
	judge     bool
}

// StartPostfix starts a Postfix peer on a new host. Put its Records in the
// zone of its domain so that receivers can check its SPF and DKIM key.
func (n *Net) StartPostfix(cfg PostfixConfig) *Postfix {
	n.t.Helper()
	Need(n.t, "postconf", "opendkim", "master")
	if cfg.Judge {
		Need(n.t, "opendmarc", "policyd-spf", "unshare")
	}
	NeedRoot(n.t)
	p, err := n.startPostfix(cfg)
	if err != nil {
		n.t.Fatal(err)
	}
	return p
}

func (n *Net) startPostfix(cfg PostfixConfig) (*Postfix, error) {
	if cfg.Domain == "" {
		return nil, fmt.Errorf("testnet: a Postfix peer needs a domain")
	}
	if cfg.Hostname == "" {
		cfg.Hostname = "mx." + cfg.Domain
	}
	if cfg.Selector == "" {
		cfg.Selector = "peer"
	}
	addr, err := n.host()
	if err != nil {
		return nil, err
	}
	p := &Postfix{Addr: addr, Domain: normZone(cfg.Domain), Hostname: cfg.Hostname, Selector: cfg.Selector,
		n: n, dir: filepath.Join(n.dir, "postfix-"+addr.String()), judge: cfg.Judge}
	pfUser, err := user.Lookup("postfix")
	if err != nil {
		return nil, fmt.Errorf("testnet: the postfix user: %w", err)
	}
	postdrop, err := user.LookupGroup("postdrop")
	if err != nil {
		return nil, fmt.Errorf("testnet: the postdrop group: %w", err)
	}
	uid, _ := strconv.Atoi(pfUser.Uid)
	gid, _ := strconv.Atoi(postdrop.Gid)
	if err := p.makeDirs(uid, gid); err != nil {
		return nil, err
	}
	if err := p.writeDKIM(); err != nil {
		return nil, err
	}
	resolverPort, err := n.resolverPort()
	if err != nil {
		return nil, err
	}
	smap, err := n.socketmapAddr()
	if err != nil {
		return nil, err
	}
	cert, err := n.CA.Issue(p.Hostname)
	if err != nil {
		return nil, err
	}
	chain, key, err := certPEM(cert)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(p.path("conf", "cert.pem"), chain, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(p.path("conf", "key.pem"), key, 0o600); err != nil {
		return nil, err
	}
	if err := p.writeConfig(resolverPort, smap); err != nil {
		return nil, err
	}

	p.opendkim, err = n.start("opendkim-"+addr.String(), nil, "opendkim", "-f", "-x", p.path("opendkim", "opendkim.conf"))
	if err != nil {
		return nil, err
	}
	// OpenDKIM (libmilter) waits five seconds for milter sessions that
	// Postfix has already closed; it keeps nothing worth a clean stop.
	p.opendkim.grace = 100 * time.Millisecond
	sock := p.path("opendkim", "opendkim.sock")
	if err := p.opendkim.waitFor(func() bool { _, err := os.Stat(sock); return err == nil }); err != nil {
		return nil, err
	}
	// The master in the foreground (as postfix start-fg runs it), so that
	// the test owns it; -s keeps its output in the log.
	program, args := "master", []string{"-c", p.path("conf"), "-s"}
	if p.judge {
		if err := p.startJudges(); err != nil {
			return nil, err
		}
		// policyd-spf, spawned by the master, reads /etc/resolv.conf.
		if program, args, err = withResolvConf(p.path("conf", "resolv.conf"), program, args...); err != nil {
			return nil, err
		}
	}
	p.master, err = n.start("postfix-"+addr.String(), nil, program, args...)
	if err != nil {
		return nil, err
	}
	smtpAddr := netip.AddrPortFrom(addr, uint16(n.Port)).String()
	if err := p.master.waitFor(func() bool {
		c, err := net.DialTimeout("tcp", smtpAddr, time.Second)
		if err == nil {
			_ = c.Close()
		}
		return err == nil
	}); err != nil {
		return nil, fmt.Errorf("%w\nmaillog:\n%s", err, tailFile(p.path("maillog")))
	}
	return p, nil
}

func (p *Postfix) path(parts ...string) string {
	return filepath.Join(append([]string{p.dir}, parts...)...)
}

// makeDirs lays out the queue as postfix-files says (what "postfix check"
// would create, without its second of checks), the data folder, the Maildir
// base and OpenDKIM's folder.
func (p *Postfix) makeDirs(uid, postdrop int) error {
	type d struct {
		path       string
		uid, gid   int
		mode       os.FileMode
		notPostfix bool
	}
	dirs := []d{{p.path("conf"), 0, 0, 0o755, true}, {p.path("queue"), 0, 0, 0o755, true},
		{p.path("queue", "pid"), 0, 0, 0o755, true}, {p.path("data"), uid, 0, 0o700, false},
		{p.path("queue", "maildrop"), uid, postdrop, 0o730, false}, {p.path("queue", "public"), uid, postdrop, 0o710, false},
		{p.path("mail"), 65534, 65534, 0o755, false}, {p.path("opendkim"), 0, 0, 0o755, true},
		{p.path("opendmarc"), 0, 0, 0o755, true}}
	for _, q := range []string{"active", "bounce", "corrupt", "defer", "deferred", "flush", "hold", "incoming", "private", "saved", "trace"} {
		dirs = append(dirs, d{p.path("queue", q), uid, 0, 0o700, false})
	}
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return err
	}
	for _, dir := range dirs {
		if err := os.Mkdir(dir.path, dir.mode); err != nil {
			return err
		}
		if err := os.Chmod(dir.path, dir.mode); err != nil {
			return err
		}
		if err := os.Chown(dir.path, dir.uid, dir.gid); err != nil {
			return err
		}
	}
	return nil
}

// writeDKIM makes the run's DKIM key pair (RSA 2048, RFC 8301 section 3.2).
func (p *Postfix) writeDKIM() error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	p.dkimTXT = "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(pub)
	priv := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	return os.WriteFile(p.path("opendkim", "dkim.key"), priv, 0o600)
}

func (p *Postfix) writeConfig(resolverPort int, socketmap string) error {
	n := p.n
	mainCF := fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s/queue
data_directory = %[1]s/data
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file = %[1]s/maillog
maillog_file_prefixes = %[1]s
myhostname = %[2]s
mydomain = %[3]s
myorigin = $mydomain
mydestination =
alias_maps =
alias_database =
biff = no
inet_interfaces = loopback-only
inet_protocols = ipv4
smtp_bind_address = %[4]s
mynetworks = %[4]s/32
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtpd_banner = $myhostname ESMTP Postfix (testnet)
virtual_mailbox_domains = %[3]s
virtual_mailbox_base = %[1]s/mail
virtual_mailbox_maps = static:Maildir/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
transport_maps = socketmap:inet:%[5]s:%[3]s
smtp_tcp_port = %[6]d
smtpd_milters = unix:%[1]s/opendkim/opendkim.sock
non_smtpd_milters = unix:%[1]s/opendkim/opendkim.sock
milter_default_action = tempfail
smtpd_tls_cert_file = %[1]s/conf/cert.pem
smtpd_tls_key_file = %[1]s/conf/key.pem
smtpd_tls_security_level = may
smtpd_tls_received_header = yes
smtpd_tls_loglevel = 1
smtp_tls_security_level = may
smtp_tls_CAfile = %[7]s
smtp_tls_loglevel = 1
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 5s
delay_warning_time = 0
maximal_queue_lifetime = 1h
bounce_queue_lifetime = 1h
in_flow_delay = 0
`, p.dir, p.Hostname, p.Domain, p.Addr, socketmap, n.Port, n.CAFile())
	if p.judge {
		mainCF += p.judgeMainCF()
	}
	masterCF := fmt.Sprintf("%s:%d inet n - n - - smtpd\n", p.Addr, n.Port) + `pickup    unix  n  -  n  60     1  pickup
cleanup   unix  n  -  n  -      0  cleanup
qmgr      unix  n  -  n  300    1  qmgr
rewrite   unix  -  -  n  -      -  trivial-rewrite
bounce    unix  -  -  n  -      0  bounce
defer     unix  -  -  n  -      0  bounce
trace     unix  -  -  n  -      0  bounce
verify    unix  -  -  n  -      1  verify
flush     unix  n  -  n  1000?  0  flush
proxymap  unix  -  -  n  -      -  proxymap
smtp      unix  -  -  n  -      -  smtp
relay     unix  -  -  n  -      -  smtp
showq     unix  n  -  n  -      -  showq
error     unix  -  -  n  -      -  error
retry     unix  -  -  n  -      -  error
discard   unix  -  -  n  -      -  discard
virtual   unix  -  n  n  -      -  virtual
anvil     unix  -  -  n  -      1  anvil
scache    unix  -  -  n  -      1  scache
tlsmgr    unix  -  -  n  1000?  1  tlsmgr
postlog   unix-dgram n  -  n  -  1  postlogd
`
	if p.judge {
		masterCF += p.judgeMasterCF()
	}
	// OpenDKIM looks up keys (and whatever else) through libunbound,
	// forwarding to the test resolver. Like Unbound, libunbound answers
	// names under test. and invalid. itself (RFC 6761) unless told not to.
	unboundConf := fmt.Sprintf(`server:
    do-not-query-localhost: no
    do-ip6: no
    local-zone: "test." nodefault
    local-zone: "invalid." nodefault
    local-zone: "example." nodefault
forward-zone:
    name: "."
    forward-addr: 127.0.0.1@%d
`, resolverPort)
	dkimConf := fmt.Sprintf(`Syslog no
Mode sv
Socket local:%[1]s/opendkim/opendkim.sock
UMask 000
PidFile %[1]s/opendkim/opendkim.pid
Domain %[2]s
Selector %[3]s
KeyFile %[1]s/opendkim/dkim.key
RequireSafeKeys false
InternalHosts %[4]s
Canonicalization relaxed/simple
OversignHeaders From
AuthservID %[5]s
AlwaysAddARHeader yes
ResolverConfiguration %[1]s/opendkim/unbound.conf
`, p.dir, p.Domain, p.Selector, p.Addr, p.Hostname)
	files := map[string]string{
		p.path("conf", "main.cf"): mainCF, p.path("conf", "master.cf"): masterCF,
		p.path("opendkim", "unbound.conf"): unboundConf, p.path("opendkim", "opendkim.conf"): dkimConf,
	}
	if p.judge {
		p.judgeFiles(files)
	}
	for path, text := range files {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return err
		}
		// Postfix waits (up to 1.5 s) for a main.cf changed in the last
		// second to settle before it reads it; these are complete.
		past := time.Now().Add(-time.Minute)
		if err := os.Chtimes(path, past, past); err != nil {
			return err
		}
	}
	return nil
}

// Records are what the peer's domain publishes: its MX and address, an SPF
// policy naming its address (RFC 7208), and its DKIM key (RFC 6376 section
// 3.6.1), longer than one 255-byte string.
func (p *Postfix) Records() []Record {
	return []Record{
		MX("@", 10, p.Hostname),
		A(p.Hostname, p.Addr),
		TXT("@", "v=spf1 ip4:"+p.Addr.String()+" -all"),
		TXT(p.Selector+"._domainkey", p.dkimTXT),
	}
}

// SMTPAddr is where it listens (host:port).
func (p *Postfix) SMTPAddr() string {
	return netip.AddrPortFrom(p.Addr, uint16(p.n.Port)).String()
}

// Send hands a message to the peer as one of its own users would: over SMTP
// from its own address, which it trusts to relay and OpenDKIM signs for. The
// peer then routes it by the destination's MX in the test DNS.
func (p *Postfix) Send(from string, to []string, msg []byte) error {
	d := net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: p.Addr.AsSlice()}}
	conn, err := d.Dial("tcp", p.SMTPAddr())
	if err != nil {
		return err
	}
	c := smtp.NewClient(conn)
	defer func() { _ = c.Close() }()
	if err := c.Hello("sender." + p.Domain); err != nil {
		return err
	}
	if err := c.SendMail(from, to, bytes.NewReader(msg)); err != nil {
		return err
	}
	return c.Quit()
}

// Message is one message delivered into the peer's Maildir.
type Message struct {
	Path string
	Data []byte
}

// Header returns the values of a header field in the message's header.
func (m Message) Header(name string) []string {
	head, _, _ := bytes.Cut(m.Data, []byte("\n\n"))
	var out []string
	lines := strings.Split(strings.ReplaceAll(string(head), "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		k, v, ok := strings.Cut(lines[i], ":")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), name) {
			continue
		}
		for i+1 < len(lines) && (strings.HasPrefix(lines[i+1], " ") || strings.HasPrefix(lines[i+1], "\t")) {
			i++
			v += " " + strings.TrimSpace(lines[i])
		}
		out = append(out, strings.TrimSpace(v))
	}
	return out
}

// Messages are the messages delivered so far, oldest first.
func (p *Postfix) Messages() ([]Message, error) {
	dir := p.path("mail", "Maildir", "new")
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Message
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, Message{Path: filepath.Join(dir, e.Name()), Data: b})
	}
	slices.SortFunc(out, func(a, b Message) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// WaitMessages waits (up to a minute) until at least count messages have
// been delivered, and returns them.
func (p *Postfix) WaitMessages(t testing.TB, count int) []Message {
	t.Helper()
	var msgs []Message
	err := (*proc)(nil).waitUntil(time.Minute, func() bool {
		var err error
		msgs, err = p.Messages()
		return err == nil && len(msgs) >= count
	})
	if err != nil {
		t.Fatalf("testnet: %s got %d of %d messages: %v\nmaillog:\n%s", p.Hostname, len(msgs), count, err, p.Log())
	}
	return msgs
}

// Flush asks the peer to retry its deferred mail now.
func (p *Postfix) Flush() error {
	_, err := run("postqueue", "-c", p.path("conf"), "-f")
	return err
}

// Log is the end of the peer's mail log.
func (p *Postfix) Log() string { return tailFile(p.path("maillog")) }
