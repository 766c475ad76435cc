// Package lockout is Wardmail's smart lockout (DESIGN section 5), modelled on
// Microsoft Entra's: failures are counted per (account, source), where a
// source is the client's network (/24 for IPv4, /56 for IPv6) or a known
// device; a source the account signed in from successfully in the last 30
// days is familiar and has its own, higher budget, and the unfamiliar
// sources of an account also share one budget, so that spraying from many
// networks is bounded too. The same wrong password from the same source
// counts once (a device's stale saved password): the last few wrong
// passwords are kept as keyed, truncated hashes with the counter. Locks
// start at 60 s, double with each lock, and expire by themselves.
//
// Failures the server caused are never counted: the caller says so (an
// unavailable store, a busy hashing pool), failures within a grace period
// after the store failed or was slow are not counted either, and incident
// mode (set by `wardmail admin incident on`) stops all counting.
//
// On a store of its own (SQLite) the Engine keeps its state in memory for
// speed and persists it to the store in batches; it polls the store for
// unlocks and incident mode set by the CLI from another process.
//
// When several servers share the store (PostgreSQL), the database decides
// (shared.go): each counted failure is one write that locks and changes
// the rows it counts against (the source's, the account's shared budget,
// the network's budget), and the checks before a password is verified read
// the rows, so failures through any server count together, a lock or an
// unlock holds on every server at once, and a stale password arriving
// through two servers counts once. The fingerprint key (signin_key_file)
// must then be the same on every server; a server given another refuses to
// start (keycheck.go). Successes are still saved in batches.
package lockout
