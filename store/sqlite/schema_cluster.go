package sqlite

// SchemaCluster records the nodes of a cluster and who runs each background
// job (package cluster). SQLite runs one node; the tables are here so that a
// schema version means the same tables in both backends, and so that
// `wardmail cluster status` reads the same way on either.
//
//   - cluster_nodes: one row per node, rewritten by its heartbeat.
//   - cluster_leases: one row per background job; a node runs the job while
//     it holds the lease and renews it before `until`, and another node may
//     take it once it has lapsed (the holder died).
const SchemaCluster = `
CREATE TABLE cluster_nodes (
	name TEXT PRIMARY KEY,
	version TEXT NOT NULL,
	doors TEXT NOT NULL,
	started INTEGER NOT NULL,
	seen INTEGER NOT NULL
);
CREATE TABLE cluster_leases (
	job TEXT PRIMARY KEY,
	holder TEXT NOT NULL,
	until INTEGER NOT NULL
);
`
