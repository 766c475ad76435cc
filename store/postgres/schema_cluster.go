package postgres

// schemaCluster is store/sqlite's SchemaCluster.
const schemaCluster = `
CREATE TABLE cluster_nodes (
	name TEXT COLLATE "C" PRIMARY KEY,
	version TEXT COLLATE "C" NOT NULL,
	doors TEXT COLLATE "C" NOT NULL,
	started BIGINT NOT NULL,
	seen BIGINT NOT NULL
);
CREATE TABLE cluster_leases (
	job TEXT COLLATE "C" PRIMARY KEY,
	holder TEXT COLLATE "C" NOT NULL,
	until BIGINT NOT NULL
);
`
