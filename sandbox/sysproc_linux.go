package sandbox

import "syscall"

// sysProcAttr puts Dendrite in its own process group (Stop signals the group;
// a Ctrl-C in the terminal reaches only us, and we stop it cleanly) and has
// the kernel SIGKILL it if our process dies, so that tests never leak a
// homeserver. Pdeathsig follows the thread that forked: Go only retires
// threads locked with LockOSThread, which never run this goroutine.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
