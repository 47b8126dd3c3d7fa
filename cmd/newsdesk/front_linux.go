package main

import "syscall"

// daemonAttrs puts the daemon behind a reader process in a process group of
// its own, so a terminal's Ctrl-C reaches the reader process alone, which
// stops readers first and then the daemon, and has the kernel send it
// SIGTERM if the reader process dies without doing so (kill -9).
func daemonAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
