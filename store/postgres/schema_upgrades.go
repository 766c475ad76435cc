package postgres

import "slices"

// upgradeSteps are store/sqlite's UpgradeSteps: what the rolling-upgrade
// rule needs (each node's known schema step, the database's floor).
var upgradeSteps = []string{`
ALTER TABLE cluster_nodes ADD COLUMN schema_step BIGINT NOT NULL DEFAULT 0;
CREATE TABLE schema_floor (oldest BIGINT NOT NULL);
INSERT INTO schema_floor (oldest) VALUES (0);
`}

// expandOnlyFrom is the index of the first step the expand-only rule
// binds: the one that records it. The steps before are history (one of
// them drops an index it replaces, before several nodes existed).
var expandOnlyFrom = slices.Index(Migrations, upgradeSteps[0])
