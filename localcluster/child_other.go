//go:build !linux

package localcluster

import "os/exec"

// DieWithParent does nothing where the kernel cannot tie a child's life to
// its parent's.
func DieWithParent(*exec.Cmd) {}
