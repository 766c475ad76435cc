package bench

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"wardmail/freeport"
)

// mailPair is the reference the issue measures against: a stock Postfix
// (Debian's 3.7) handing mail over LMTP to Dovecot (Debian's 2.3), which
// stores it in Maildir, 1,000 mailboxes; Dovecot also serves IMAP. Both run
// in the foreground from a temporary folder with their own configuration
// (as testnet does for its Postfix peers), on loopback; nothing of the
// system's configuration is used or changed.
type mailPair struct {
	dir                         string
	master, dovecot             *exec.Cmd
	smtpAddr, imapAddr, lmtpAdr string
}

// startMailPair starts the pair; Dovecot offers STARTTLS with the
// certificate in certDir (Wardmail's), as Wardmail does.
func startMailPair(certDir, password string) (*mailPair, error) {
	dir, err := os.MkdirTemp("", "wardmail-bench-pair-")
	if err != nil {
		return nil, err
	}
	// Dovecot's mail processes run as nobody and must reach their Maildirs.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	p := &mailPair{dir: dir}
	ports := make([]int, 3)
	for i := range ports {
		if ports[i], err = freeport.Get(); err != nil {
			return nil, err
		}
	}
	p.smtpAddr = fmt.Sprintf("127.0.0.1:%d", ports[0])
	p.imapAddr = fmt.Sprintf("127.0.0.1:%d", ports[1])
	p.lmtpAdr = fmt.Sprintf("127.0.0.1:%d", ports[2])
	for _, f := range []string{"tls-cert.pem", "tls-key.pem"} {
		b, err := os.ReadFile(filepath.Join(certDir, f))
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(p.path(f), b, 0o600); err != nil {
			return nil, err
		}
	}
	if err := p.startDovecot(ports[1], ports[2], password); err != nil {
		p.stop()
		return nil, err
	}
	if err := p.startPostfix(ports[0], ports[2]); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

func (p *mailPair) path(parts ...string) string {
	return filepath.Join(append([]string{p.dir}, parts...)...)
}

func (p *mailPair) startDovecot(imapPort, lmtpPort int, password string) error {
	for _, d := range []string{"dovecot", "dovecot/run", "dovecot/state", "mail"} {
		if err := os.MkdirAll(p.path(d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chown(p.path("mail"), 65534, 65534); err != nil {
		return err
	}
	// Stock settings but for where things live: Maildir, STARTTLS with
	// Wardmail's certificate, any user with one password (the reader's),
	// mail owned by nobody.
	conf := fmt.Sprintf(`protocols = imap lmtp
listen = 127.0.0.1
base_dir = %[1]s/dovecot/run
state_dir = %[1]s/dovecot/state
log_path = %[1]s/dovecot/dovecot.log
ssl = yes
ssl_cert = <%[1]s/tls-cert.pem
ssl_key = <%[1]s/tls-key.pem
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
passdb {
  driver = static
  args = password=%[4]s
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=%[1]s/mail/%%n
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %[2]d
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = %[3]d
  }
  unix_listener lmtp {
    mode = 0
  }
}
protocol imap {
  # One account, many clients on loopback (bench imap-stress).
  mail_max_userip_connections = 1000
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
}
`, p.dir, imapPort, lmtpPort, password)
	if err := os.WriteFile(p.path("dovecot", "dovecot.conf"), []byte(conf), 0o644); err != nil {
		return err
	}
	p.dovecot = exec.Command("dovecot", "-F", "-c", p.path("dovecot", "dovecot.conf"))
	p.dovecot.Stdout, p.dovecot.Stderr = os.Stderr, os.Stderr
	if err := p.dovecot.Start(); err != nil {
		return err
	}
	return waitListening(p.imapAddr, p.lmtpAdr)
}

func (p *mailPair) startPostfix(smtpPort, lmtpPort int) error {
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
	// The queue as postfix-files lays it out.
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
	// Stock main.cf but for the paths, loopback, no DNS, and the virtual
	// domain handed to Dovecot over LMTP. smtp-source -N numbers its
	// recipients; they are spread over 1,000 mailboxes by their last
	// three digits.
	mainCF := fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s/queue
data_directory = %[1]s/data
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file = %[1]s/maillog
maillog_file_prefixes = %[1]s
myhostname = pair.bench.test
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
virtual_mailbox_domains = nhs.test
virtual_mailbox_maps = static:yes
virtual_alias_maps = regexp:%[1]s/conf/spread
virtual_transport = lmtp:inet:127.0.0.1:%[2]d
`, p.dir, lmtpPort)
	spread := "/^reader@nhs\\.test$/ reader@nhs.test\n/^[0-9]*([0-9]{3})bench@nhs\\.test$/ m$1@nhs.test\n/^([0-9]{1,3})bench@nhs\\.test$/ m$1@nhs.test\n"
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
lmtp      unix  -  -  n  -      -  lmtp
anvil     unix  -  -  n  -      1  anvil
scache    unix  -  -  n  -      1  scache
postlog   unix-dgram n  -  n  -  1  postlogd
`
	past := time.Now().Add(-time.Minute)
	for path, text := range map[string]string{p.path("conf", "main.cf"): mainCF, p.path("conf", "master.cf"): masterCF, p.path("conf", "spread"): spread} {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return err
		}
		// Postfix waits for a main.cf changed in the last second to settle.
		if err := os.Chtimes(path, past, past); err != nil {
			return err
		}
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

func waitListening(addrs ...string) error {
	deadline := time.Now().Add(30 * time.Second)
	for _, a := range addrs {
		for {
			c, err := net.DialTimeout("tcp", a, time.Second)
			if err == nil {
				_ = c.Close()
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("nothing listens on %s after 30 s", a)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// queued counts the messages Postfix still holds.
func (p *mailPair) queued() (int, error) {
	n := 0
	for _, q := range []string{"maildrop", "incoming", "active", "deferred"} {
		err := filepath.WalkDir(p.path("queue", q), func(_ string, d os.DirEntry, err error) error {
			if err != nil {
				if os.IsNotExist(err) {
					return nil
				}
				return err
			}
			if !d.IsDir() {
				n++
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	return n, nil
}

// waitDrained waits until Postfix has handed every message to Dovecot.
func (p *mailPair) waitDrained(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		n, err := p.queued()
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postfix still holds %d messages after %s\n%s", n, limit, tail(p.path("maillog")))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// run sends one batch into Postfix and waits until Dovecot has it all.
func (p *mailPair) run(cfg OutsideConfig, run int) (*OutsideRun, error) {
	r := &OutsideRun{Side: "postfix+dovecot", Run: run, Messages: cfg.Messages, Load: loadAverage()}
	cpu0 := p.cpu()
	mc0 := machineCPU()
	start := time.Now()
	src, err := smtpSource(p.smtpAddr, cfg.Messages, cfg.Sessions, cfg.Size, true, "bench@nhs.test")
	if err != nil {
		return nil, fmt.Errorf("%w\n%s", err, tail(p.path("maillog")))
	}
	r.SourceS = src.Seconds()
	if err := p.waitDrained(10 * time.Minute); err != nil {
		return nil, err
	}
	r.Seconds = time.Since(start).Seconds()
	mc1 := machineCPU()
	cpu1 := p.cpu()
	if n := strings.Count(tail(p.path("maillog")), "status=deferred"); n > 0 {
		return nil, fmt.Errorf("postfix deferred messages:\n%s", tail(p.path("maillog")))
	}
	r.PerSec = float64(cfg.Messages) / r.Seconds
	r.ServerMs = (cpu1 - cpu0).Seconds() * 1000 / float64(cfg.Messages)
	r.MachineBusy, r.IOWait = mc1.since(mc0)
	return r, nil
}

// cpu is the CPU time of every process of the pair: the two masters with
// their reaped children, and the children still running.
func (p *mailPair) cpu() time.Duration {
	var total time.Duration
	roots := map[int]bool{}
	for _, c := range []*exec.Cmd{p.master, p.dovecot} {
		if c != nil && c.Process != nil {
			roots[c.Process.Pid] = true
		}
	}
	entries, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 {
			parent[pid], _ = strconv.Atoi(f[1])
		}
	}
	under := func(pid int) bool {
		for i := 0; i < 10 && pid > 1; i++ {
			if roots[pid] {
				return true
			}
			pid = parent[pid]
		}
		return false
	}
	for pid := range parent {
		if !under(pid) {
			continue
		}
		t, err := processCPUAll(pid, roots[pid])
		if err == nil {
			total += t
		}
	}
	return total
}

// processCPUAll is processCPU, with the CPU of reaped children when
// children is set.
func processCPUAll(pid int, children bool) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 15 {
		return 0, fmt.Errorf("short /proc stat")
	}
	var ticks int64
	last := 12
	if children {
		last = 14
	}
	for i := 11; i <= last; i++ {
		v, _ := strconv.ParseInt(f[i], 10, 64)
		ticks += v
	}
	return time.Duration(ticks) * time.Second / 100, nil
}

func (p *mailPair) stop() {
	for _, c := range []*exec.Cmd{p.master, p.dovecot} {
		if c == nil || c.Process == nil {
			continue
		}
		_ = c.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = c.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = c.Process.Kill()
			<-done
		}
	}
	_ = os.RemoveAll(p.dir)
}
