package sqlite

// UpgradeSteps record what the rolling-upgrade rule needs
// (store/upgrade.go, docs/upgrades.md):
//
//   - cluster_nodes.schema_step: how many migration steps each node's
//     binary knows, rewritten by its heartbeat (0: a node from before the
//     rule);
//   - schema_floor: the fewest steps a node must know to run on this
//     database, raised by contract steps.
//
// From the first of these steps on, every step only adds unless it is
// marked as a contract step (store.ExpandOnly).
var UpgradeSteps = []string{`
ALTER TABLE cluster_nodes ADD COLUMN schema_step INTEGER NOT NULL DEFAULT 0;
CREATE TABLE schema_floor (oldest INTEGER NOT NULL);
INSERT INTO schema_floor (oldest) VALUES (0);
`}
