package sim

import (
	"context"
	"testing"
	"time"

	"wardmail/auth"
)

// A small replay: nobody legitimate is locked out, every sign-in during the
// outage is a temporary failure, and the attacker is held to the policy.
func TestReplayLockoutSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and a few thousand connections")
	}
	res, err := ReplayLockout(context.Background(), LockoutConfig{
		People: 300, Devices: 600, PasswordShare: 0.2, StaleShare: 0.1, Retries: 3,
		AttackSources: 3, AttackAccounts: 20, AttackClients: 2, Outage: 2 * time.Second, Clients: 16,
		Params: auth.TestParams(), DataDir: t.TempDir(), Seed: 7,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + res.String())
	if res.LegitLockedOut != 0 || res.LegitRefusedLocked != 0 || res.LegitLocksOnOwnNet != 0 {
		t.Errorf("legitimate people locked out: %d (refusals %d, locks on their networks %d)", res.LegitLockedOut, res.LegitRefusedLocked, res.LegitLocksOnOwnNet)
	}
	if res.OutageSignIns == 0 || res.OutageNotTemporary != 0 {
		t.Errorf("outage: %d sign-ins, %d not temporary", res.OutageSignIns, res.OutageNotTemporary)
	}
	if res.ClientErrors != 0 {
		t.Errorf("%d client errors", res.ClientErrors)
	}
	if res.AttackEvaluated == 0 || float64(res.AttackMaxPerAccount) > res.AttackPerAccountPerHour {
		t.Errorf("attacker: %d evaluated, max %d per account (bound %.0f)", res.AttackEvaluated, res.AttackMaxPerAccount, res.AttackPerAccountPerHour)
	}
}
