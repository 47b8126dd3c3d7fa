//go:build unix

package topic_test

import "syscall"

// cpuTime returns the CPU time the process has used (user and system, every
// thread), in nanoseconds, or -1 when it cannot be read. On a machine shared
// with other work a benchmark's wall time counts the waits for a core; its
// CPU time per operation does not.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
