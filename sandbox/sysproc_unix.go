//go:build unix && !linux

package sandbox

import "syscall"

// sysProcAttr puts Dendrite in its own process group. Outside Linux there is
// no Pdeathsig: a Dendrite whose parent was killed must be stopped by hand.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
