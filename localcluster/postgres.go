package localcluster

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"wardmail/freeport"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// Postgres is a PostgreSQL primary and, optionally, a synchronous streaming
// standby (every commit is acknowledged only once the standby has it), both
// listening on loopback TCP with trust authentication for user "wardmail".
type Postgres struct {
	Primary, Standby *PGServer
	Dir              string // holds both data folders and their logs

	bin string
	as  []string // runuser prefix when running as root
}

// PGServer is one PostgreSQL server process.
type PGServer struct {
	Name string
	Dir  string // its data folder
	Port int
	Log  string // its log file
}

// PostgresOptions say how to set the cluster up.
type PostgresOptions struct {
	// Standby adds a synchronous streaming standby.
	Standby bool
	// Conf is appended to the primary's postgresql.conf (e.g.
	// "shared_buffers = 256MB").
	Conf string
}

// StartPostgres initialises and starts a primary (and a standby) in a new
// temporary folder. Stop ends them and removes the folder.
func StartPostgres(opt PostgresOptions) (*Postgres, error) {
	bin := ""
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	for _, m := range matches {
		bin = filepath.Dir(m)
	}
	if bin == "" {
		return nil, &Missing{Program: "/usr/lib/postgresql/*/bin/initdb"}
	}
	p := &Postgres{bin: bin}
	// PostgreSQL refuses to run as root: as root it runs as Debian's
	// postgres user, in a folder that user owns.
	dir, err := os.MkdirTemp("", "wardmail-cluster-pg-")
	if err != nil {
		return nil, err
	}
	p.Dir = dir
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root needs Debian's postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
		p.as = []string{"runuser", "-u", "postgres", "--"}
	}
	fail := func(err error) (*Postgres, error) {
		p.Stop()
		return nil, err
	}
	port, err := freeport.Get()
	if err != nil {
		return fail(err)
	}
	p.Primary = &PGServer{Name: "primary", Dir: filepath.Join(dir, "primary"), Port: port, Log: filepath.Join(dir, "primary.log")}
	if err := p.run("initdb", "-D", p.Primary.Dir, "-U", "wardmail", "--auth=trust", "--no-locale", "-E", "UTF8"); err != nil {
		return fail(err)
	}
	conf := "listen_addresses = '127.0.0.1'\nmax_connections = 300\nshared_buffers = 64MB\n" +
		"wal_level = replica\nmax_wal_senders = 4\nwal_keep_size = 256MB\nhot_standby = on\n"
	if opt.Standby {
		conf += "synchronous_standby_names = 'standby'\n"
	}
	if err := p.appendConf(p.Primary, conf+opt.Conf); err != nil {
		return fail(err)
	}
	if err := p.start(p.Primary); err != nil {
		return fail(err)
	}
	if !opt.Standby {
		return p, nil
	}
	if port, err = freeport.Get(); err != nil {
		return fail(err)
	}
	p.Standby = &PGServer{Name: "standby", Dir: filepath.Join(dir, "standby"), Port: port, Log: filepath.Join(dir, "standby.log")}
	if err := p.run("pg_basebackup", "-h", "127.0.0.1", "-p", strconv.Itoa(p.Primary.Port), "-U", "wardmail",
		"-D", p.Standby.Dir, "-X", "stream", "-c", "fast"); err != nil {
		return fail(err)
	}
	if err := p.writeFile(filepath.Join(p.Standby.Dir, "standby.signal"), ""); err != nil {
		return fail(err)
	}
	if err := p.appendConf(p.Standby, fmt.Sprintf("port = %d\nprimary_conninfo = 'host=127.0.0.1 port=%d user=wardmail application_name=standby'\n",
		p.Standby.Port, p.Primary.Port)); err != nil {
		return fail(err)
	}
	if err := p.start(p.Standby); err != nil {
		return fail(err)
	}
	// Synchronous from here on: wait until the primary sees its standby.
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, err := p.Count(p.Primary, `SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'`)
		if err == nil && n == 1 {
			return p, nil
		}
		if time.Now().After(deadline) {
			return fail(fmt.Errorf("the standby never became synchronous\n%s\n%s", Tail(p.Primary.Log), Tail(p.Standby.Log)))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends both servers at once and removes their folder.
func (p *Postgres) Stop() {
	p.Halt()
	_ = os.RemoveAll(p.Dir)
}

// Halt ends both servers at once and keeps their folder (to read after a
// failure).
func (p *Postgres) Halt() {
	for _, s := range []*PGServer{p.Standby, p.Primary} {
		if s != nil {
			_ = p.run("pg_ctl", "-D", s.Dir, "-m", "immediate", "-w", "stop")
		}
	}
}

// URL is the connection string every node is given: both servers, and
// only a read-write one will do (libpq's target_session_attrs, which pgx
// follows), so after a promotion new connections find the new primary.
func (p *Postgres) URL() string {
	hosts := Addr(p.Primary.Port)
	if p.Standby != nil {
		hosts += "," + Addr(p.Standby.Port)
	}
	return "postgres://wardmail@" + hosts + "/postgres?sslmode=disable&target_session_attrs=read-write&connect_timeout=3"
}

// KillPrimary stops the primary at once, as a crash would (no checkpoint,
// connections cut).
func (p *Postgres) KillPrimary() error {
	return p.run("pg_ctl", "-D", p.Primary.Dir, "-m", "immediate", "-w", "stop")
}

// Promote makes the standby the primary (what Patroni or an operator does
// with pg_ctl promote) and waits until it accepts writes.
func (p *Postgres) Promote() error {
	if p.Standby == nil {
		return errors.New("no standby to promote")
	}
	if err := p.run("pg_ctl", "-D", p.Standby.Dir, "-w", "promote"); err != nil {
		return err
	}
	// The standby's configuration is the primary's copy, which waits for a
	// synchronous standby; the new primary has none until one is rebuilt,
	// so it commits alone, as Patroni arranges after a failover.
	db, err := p.Open(p.Standby)
	if err != nil {
		return err
	}
	defer db.Close()
	for _, q := range []string{`ALTER SYSTEM SET synchronous_standby_names = ''`, `SELECT pg_reload_conf()`} {
		if _, err := db.Exec(q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// Count runs a count query on server s.
func (p *Postgres) Count(s *PGServer, query string, args ...any) (int, error) {
	db, err := p.Open(s)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("%s on %s: %w", query, s.Name, err)
	}
	return n, nil
}

// Open connects to one server (not following a failover).
func (p *Postgres) Open(s *PGServer) (*sql.DB, error) {
	return sql.Open("pgx", fmt.Sprintf("postgres://wardmail@%s/postgres?sslmode=disable", Addr(s.Port)))
}

// PID is the postmaster's process id of s (its first line of
// postmaster.pid), 0 when it cannot be read. Its backends are its
// children.
func (p *Postgres) PID(s *PGServer) int {
	b, err := os.ReadFile(filepath.Join(s.Dir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(first))
	return pid
}

func (p *Postgres) start(s *PGServer) error {
	if err := p.run("pg_ctl", "-D", s.Dir, "-l", s.Log, "-w", "-o", "-p "+strconv.Itoa(s.Port), "start"); err != nil {
		return fmt.Errorf("%w\n%s", err, Tail(s.Log))
	}
	return nil
}

func (p *Postgres) appendConf(s *PGServer, text string) error {
	path := filepath.Join(s.Dir, "postgresql.conf")
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return p.writeFile(path, string(old)+"\n"+text)
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
