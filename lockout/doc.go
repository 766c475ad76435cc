// Package lockout is Wardmail's smart lockout (DESIGN section 5), modelled on
// Microsoft Entra's: failures are counted per (account, source), where a
// source is the client's network (/24 for IPv4, /56 for IPv6) or a known
// device; a source the account signed in from successfully in the last 30
// days is familiar and has its own, higher budget, and the unfamiliar
// sources of an account also share one budget, so that spraying from many
// networks is bounded too. The same wrong password from the same source
// counts once (a device's stale saved password): the last few wrong
// passwords are kept as keyed hashes, in memory only. Locks start at 60 s,
// double with each lock, and expire by themselves.
//
// Failures the server caused are never counted: the caller says so (an
// unavailable store, a busy hashing pool), failures within a grace period
// after the store failed or was slow are not counted either, and incident
// mode (set by `wardmail admin incident on`) stops all counting.
//
// The Engine keeps its state in memory for speed and persists it to the
// store in batches; it polls the store for unlocks and incident mode set by
// the CLI from another process.
package lockout
