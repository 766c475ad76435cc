package auth

import "fmt"

// Params are the argon2id cost parameters (RFC 9106 3.1).
type Params struct {
	Memory  uint32 // memory in KiB (m)
	Time    uint32 // passes over memory (t)
	Threads uint8  // lanes (p)
	KeyLen  uint32 // derived key length in bytes
	SaltLen uint32 // random salt length in bytes
}

// DefaultParams returns OWASP's minimum recommendation for argon2id:
// 19 MiB of memory, 2 passes, 1 lane, a 32-byte key and a 16-byte salt.
func DefaultParams() Params {
	return Params{Memory: 19456, Time: 2, Threads: 1, KeyLen: 32, SaltLen: 16}
}

// TestParams returns the cheapest parameters the package accepts. They are for
// tests only: a hash made with them is trivial to brute-force.
func TestParams() Params {
	return Params{Memory: minMemoryPerThread, Time: 1, Threads: 1, KeyLen: minKeyLen, SaltLen: minSaltLen}
}

// Bounds on parameters, whether they come from configuration or from a stored
// hash. A tampered row must not make one verification allocate gigabytes or
// run for minutes, so anything outside these bounds is refused before argon2
// runs.
const (
	maxMemory          = 4 << 20 // KiB, i.e. 4 GiB
	minMemoryPerThread = 8       // KiB; RFC 9106 3.1: m >= 8*p
	maxTime            = 100
	minSaltLen         = 8 // RFC 9106 3.1 allows 8; 16 is recommended
	maxSaltLen         = 64
	minKeyLen          = 16 // RFC 9106 allows 4; below 16 bytes collisions get cheap
	maxKeyLen          = 64
)

// validate reports whether p is within the bounds this package accepts.
func (p Params) validate() error {
	switch {
	case p.Threads < 1:
		return fmt.Errorf("argon2id parallelism p=%d is below 1", p.Threads)
	case p.Memory < minMemoryPerThread*uint32(p.Threads):
		return fmt.Errorf("argon2id memory m=%d KiB is below 8 KiB per lane", p.Memory)
	case p.Memory > maxMemory:
		return fmt.Errorf("argon2id memory m=%d KiB is above the limit of %d KiB", p.Memory, maxMemory)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("argon2id time t=%d is outside 1..%d", p.Time, maxTime)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("argon2id salt length %d is outside %d..%d bytes", p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("argon2id key length %d is outside %d..%d bytes", p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}
