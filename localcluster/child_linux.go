package localcluster

import (
	"os/exec"
	"syscall"
)

// DieWithParent makes the kernel kill cmd when the process that started it
// ends, even by a panic that runs no cleanup, so no node, database or
// balancer outlives its test or command holding ports.
func DieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
