package auth

// HoldWorker takes one of h's worker slots, as a running hash would, until
// release is called. Tests use it to saturate the pool deterministically.
func (h *Hasher) HoldWorker() (release func()) {
	h.slots <- struct{}{}
	return h.release
}

// CommonPasswordsFile returns the embedded list of common passwords.
func CommonPasswordsFile() string { return commonPasswordsFile }
