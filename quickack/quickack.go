package quickack

import (
	"net"
	"syscall"
)

// Ack sends the ACK of what nc's TCP connection has received, now, if it is
// owed. nc may be wrapped (TLS, connection limits): wrappers that give
// their NetConn are looked through. Failures are ignored: the ACK then
// leaves when the kernel's delayed-ACK timer fires, as before.
func Ack(nc net.Conn) {
	for nc != nil {
		if sc, ok := nc.(syscall.Conn); ok {
			if rc, err := sc.SyscallConn(); err == nil {
				_ = rc.Control(quickAck)
			}
			return
		}
		u, ok := nc.(interface{ NetConn() net.Conn })
		if !ok {
			return
		}
		nc = u.NetConn()
	}
}
