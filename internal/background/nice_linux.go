package background

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// Slice is the time a worker's thread runs before the kernel lets a
// waiting thread in, where the kernel takes one (Linux 6.12 and later,
// EEVDF's custom slices): its smallest. A thread's priority alone decides
// who runs next, not how soon the running one yields: at the default slice
// (about 3 ms here), two background threads of the lowest priority doubled
// the p99 of readers polling over loopback, where at 0.1 ms they added a
// third.
const Slice = 100_000 // nanoseconds

// lower sets the calling thread's nice value and, where the kernel has
// them, its slice. On Linux both calls take a thread id (0: the caller),
// not the process's.
func lower(nice int) error {
	attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_NORMAL, Nice: int32(nice), Runtime: Slice}
	if err := unix.SchedSetAttr(0, &attr, 0); err == nil {
		return nil
	}
	// Older kernels may refuse the slice: the priority is what matters most.
	if err := syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), nice); err != nil {
		return fmt.Errorf("setpriority %d: %w", nice, err)
	}
	return nil
}

// threadNice is the calling thread's nice value and slice (tests).
func threadNice() (nice int, slice uint64, err error) {
	attr, err := unix.SchedGetAttr(0, 0)
	if err != nil {
		return 0, 0, err
	}
	return int(attr.Nice), attr.Runtime, nil
}

// LowerProcess gives every thread of the process nice and, where the
// kernel has them, the shortest slice, as lower does for one: for a
// process that does nothing but background work (the daemon behind a
// reader process). Threads made later inherit it from the thread that
// makes them, so it goes over the threads until it finds no new one.
func LowerProcess(nice int) error {
	done := map[int]bool{}
	for {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return fmt.Errorf("list the threads: %w", err)
		}
		found := false
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil || done[tid] {
				continue
			}
			found, done[tid] = true, true
			attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_NORMAL, Nice: int32(nice), Runtime: Slice}
			if err := unix.SchedSetAttr(tid, &attr, 0); err != nil {
				if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, nice); err != nil && !errors.Is(err, syscall.ESRCH) {
					return fmt.Errorf("setpriority %d of thread %d: %w", nice, tid, err)
				}
			}
		}
		if !found {
			return nil
		}
	}
}
