package sim

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"wardmail/auth"
	"wardmail/directory"
	"wardmail/store"
	"wardmail/store/postgres"
)

// clusterPeople are the simulated staff and their credentials.
type clusterPeople struct {
	poster  string   // owns and posts to the list
	readers []string // take the deliveries; read, search, sign in
	members []string // the list's members
	appPass map[string]string
	list    string
}

// snapshot is every counter at one moment.
type snapshot struct {
	at      time.Time
	nodeCPU []float64
	nodeRSS []int64
	metrics []map[string]float64
	pgCPU   float64
	s3CPU   float64
	lbCPU   float64
	pg      pgCounters
	objects float64 // bytes under the gateway's folder
}

func (sc *simCluster) snap(ctx context.Context) (snapshot, error) {
	s := snapshot{at: time.Now()}
	for _, nd := range sc.nodes {
		s.nodeCPU = append(s.nodeCPU, cpuSeconds(nd.PID()))
		s.nodeRSS = append(s.nodeRSS, rssBytes(nd.PID()))
		m, err := scrapeMetrics(nd.Addrs["http"], sc.tlsc)
		if err != nil {
			return s, fmt.Errorf("%s: %w", nd.Name, err)
		}
		s.metrics = append(s.metrics, m)
	}
	if sc.pg != nil {
		s.pgCPU = treeCPUSeconds(sc.pg.PID(sc.pg.Primary))
	}
	if sc.lb != nil {
		s.lbCPU = cpuSeconds(sc.lb.PID())
	}
	if sc.s3 != nil {
		s.s3CPU = cpuSeconds(sc.s3.PID())
		s.objects = dirBytes(sc.s3.Dir)
	}
	var err error
	s.pg, err = sc.db.Counters(ctx)
	return s, err
}

func dirBytes(dir string) float64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return float64(n)
}

// diff is what happened between two snapshots, as totals.
func diff(a, b snapshot) Rates {
	var r Rates
	for i := range a.nodeCPU {
		r.NodeCPUms += (b.nodeCPU[i] - a.nodeCPU[i]) * 1000
		m, n := a.metrics[i], b.metrics[i]
		r.S3Puts += n["s3_requests_put"] - m["s3_requests_put"]
		r.S3Gets += n["s3_requests_get"] - m["s3_requests_get"]
		r.S3PutBytes += n["s3_bytes_put"] - m["s3_bytes_put"]
		r.S3GetBytes += n["s3_bytes_get"] - m["s3_bytes_get"]
		r.GroupCmts += n["store_commits"] - m["store_commits"]
	}
	r.PGCPUms = (b.pgCPU - a.pgCPU) * 1000
	r.S3CPUms = (b.s3CPU - a.s3CPU) * 1000
	r.LBCPUms = (b.lbCPU - a.lbCPU) * 1000
	r.Commits = b.pg.Commits - a.pg.Commits
	r.WALBytes = b.pg.WALBytes - a.pg.WALBytes
	r.WALSyncs = b.pg.WALSyncs - a.pg.WALSyncs
	r.BlksRead = b.pg.BlksRead - a.pg.BlksRead
	r.BlksHit = b.pg.BlksHit - a.pg.BlksHit
	r.TupWritten = (b.pg.TupIns + b.pg.TupUpd + b.pg.TupDel) - (a.pg.TupIns + a.pg.TupUpd + a.pg.TupDel)
	return r
}

// scaled is r times k.
func (r Rates) scaled(k float64) Rates {
	return Rates{r.NodeCPUms * k, r.PGCPUms * k, r.S3CPUms * k, r.LBCPUms * k, r.Commits * k, r.WALBytes * k, r.WALSyncs * k,
		r.BlksRead * k, r.BlksHit * k, r.TupWritten * k, r.S3Puts * k, r.S3Gets * k, r.S3PutBytes * k, r.S3GetBytes * k, r.GroupCmts * k}
}

// minus is r less o, never below zero.
func (r Rates) minus(o Rates) Rates {
	z := func(a, b float64) float64 { return max(0, a-b) }
	return Rates{z(r.NodeCPUms, o.NodeCPUms), z(r.PGCPUms, o.PGCPUms), z(r.S3CPUms, o.S3CPUms), z(r.LBCPUms, o.LBCPUms),
		z(r.Commits, o.Commits), z(r.WALBytes, o.WALBytes), z(r.WALSyncs, o.WALSyncs), z(r.BlksRead, o.BlksRead),
		z(r.BlksHit, o.BlksHit), z(r.TupWritten, o.TupWritten), z(r.S3Puts, o.S3Puts), z(r.S3Gets, o.S3Gets),
		z(r.S3PutBytes, o.S3PutBytes), z(r.S3GetBytes, o.S3GetBytes), z(r.GroupCmts, o.GroupCmts)}
}

// prepare imports the synthetic service, makes the list and gives the
// simulated staff an app password each and a real argon2id password.
func (sc *simCluster) prepare(ctx context.Context, res *ClusterResult) (*clusterPeople, error) {
	cfg := sc.cfg
	st, err := postgres.Open(ctx, sc.url, postgres.Options{BlobDir: filepath.Join(sc.nodes[0].Data, "sim-blobs")})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	before, err := sc.db.Counters(ctx)
	if err != nil {
		return nil, err
	}
	res.DBStart = before.DBBytes
	sc.logf("importing a synthetic health service of %d people in %d organisations...", cfg.People, cfg.Orgs)
	pr, pw := io.Pipe()
	go func() {
		_, err := WritePeopleCSV(pw, GenConfig{People: cfg.People, Orgs: cfg.Orgs, Seed: cfg.Seed, Domain: stormDomain})
		pw.CloseWithError(err)
	}()
	if _, err := directory.Import(ctx, st, pr, "people.csv", auth.DefaultParams()); err != nil {
		return nil, err
	}
	if res.People, err = st.CountPeople(ctx); err != nil {
		return nil, err
	}
	after, err := sc.db.Counters(ctx)
	if err != nil {
		return nil, err
	}
	res.PersonDB = (after.DBBytes - before.DBBytes) / float64(res.People)

	cp := &clusterPeople{appPass: map[string]string{}, list: "sim-cluster-list@" + stormDomain}
	want := max(cfg.Readers, cfg.ListSize) + 1
	var ids []int64
	var emails []string
	for id := int64(1); len(ids) < want && id < int64(cfg.People)*2; id++ {
		p, err := st.PersonByID(ctx, id)
		if err == store.ErrNotFound {
			continue
		} else if err != nil {
			return nil, err
		}
		ids, emails = append(ids, p.ID), append(emails, p.Email)
	}
	if len(ids) < want {
		return nil, fmt.Errorf("found %d people, want %d", len(ids), want)
	}
	cp.poster, cp.readers, cp.members = emails[0], emails[1:cfg.Readers+1], emails[1:cfg.ListSize+1]
	sc.logf("making a list of %d members, owned by %s...", cfg.ListSize, cp.poster)
	if _, err := st.CreateList(ctx, "sim", store.ListSpec{Address: cp.list, Name: "Sim cluster list", Kind: store.ListStatic,
		Owners: ids[:1], Members: ids[1 : cfg.ListSize+1], PostPolicy: "senders", CreatedBy: ids[0]}); err != nil {
		return nil, err
	}
	sc.logf("giving %d people an app password and an argon2id password (production parameters)...", len(ids))
	hash, err := auth.HashPassword(auth.DefaultParams(), stormPassword)
	if err != nil {
		return nil, err
	}
	var aps []store.AppPasswordRecord
	for i, id := range ids {
		secret, h := auth.NewAppPassword()
		cp.appPass[emails[i]] = secret
		aps = append(aps, store.AppPasswordRecord{PersonID: id, Name: "sim device", Hash: h, Scopes: []string{auth.ScopeIMAP, auth.ScopeSMTP}})
	}
	if err := st.AddAppPasswords(ctx, aps); err != nil {
		return nil, err
	}
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	sem := make(chan struct{}, 8)
	for _, id := range ids {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := st.SetPassword(ctx, id, hash); err != nil {
				failed.Store(&err)
			}
		})
	}
	wg.Wait()
	if e := failed.Load(); e != nil {
		return nil, *e
	}
	return cp, nil
}
