package quickack

import "syscall"

// quickAck leaves delayed-ACK ("pingpong") mode, which sends an ACK that is
// pending; the kernel re-enters that mode by itself as the session goes on.
func quickAck(fd uintptr) {
	_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
}
