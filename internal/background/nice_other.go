//go:build !linux

package background

import (
	"errors"
	"runtime"
)

// Slice is the workers' slice where the platform has one (Linux).
const Slice = 0

// lower cannot set one thread's priority on this platform: the workers run
// at the process's, still bounded to the pool's size.
func lower(int) error {
	return errors.New("thread priorities are not set on " + runtime.GOOS)
}

func threadNice() (int, uint64, error) { return 0, 0, lower(0) }

// LowerProcess cannot set the threads' priorities on this platform.
func LowerProcess(int) error { return lower(0) }
