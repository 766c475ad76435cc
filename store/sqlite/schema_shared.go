package sqlite

// SharedStateSteps hold what the storm breaker and smart lockout decide on,
// so that several servers sharing one database decide together (DESIGN
// section 6). On SQLite one process owns the database; the tables are the
// same so that the store's SQL is one.
//
//   - storm_locks: one row per thread the breaker has counted; whoever holds
//     its row lock counts the thread's window and in-flight replies.
//   - storm_inflight: a large-audience reply let through whose message is
//     not yet stored; it counts toward its thread's window until recorded
//     (then it is a storm_replies row) or released, or for 10 minutes if
//     the process that made it died.
//   - signin_networks: smart lockout's network budget (password sprays):
//     per client network, counted failures against accounts it is unfamiliar
//     to and successful sign-ins, in the current fixed window and the one
//     before it.
var SharedStateSteps = []string{SchemaSharedState}

// SchemaSharedState is the first of SharedStateSteps.
const SchemaSharedState = `
CREATE TABLE storm_locks (
	thread_id TEXT PRIMARY KEY
);
CREATE TABLE storm_inflight (
	id INTEGER PRIMARY KEY,
	thread_id TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX storm_inflight_thread ON storm_inflight(thread_id, created_at);
CREATE TABLE signin_networks (
	network TEXT PRIMARY KEY,
	window_start INTEGER NOT NULL,
	fails INTEGER NOT NULL DEFAULT 0,
	prev_fails INTEGER NOT NULL DEFAULT 0,
	oks INTEGER NOT NULL DEFAULT 0,
	prev_oks INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX signin_networks_window ON signin_networks(window_start);
`
