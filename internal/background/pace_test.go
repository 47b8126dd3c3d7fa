package background

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestGCPercent(t *testing.T) {
	for _, c := range []struct {
		live, floor uint64
		want        int
	}{
		{0, HeapFloor, 100},         // nothing measured yet
		{32 << 20, 256 << 20, 700},  // 32 MiB live may grow by 224 MiB
		{64 << 20, 256 << 20, 300},  // 64 MiB by 192 MiB
		{128 << 20, 256 << 20, 100}, // twice what is live reaches the floor: the default
		{1 << 30, 256 << 20, 100},   // a heap over the floor keeps the default
		{1 << 10, 256 << 20, 5000},  // a tiny heap: at most 50 times the default
	} {
		if got := gcPercent(c.live, c.floor, 100); got != c.want {
			t.Errorf("gcPercent(%d MiB live, %d MiB floor) = %d, want %d", c.live>>20, c.floor>>20, got, c.want)
		}
	}
}

// TestPaceWhileWorking: while the pool has work the runtime has a processor
// more per worker and the collector a higher GOGC; once the pool is idle,
// both are back to their defaults.
func TestPaceWhileWorking(t *testing.T) {
	if testingEnvSet() {
		t.Skip("GOMAXPROCS or GOGC is set in the environment: Pace leaves them alone")
	}
	runtime.GC() // so that the live heap is measured
	procs := runtime.GOMAXPROCS(0)
	p := New(2)
	defer p.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	p.Pace(ctx, 1<<40) // a floor far over what is live: GOGC goes up
	release := make(chan struct{})
	started := make(chan struct{})
	go p.Run(func() { close(started); <-release })
	<-started
	if got := runtime.GOMAXPROCS(0); got != procs+2 {
		t.Errorf("GOMAXPROCS is %d while the pool works, want %d", got, procs+2)
	}
	waitFor(t, "a higher GOGC while the pool works", func() bool { return gogc() > 100 })
	close(release)
	waitFor(t, "the default GOMAXPROCS and GOGC once the pool is idle", func() bool {
		return runtime.GOMAXPROCS(0) == procs && gogc() == 100
	})
}

func testingEnvSet() bool {
	for _, k := range []string{"GOMAXPROCS", "GOGC"} {
		if v, ok := lookupEnv(k); ok && v != "" {
			return true
		}
	}
	return false
}

// gogc reads the collector's percent without changing it for long.
func gogc() int {
	v := debug.SetGCPercent(100)
	debug.SetGCPercent(v)
	return v
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 10 s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var lookupEnv = os.LookupEnv
