package bench

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"time"
)

// startPostfixWith starts a Postfix (Debian's) from p.dir with the stock
// settings of startPostfix's queue but no LMTP side: extra is added to
// main.cf, files are written into its conf folder. For the outbound
// benchmark, which measures Postfix's own SMTP client. master.cf is Debian's
// stock one for these services, tlsmgr included: without it each new smtp
// process (one per 100 deliveries) spends about a second failing to reach
// it before it gives up TLS, which held Postfix to about 96 messages/s.
func (p *mailPair) startPostfixWith(smtpPort int, extra string, files map[string]string) error {
	pf, err := user.Lookup("postfix")
	if err != nil {
		return fmt.Errorf("the postfix user: %w", err)
	}
	pd, err := user.LookupGroup("postdrop")
	if err != nil {
		return fmt.Errorf("the postdrop group: %w", err)
	}
	uid, _ := strconv.Atoi(pf.Uid)
	gid, _ := strconv.Atoi(pd.Gid)
	type d struct {
		path     string
		uid, gid int
		mode     os.FileMode
	}
	dirs := []d{{p.path("conf"), 0, 0, 0o755}, {p.path("queue"), 0, 0, 0o755}, {p.path("queue", "pid"), 0, 0, 0o755},
		{p.path("data"), uid, 0, 0o700}, {p.path("queue", "maildrop"), uid, gid, 0o730}, {p.path("queue", "public"), uid, gid, 0o710}}
	for _, q := range []string{"active", "bounce", "corrupt", "defer", "deferred", "flush", "hold", "incoming", "private", "saved", "trace"} {
		dirs = append(dirs, d{p.path("queue", q), uid, 0, 0o700})
	}
	for _, x := range dirs {
		if err := os.Mkdir(x.path, x.mode); err != nil {
			return err
		}
		if err := os.Chmod(x.path, x.mode); err != nil {
			return err
		}
		if err := os.Chown(x.path, x.uid, x.gid); err != nil {
			return err
		}
	}
	masterCF := fmt.Sprintf("127.0.0.1:%d inet n - n - - smtpd\n", smtpPort) + `pickup    unix  n  -  n  60     1  pickup
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
anvil     unix  -  -  n  -      1  anvil
scache    unix  -  -  n  -      1  scache
tlsmgr    unix  -  -  n  1000?  1  tlsmgr
postlog   unix-dgram n  -  n  -  1  postlogd
`
	files["master.cf"] = masterCF
	for name, text := range files {
		if err := p.writeConf(name, text); err != nil {
			return err
		}
	}
	if err := p.writeMainCF(smtpPort, extra); err != nil {
		return err
	}
	p.master = exec.Command("/usr/lib/postfix/sbin/master", "-c", p.path("conf"), "-s")
	p.master.Stdout, p.master.Stderr = os.Stderr, os.Stderr
	if err := p.master.Start(); err != nil {
		return err
	}
	if err := waitListening(p.smtpAddr); err != nil {
		return fmt.Errorf("%w\n%s", err, tail(p.path("maillog")))
	}
	return nil
}

// writeMainCF writes the main.cf of the outbound benchmark (loopback, no
// DNS, Postfix's default concurrency and back-off, postfixBulk) with extra
// added, and WARDMAIL_BENCH_POSTFIX_MAIN_CF ("key = value; key = value") for
// trying other settings.
func (p *mailPair) writeMainCF(smtpPort int, extra string) error {
	mainCF := fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s/queue
data_directory = %[1]s/data
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file = %[1]s/maillog
maillog_file_prefixes = %[1]s
myhostname = postfix.bench.test
mydomain = bench.test
mydestination =
alias_maps =
alias_database =
biff = no
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtp_tls_security_level = may
`, p.dir) + postfixBulk + extra
	// One setting per line: main.cf reads a line that starts with a space
	// as the continuation of the one before.
	for _, kv := range strings.Split(os.Getenv("WARDMAIL_BENCH_POSTFIX_MAIN_CF"), ";") {
		if kv = strings.TrimSpace(kv); kv != "" {
			mainCF += kv + "\n"
		}
	}
	return p.writeConf("main.cf", mainCF)
}

func (p *mailPair) writeConf(name, text string) error {
	path := p.path("conf", name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		return err
	}
	// Postfix waits for a main.cf changed in the last second to settle.
	past := time.Now().Add(-time.Minute)
	return os.Chtimes(path, past, past)
}

// postfixBulk is what an operator running Postfix for bulk delivery sets
// beyond the stock main.cf: no pause before accepting more mail while the
// queue is busy (in_flow_delay, 1 s stock), as Wardmail's submission does
// not pause either. Concurrency stays stock (20 per destination, 100 delivery
// agents in all), beside Wardmail's 10 per destination and 100 in all.
const postfixBulk = "in_flow_delay = 0\n"
