package sim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"wardmail/localcluster"
)

// ClusterConfig sets up `wardmail sim cluster`: several `wardmail serve`
// processes on one PostgreSQL and one object store on this machine, driven
// through their real doors one operation at a time, each operation's cost
// read from the processes (/proc), PostgreSQL's statistics and the nodes'
// /metrics.
type ClusterConfig struct {
	Nodes int
	// Database is the PostgreSQL the nodes share; empty starts a
	// throwaway one (localcluster.StartPostgres), whose own CPU is then
	// counted too.
	Database string
	// Standby gives the throwaway PostgreSQL a synchronous streaming
	// standby, so every commit waits for a second server as in production.
	Standby bool
	// S3 starts Versity's S3 gateway for the bodies; without it each node
	// keeps bodies in its own folder, which only one node can serve.
	S3 bool
	// HAProxy sends the clients through HAProxy instead of spreading them
	// round robin over the nodes (per-node operation counts are then
	// unknown; CPU per node is still read).
	HAProxy bool
	Binary  string // the wardmail program (default: this one)

	People, Orgs int    // the synthetic health service imported first
	Seed         uint64 // its seed
	Readers      int    // mailboxes that take the deliveries and are read
	Ops          int    // operations in each of deliver, submit, select-fetch, fetch-body, search
	SignIns      int    // sign-ins in each sign-in phase
	Clients      int    // concurrent clients in each phase
	BodyBytes    int    // size of each delivered message
	ListSize     int    // members of the list posted to
	ListPosts    int    // posts to it
	IdleSessions int    // IMAP sessions left in IDLE to weigh a session's memory
	// Settle is how long to wait after a phase before reading
	// PostgreSQL's statistics: a backend reports them at most once a
	// second when busy and within 10 s when idle (PostgreSQL 15).
	Settle time.Duration
	// Phases, when set, runs only these (see ClusterPhases).
	Phases []string
	Out    io.Writer
}

// ClusterPhases are the phases in the order they run.
var ClusterPhases = []string{"deliver", "submit", "list-post", "materialise", "open", "select-fetch", "fetch-body",
	"search", "signin-apppass", "signin-password", "idle"}

// ClusterResult holds the figures of a run.
type ClusterResult struct {
	Nodes      int     `json:"nodes"`
	HAProxy    bool    `json:"haproxy"`
	S3         bool    `json:"s3"`
	Standby    bool    `json:"synchronous_standby"`
	People     int64   `json:"people"`
	BodyBytes  int     `json:"body_bytes"`
	Load       string  `json:"load_before"`
	LoadAfter  string  `json:"load_after"`
	CPUs       int     `json:"cpus"`
	DBStart    float64 `json:"db_bytes_empty"`
	PersonDB   float64 `json:"db_bytes_per_person"`
	MessageDB  float64 `json:"db_bytes_per_delivered_message"`
	ObjectDisk float64 `json:"object_store_bytes_per_delivered_message"`
	// Baseline is what the idle cluster costs per second (heartbeats,
	// leases), subtracted from every phase.
	Baseline Rates         `json:"baseline_per_s"`
	Phases   []PhaseResult `json:"phases"`
	// Tables are the largest tables (with their indexes and TOAST) at the
	// end of the run.
	Tables []TableSize `json:"tables"`
	Notes  []string    `json:"notes,omitempty"`
}

// Rates are costs per operation (or per second, for the baseline).
type Rates struct {
	NodeCPUms  float64 `json:"node_cpu_ms"`
	PGCPUms    float64 `json:"pg_cpu_ms"`
	S3CPUms    float64 `json:"s3_cpu_ms"`
	LBCPUms    float64 `json:"lb_cpu_ms,omitempty"`
	Commits    float64 `json:"pg_commits"`
	WALBytes   float64 `json:"wal_bytes"`
	WALSyncs   float64 `json:"wal_syncs"`
	BlksRead   float64 `json:"blks_read"`
	BlksHit    float64 `json:"blks_hit"`
	TupWritten float64 `json:"tuples_written"`
	S3Puts     float64 `json:"s3_puts"`
	S3Gets     float64 `json:"s3_gets"`
	S3PutBytes float64 `json:"s3_put_bytes"`
	S3GetBytes float64 `json:"s3_get_bytes"`
	GroupCmts  float64 `json:"node_group_commits"`
}

// PhaseResult is one phase: its rate and latency, and what each operation
// cost the nodes, PostgreSQL and the object store.
type PhaseResult struct {
	Name      string      `json:"name"`
	Ops       int         `json:"ops"`
	Errors    int         `json:"errors"`
	FirstErr  string      `json:"first_error,omitempty"`
	WallSec   float64     `json:"wall_s"`
	OpsPerSec float64     `json:"ops_per_s"`
	P50ms     float64     `json:"p50_ms"`
	P99ms     float64     `json:"p99_ms"`
	PerOp     Rates       `json:"per_op"`
	Nodes     []NodePhase `json:"nodes"`
	// RSSPerSession is the idle phase's resident memory per IMAP session
	// (bytes, averaged over the nodes).
	RSSPerSession float64 `json:"rss_bytes_per_session,omitempty"`
	// GoPerSession is the same from the Go runtime: heap and goroutine
	// stacks in use (less noisy than the resident size).
	GoPerSession float64 `json:"go_inuse_bytes_per_session,omitempty"`

	dbGrowth, objGrowth float64 // bytes the database and the object store grew by
}

// TableSize is one table's size on disk with its indexes.
type TableSize = localcluster.TableSize

// NodePhase is one node's share of a phase.
type NodePhase struct {
	Name       string  `json:"name"`
	Ops        int     `json:"ops"`
	OpsPerSec  float64 `json:"ops_per_s"`
	P50ms      float64 `json:"p50_ms"`
	P99ms      float64 `json:"p99_ms"`
	CPUSec     float64 `json:"cpu_s"`
	CPUPerOpMs float64 `json:"cpu_ms_per_op"`
	RSSMB      float64 `json:"rss_mb"`
}

// simCluster is a running cluster and what measures it.
type simCluster struct {
	cfg   ClusterConfig
	nodes []*localcluster.Node
	pg    *localcluster.Postgres
	s3    *localcluster.S3Gateway
	lb    *localcluster.Balancer
	db    *localcluster.PGStats
	url   string
	tlsc  *tls.Config
	logf  func(string, ...any)
}

func (c *ClusterConfig) defaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.Nodes, 3)
	def(&c.People, 20000)
	def(&c.Orgs, 40)
	def(&c.Readers, 200)
	def(&c.Ops, 2000)
	def(&c.SignIns, 200)
	def(&c.Clients, 8)
	def(&c.BodyBytes, 12<<10)
	def(&c.ListSize, 1000)
	def(&c.ListPosts, 10)
	def(&c.IdleSessions, 600)
	if c.Settle <= 0 {
		c.Settle = 11 * time.Second
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
	if len(c.Phases) == 0 {
		c.Phases = ClusterPhases
	}
}

// RunCluster starts the cluster, prepares the people, runs the phases and
// stops everything it started.
func RunCluster(ctx context.Context, cfg ClusterConfig) (*ClusterResult, error) {
	cfg.defaults()
	for _, p := range cfg.Phases {
		if !slices.Contains(ClusterPhases, p) {
			return nil, fmt.Errorf("unknown phase %q: %s", p, strings.Join(ClusterPhases, ", "))
		}
	}
	if cfg.Readers+3 > cfg.People || cfg.ListSize+3 > cfg.People {
		return nil, errors.New("--people must be larger than --readers and --list-size")
	}
	if cfg.Binary == "" {
		var err error
		if cfg.Binary, err = os.Executable(); err != nil {
			return nil, err
		}
	}
	sc := &simCluster{cfg: cfg, tlsc: &tls.Config{InsecureSkipVerify: true}}
	sc.logf = func(format string, a ...any) {
		fmt.Fprintf(cfg.Out, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
	}
	res := &ClusterResult{Nodes: cfg.Nodes, HAProxy: cfg.HAProxy, S3: cfg.S3, Standby: cfg.Standby && cfg.Database == "", BodyBytes: cfg.BodyBytes, Load: loadAverage(), CPUs: runtime.NumCPU()}
	dir, err := os.MkdirTemp("", "wardmail-sim-cluster-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := sc.start(dir); err != nil {
		sc.stop()
		return nil, err
	}
	defer sc.stop()
	if err := sc.run(ctx, res); err != nil {
		return res, err
	}
	res.LoadAfter = loadAverage()
	return res, nil
}

// start brings up PostgreSQL (unless given), the gateway, the nodes and
// HAProxy.
func (sc *simCluster) start(dir string) error {
	cfg := sc.cfg
	url := cfg.Database
	if url == "" {
		sc.logf("starting a throwaway PostgreSQL...")
		var err error
		sc.pg, err = localcluster.StartPostgres(localcluster.PostgresOptions{Standby: cfg.Standby,
			Conf: "max_connections = 400\nshared_buffers = 256MB\n"})
		if err != nil {
			return err
		}
		url = sc.pg.URL()
	}
	lines := []string{"sender_limits = off", "storm_breaker = off", "inbound_auth = off", "outbound = off",
		"local_domains = " + stormDomain,
		// Pending list posts are materialised when a member reads, so
		// that the materialise phase measures it (the idle-time trickle
		// would do it in the background otherwise).
		"post_trickle_interval = 0s"}
	if cfg.S3 {
		sc.logf("starting Versity's S3 gateway...")
		var err error
		if sc.s3, err = localcluster.StartS3(filepath.Join(dir, "s3")); err != nil {
			return err
		}
		if err := sc.s3.Bucket("bodies"); err != nil {
			return err
		}
		secret := filepath.Join(dir, "s3.secret")
		if err := os.WriteFile(secret, []byte(sc.s3.SecretKey), 0o600); err != nil {
			return err
		}
		lines = append(lines, "s3_endpoint = "+sc.s3.Addr, "s3_bucket = bodies", "s3_access_key = "+sc.s3.AccessKey,
			"s3_secret_key_file = "+secret, "s3_insecure = on")
	}
	sc.logf("starting %d wardmail serve nodes...", cfg.Nodes)
	var err error
	sc.nodes, err = localcluster.StartNodes(cfg.Nodes, localcluster.NodeOptions{Binary: cfg.Binary, Dir: filepath.Join(dir, "nodes"),
		Database: url, Config: lines})
	if err != nil {
		return err
	}
	if cfg.HAProxy {
		if sc.lb, err = localcluster.StartHAProxy(dir, sc.nodes); err != nil {
			return err
		}
	}
	sc.url = url
	sc.db, err = localcluster.OpenPGStats(url)
	return err
}

func (sc *simCluster) stop() {
	if sc.db != nil {
		_ = sc.db.Close()
	}
	if sc.lb != nil {
		sc.lb.Stop()
	}
	for _, nd := range sc.nodes {
		nd.Kill()
	}
	if sc.s3 != nil {
		sc.s3.Stop()
	}
	if sc.pg != nil {
		sc.pg.Stop()
	}
}

// addr is where client k of a phase connects for door: the balancer, or
// node k mod N; node is the index of that node (-1 behind the balancer).
func (sc *simCluster) addr(k int, door string) (string, int) {
	if sc.lb != nil {
		return sc.lb.Addrs[door], -1
	}
	n := k % len(sc.nodes)
	return sc.nodes[n].Addrs[door], n
}
