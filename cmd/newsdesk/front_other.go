//go:build !linux

package main

import "syscall"

// daemonAttrs is the default elsewhere: the daemon shares the reader
// process's group, and a terminal's Ctrl-C reaches both.
func daemonAttrs() *syscall.SysProcAttr { return nil }
