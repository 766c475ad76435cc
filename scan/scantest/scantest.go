// Package scantest starts the real scanning daemons for tests: ClamAV's
// clamd with a tiny signature database shipped here (the EICAR test file,
// no freshclam download) and Rspamd with its stock rules, each with its own
// configuration, socket or port and folder in a temporary directory. The
// programs come from Debian (scripts/scan-deps.sh). Without them a test is
// skipped, unless WARDMAIL_SCAN=require makes that a failure (CI).
package scantest

import (
	_ "embed"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"wardmail/freeport"
)

//go:embed wardmail-test.ndb
var ndb []byte

//go:embed wardmail-test.hdb
var hdb []byte

// EICAR is the anti-malware test file (www.eicar.org), put together here
// so that this source file is not itself flagged by a scanner.
var EICAR = `X5O!P%@AP[4\PZX54(P^)7CC)7}$` + "EICAR-STANDARD-" + "ANTIVIRUS-TEST-FILE!$H+H*"

// GTUBE is Rspamd's spam test pattern: a message carrying it gets Rspamd's
// reject score (15) without any other rule or DNS lookup.
var GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*" + "GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"

// Require skips the test when a program is missing, or fails it when
// WARDMAIL_SCAN=require.
func Require(t testing.TB, programs ...string) {
	t.Helper()
	for _, p := range programs {
		if _, err := lookPath(p); err != nil {
			if os.Getenv("WARDMAIL_SCAN") == "require" {
				t.Fatalf("scantest: %s is not installed (scripts/scan-deps.sh); WARDMAIL_SCAN=require", p)
			}
			t.Skipf("scantest: %s is not installed: run scripts/scan-deps.sh (WARDMAIL_SCAN=require makes this a failure)", p)
		}
	}
}

func lookPath(p string) (string, error) {
	if path, err := exec.LookPath(p); err == nil {
		return path, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/bin"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
			return filepath.Join(dir, p), nil
		}
	}
	return "", fmt.Errorf("%s not found", p)
}

// Daemon is a scanner the test owns.
type Daemon struct {
	// Addr is clamd's unix socket path, or Rspamd's URL.
	Addr    string
	Startup time.Duration // from exec to the first answer
	cmd     *exec.Cmd
	done    chan struct{}
	dir     string
}

// Stop ends the daemon (and its workers) and waits for it.
func (d *Daemon) Stop() {
	select {
	case <-d.done:
		return
	default:
	}
	_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
	}
	_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
	<-d.done
}

// folder makes a temporary folder the daemons' unprivileged users can
// enter (t.TempDir is mode 0700).
func folder(t testing.TB, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	return dir
}

func start(t testing.TB, dir, name string, args ...string) *Daemon {
	t.Helper()
	path, err := lookPath(name)
	if err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("scantest: starting %s: %v", name, err)
	}
	d := &Daemon{cmd: cmd, done: make(chan struct{}), dir: dir}
	go func() {
		_ = cmd.Wait()
		_ = logf.Close()
		close(d.done)
	}()
	t.Cleanup(func() {
		d.Stop()
		if !t.Failed() || os.Getenv("WARDMAIL_SCAN_KEEP") == "" {
			_ = os.RemoveAll(dir)
		} else {
			t.Logf("scantest: kept %s", dir)
		}
	})
	return d
}

// wait polls ready until it is true, the daemon exits or a minute passes.
func (d *Daemon) wait(t testing.TB, name string, ready func() bool) {
	t.Helper()
	began := time.Now()
	for time.Since(began) < time.Minute {
		select {
		case <-d.done:
			log, _ := os.ReadFile(filepath.Join(d.dir, name+".log"))
			t.Fatalf("scantest: %s exited while starting:\n%s", name, tail(log))
		default:
		}
		if ready() {
			d.Startup = time.Since(began)
			t.Logf("scantest: %s answered after %v", name, d.Startup.Round(time.Millisecond))
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(d.dir, name+".log"))
	t.Fatalf("scantest: %s did not answer within a minute:\n%s", name, tail(log))
}

func tail(b []byte) string {
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// Clamd starts clamd with the shipped signatures (the EICAR test file and
// its text, named Wardmail.Test.EICAR*) on a unix socket in its own folder.
// streamMax is its StreamMaxLength ("" keeps 10M).
func Clamd(t testing.TB, streamMax string) *Daemon {
	t.Helper()
	Require(t, "clamd")
	if streamMax == "" {
		streamMax = "10M"
	}
	dir := folder(t, "wardmail-clamd-")
	db := filepath.Join(dir, "db")
	if err := os.Mkdir(db, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"wardmail-test.ndb": ndb, "wardmail-test.hdb": hdb} {
		if err := os.WriteFile(filepath.Join(db, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sock := filepath.Join(dir, "clamd.sock")
	conf := strings.Join([]string{
		"Foreground yes",
		"LocalSocket " + sock,
		"DatabaseDirectory " + db,
		"TemporaryDirectory " + dir,
		"PidFile " + filepath.Join(dir, "clamd.pid"),
		"StreamMaxLength " + streamMax,
		"MaxThreads 4",
		"ScanMail yes",
		"SelfCheck 0",
		"",
	}, "\n")
	if os.Geteuid() == 0 {
		conf += "User root\n"
	}
	confPath := filepath.Join(dir, "clamd.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	d := start(t, dir, "clamd", "-c", confPath)
	d.Addr = sock
	d.wait(t, "clamd", func() bool {
		c, err := net.DialTimeout("unix", sock, time.Second)
		if err != nil {
			return false
		}
		_ = c.Close()
		return true
	})
	return d
}

// hsCache is the folder where Rspamd keeps what it compiles from its rules
// (its table of top-level domains takes half a minute to compile): kept
// between runs, so that only the first start on a machine waits for it.
// WARDMAIL_RSPAMD_CACHE names another.
func hsCache(t testing.TB) string {
	dir := os.Getenv("WARDMAIL_RSPAMD_CACHE")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "wardmail-rspamd-cache")
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(dir, 0o777) // Rspamd's own user writes there
	return dir + "/"
}

// Rspamd starts Rspamd's normal worker alone on a free loopback port, with
// the stock rules of /etc/rspamd and its own folder. The modules that need
// the network or Redis are off (fuzzy, RBLs, URL blocklists, maps fetched
// from rspamd.com; Bayes without Redis does nothing) and DNS goes nowhere,
// so that scores are the same on every machine: what the content rules say.
func Rspamd(t testing.TB) *Daemon {
	t.Helper()
	Require(t, "rspamd")
	dir := folder(t, "wardmail-rspamd-")
	over := filepath.Join(dir, "override.d")
	for _, sub := range []string{"local.d", "override.d", "db", "run", "log"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(dir, sub), 0o777); err != nil {
			t.Fatal(err)
		}
	}
	port, err := freeport.Get()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	files := map[string]string{
		"worker-normal.inc":     fmt.Sprintf("bind_socket = %q;\ncount = 1;\n", addr),
		"worker-controller.inc": "enabled = false;\n",
		"worker-proxy.inc":      "enabled = false;\n",
		"worker-fuzzy.inc":      "enabled = false;\n",
		"logging.inc":           "type = \"console\";\nlevel = \"error\";\n",
		"options.inc": fmt.Sprintf("pidfile = %q;\ncontrol_socket = %q;\nhs_cache_dir = %q;\ndisable_hyperscan = true;\n"+
			"dns { nameserver = [\"127.0.0.1:9\"]; timeout = 0.1s; retransmits = 1; }\n",
			filepath.Join(dir, "run", "rspamd.pid"), filepath.Join(dir, "run", "rspamd.sock")+" mode=0600", hsCache(t)),
	}
	for _, m := range []string{"hfilter", "fuzzy_check", "asn", "rbl", "surbl", "emails", "multimap", "phishing", "dkim_signing", "arc", "ratelimit", "greylist", "replies", "neural", "reputation"} {
		files[m+".conf"] = "enabled = false;\n"
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(over, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"-f", "-c", "/etc/rspamd/rspamd.conf", "--var=LOCAL_CONFDIR=" + dir,
		"--var=DBDIR=" + filepath.Join(dir, "db"), "--var=RUNDIR=" + filepath.Join(dir, "run"), "--var=LOGDIR=" + filepath.Join(dir, "log")}
	if os.Geteuid() == 0 {
		// Rspamd will not run its workers as root.
		if u, err := user.Lookup("_rspamd"); err == nil {
			args = append(args, "-u", u.Username, "-g", "_rspamd")
		} else {
			args = append(args, "-i")
		}
	}
	d := start(t, dir, "rspamd", args...)
	d.Addr = "http://" + addr
	client := &http.Client{Timeout: time.Second}
	d.wait(t, "rspamd", func() bool {
		resp, err := client.Get(d.Addr + "/ping")
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return d
}
