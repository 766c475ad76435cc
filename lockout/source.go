package lockout

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
)

// AccountWide is the source under which an account's unfamiliar sources
// share one budget.
const AccountWide = "*"

// NetworkSource returns the source key of a client address: its /24 (IPv4,
// including IPv4-mapped IPv6) or /56 (IPv6) network, as a prefix string.
// An invalid address is "unknown".
func NetworkSource(addr netip.Addr) string {
	if !addr.IsValid() {
		return "unknown"
	}
	addr = addr.Unmap().WithZone("")
	bits := 56
	if addr.Is4() {
		bits = 24
	}
	p, err := addr.Prefix(bits)
	if err != nil {
		return "unknown"
	}
	return p.String()
}

// DeviceSource returns the source key of a device identifier (e.g. a
// webmail device cookie). The identifier is hashed: keys are stored and
// listed, identifiers are bearer secrets.
func DeviceSource(id string) string {
	h := sha256.Sum256([]byte("wardmail-device\x00" + id))
	return "d:" + hex.EncodeToString(h[:12])
}
