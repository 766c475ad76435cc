package clustertest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// Postgres is a PostgreSQL primary and, optionally, a synchronous streaming
// standby (every commit is acknowledged only once the standby has it), both
// listening on loopback TCP with trust authentication for user "wardmail".
type Postgres struct {
	Primary, Standby *PGServer

	t   testing.TB
	bin string
	as  []string // runuser prefix when running as root
	dir string
}

// PGServer is one PostgreSQL server process.
type PGServer struct {
	Name string
	Dir  string // its data folder
	Port int
	log  string
}

// StartPostgres starts a primary and, with standby, a synchronous standby
// replicating from it; both stop when the test ends.
func StartPostgres(t testing.TB, standby bool) *Postgres {
	t.Helper()
	Enabled(t)
	bin := ""
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	for _, m := range matches {
		bin = filepath.Dir(m)
	}
	if bin == "" {
		need(t, "/usr/lib/postgresql/15/bin/initdb")
	}
	p := &Postgres{t: t, bin: bin}
	// PostgreSQL refuses to run as root: as root it runs as Debian's
	// postgres user, in a folder that user owns.
	dir, err := os.MkdirTemp("", "wardmail-cluster-pg-")
	if err != nil {
		t.Fatal(err)
	}
	p.dir = dir
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs Debian's postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		p.as = []string{"runuser", "-u", "postgres", "--"}
	}
	t.Cleanup(func() {
		for _, s := range []*PGServer{p.Standby, p.Primary} {
			if s != nil {
				_ = p.run("pg_ctl", "-D", s.Dir, "-m", "immediate", "-w", "stop")
			}
		}
		if t.Failed() && os.Getenv("WARDMAIL_CLUSTER_KEEP") != "" {
			t.Logf("PostgreSQL folders kept in %s", dir)
			return
		}
		_ = os.RemoveAll(dir)
	})

	p.Primary = &PGServer{Name: "primary", Dir: filepath.Join(dir, "primary"), Port: freePort(t)}
	if err := p.run("initdb", "-D", p.Primary.Dir, "-U", "wardmail", "--auth=trust", "--no-locale", "-E", "UTF8"); err != nil {
		t.Fatal(err)
	}
	conf := "listen_addresses = '127.0.0.1'\nmax_connections = 300\nshared_buffers = 64MB\n" +
		"wal_level = replica\nmax_wal_senders = 4\nwal_keep_size = 256MB\nhot_standby = on\n"
	if standby {
		conf += "synchronous_standby_names = 'standby'\n"
	}
	p.appendConf(p.Primary, conf)
	p.start(p.Primary)
	if !standby {
		return p
	}
	p.Standby = &PGServer{Name: "standby", Dir: filepath.Join(dir, "standby"), Port: freePort(t)}
	if err := p.run("pg_basebackup", "-h", "127.0.0.1", "-p", strconv.Itoa(p.Primary.Port), "-U", "wardmail",
		"-D", p.Standby.Dir, "-X", "stream", "-c", "fast"); err != nil {
		t.Fatal(err)
	}
	if err := p.writeFile(filepath.Join(p.Standby.Dir, "standby.signal"), ""); err != nil {
		t.Fatal(err)
	}
	p.appendConf(p.Standby, fmt.Sprintf("port = %d\nprimary_conninfo = 'host=127.0.0.1 port=%d user=wardmail application_name=standby'\n",
		p.Standby.Port, p.Primary.Port))
	p.start(p.Standby)
	// Synchronous from here on: wait until the primary sees its standby.
	db := p.open(p.Primary)
	defer db.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'`).Scan(&n); err == nil && n == 1 {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("the standby never became synchronous\n%s\n%s", tail(p.Primary.log), tail(p.Standby.log))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// URL is the connection string every node is given: both servers, and
// only a read-write one will do (libpq's target_session_attrs, which pgx
// follows), so after a promotion new connections find the new primary.
func (p *Postgres) URL() string {
	hosts := addr(p.Primary.Port)
	if p.Standby != nil {
		hosts += "," + addr(p.Standby.Port)
	}
	return "postgres://wardmail@" + hosts + "/postgres?sslmode=disable&target_session_attrs=read-write&connect_timeout=3"
}

// KillPrimary stops the primary at once, as a crash would (no checkpoint,
// connections cut).
func (p *Postgres) KillPrimary() {
	p.t.Helper()
	if err := p.run("pg_ctl", "-D", p.Primary.Dir, "-m", "immediate", "-w", "stop"); err != nil {
		p.t.Fatal(err)
	}
}

// Promote makes the standby the primary (what Patroni or an operator does
// with pg_ctl promote) and waits until it accepts writes.
func (p *Postgres) Promote() {
	p.t.Helper()
	if err := p.run("pg_ctl", "-D", p.Standby.Dir, "-w", "promote"); err != nil {
		p.t.Fatal(err)
	}
	// The standby's configuration is the primary's copy, which waits for a
	// synchronous standby; the new primary has none until one is rebuilt,
	// so it commits alone, as Patroni arranges after a failover.
	db := p.open(p.Standby)
	defer db.Close()
	for _, q := range []string{`ALTER SYSTEM SET synchronous_standby_names = ''`, `SELECT pg_reload_conf()`} {
		if _, err := db.Exec(q); err != nil {
			p.t.Fatalf("%s: %v", q, err)
		}
	}
}

// Count runs a count query against the server that is primary now.
func (p *Postgres) Count(s *PGServer, query string, args ...any) int {
	p.t.Helper()
	db := p.open(s)
	defer db.Close()
	var n int
	if err := db.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		p.t.Fatalf("%s on %s: %v", query, s.Name, err)
	}
	return n
}

func (p *Postgres) open(s *PGServer) *sql.DB {
	db, err := sql.Open("pgx", fmt.Sprintf("postgres://wardmail@%s/postgres?sslmode=disable", addr(s.Port)))
	if err != nil {
		p.t.Fatal(err)
	}
	return db
}

func (p *Postgres) start(s *PGServer) {
	p.t.Helper()
	s.log = filepath.Join(p.dir, s.Name+".log")
	if err := p.run("pg_ctl", "-D", s.Dir, "-l", s.log, "-w", "-o", "-p "+strconv.Itoa(s.Port), "start"); err != nil {
		p.t.Fatalf("%v\n%s", err, tail(s.log))
	}
}

func (p *Postgres) appendConf(s *PGServer, text string) {
	p.t.Helper()
	path := filepath.Join(s.Dir, "postgresql.conf")
	old, err := os.ReadFile(path)
	if err != nil {
		p.t.Fatal(err)
	}
	if err := p.writeFile(path, string(old)+"\n"+text); err != nil {
		p.t.Fatal(err)
	}
}

// writeFile writes as the user PostgreSQL runs as.
func (p *Postgres) writeFile(path, text string) error {
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		return err
	}
	if len(p.as) > 0 {
		return exec.Command("chown", "postgres:", path).Run()
	}
	return nil
}

func (p *Postgres) run(prog string, args ...string) error {
	argv := append(append(append([]string{}, p.as...), filepath.Join(p.bin, prog)), args...)
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v\n%s", prog, err, out)
	}
	return nil
}
