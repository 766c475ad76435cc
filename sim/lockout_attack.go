package sim

import (
	"crypto/tls"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"wardmail/auth"
	"wardmail/lockout"
)

// The replay's attacker: a password spray from a few networks of its own.

// attackResult is what the attacker got: guesses made, guesses the server
// checked (not refused unverified), in all and per account.
type attackResult struct {
	seconds            float64
	guesses, evaluated int
	perAccount         map[int]int
	passwords          int
	passwordPerAccount map[int]int
	wait               func() attackResult
}

// startAttack sprays distinct guesses (passwords and app-password shapes)
// at AttackAccounts accounts from AttackSources networks until stop.
func startAttack(cfg LockoutConfig, addrOf func(string) string, tlsc *tls.Config, stop chan struct{}) *attackResult {
	r := &attackResult{perAccount: map[int]int{}, passwordPerAccount: map[int]int{}}
	if cfg.AttackAccounts <= 0 || cfg.AttackSources <= 0 {
		r.wait = func() attackResult { return *r }
		return r
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var n atomic.Int64
	start := time.Now()
	for c := range cfg.AttackClients {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				i := int(n.Add(1))
				k := (i % cfg.AttackAccounts) * (cfg.People / cfg.AttackAccounts)
				from := fmt.Sprintf("127.250.%d.%d", (i/cfg.AttackAccounts)%cfg.AttackSources, 1+c)
				guess := fmt.Sprintf("Winter%d!", i)
				if i%2 == 0 {
					guess, _ = auth.NewAppPassword()
				}
				v, _, _, _ := SignInOnce([]string{"imap", "smtp"}[i%2], addrOf([]string{"imap", "smtp"}[i%2]), from, simEmail(k), guess, tlsc)
				mu.Lock()
				r.guesses++
				if v == verdictBad || v == VerdictOK {
					r.evaluated++
					r.perAccount[k]++
					if i%2 != 0 {
						r.passwords++
						r.passwordPerAccount[k]++
					}
				}
				mu.Unlock()
			}
		})
	}
	r.wait = func() attackResult {
		wg.Wait()
		r.seconds = time.Since(start).Seconds()
		return *r
	}
	return r
}

// guessesPerHourBound is the most guesses one account can have evaluated
// from unfamiliar networks in its first hour under the policy, however many
// networks the attacker has: the account-wide budget, then one guess each
// time the doubling lock expires.
func guessesPerHourBound(p lockout.Policy, _ int) float64 {
	n := p.AccountThreshold
	var t time.Duration
	for i := 1; ; i++ {
		d := p.LockBase << (i - 1)
		if p.LockMax > 0 && d > p.LockMax {
			d = p.LockMax
		}
		t += d
		if t > time.Hour {
			break
		}
		n++
	}
	return float64(n)
}
