package background

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
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

// TestHoldWorkers: a hold waits for the job on a worker to end, and no job
// starts until it is released.
func TestHoldWorkers(t *testing.T) {
	p := New(2)
	defer p.Close()
	release := make(chan struct{})
	started := make(chan struct{})
	go p.Run(func() { close(started); <-release })
	<-started
	type held struct {
		release func()
		quiet   bool
	}
	got := make(chan held, 1)
	go func() {
		r, q := p.holdWorkers(time.Minute)
		got <- held{r, q}
	}()
	select {
	case <-got:
		t.Fatal("the hold did not wait for the job on a worker")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	h := <-got
	if !h.quiet {
		t.Fatal("the hold reports work on the workers after it ended")
	}
	ran := make(chan struct{})
	go p.Run(func() { close(ran) })
	select {
	case <-ran:
		t.Fatal("a job started while the workers were held")
	case <-time.After(50 * time.Millisecond):
	}
	h.release()
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("the job given during the hold did not run after its release")
	}
}

// TestHoldWorkersGivesUp: a hold waits no longer than it was told to, says
// the workers were not quiet, and the job it did not wait for ends.
func TestHoldWorkersGivesUp(t *testing.T) {
	p := New(1)
	defer p.Close()
	release := make(chan struct{})
	started := make(chan struct{})
	done := make(chan struct{})
	go func() {
		p.Run(func() { close(started); <-release })
		close(done)
	}()
	<-started
	rel, quiet := p.holdWorkers(20 * time.Millisecond)
	if quiet {
		t.Fatal("the hold reports quiet workers while a job runs")
	}
	close(release)
	<-done
	rel()
	// The pool works after a hold that gave up, and holds again.
	p.Run(func() {})
	rel, quiet = p.holdWorkers(time.Minute)
	if !quiet {
		t.Fatal("the hold reports work on an idle pool")
	}
	rel()
}

// TestPaceCollectsBetweenJobs: while the pool works and allocates past the
// floor, Pace runs collections itself, and every job still runs.
func TestPaceCollectsBetweenJobs(t *testing.T) {
	if testingEnvSet() {
		t.Skip("GOMAXPROCS or GOGC is set in the environment: Pace leaves them alone")
	}
	p := New(2)
	defer p.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	p.Pace(ctx, 8<<20)
	var keep [][]byte
	deadline := time.Now().Add(30 * time.Second)
	for p.collections.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d collections by Pace in 30 s of allocating jobs, want 3", p.collections.Load())
		}
		p.Run(func() {
			for range 64 {
				keep = append(keep[:0], make([]byte, 16<<10))
			}
		})
	}
}

// TestMarkOnly: markOnly runs a collection to the end of its marking and
// leaves the collector's goal as it found it.
func TestMarkOnly(t *testing.T) {
	pct := debug.SetGCPercent(300)
	defer debug.SetGCPercent(pct)
	cycles := func() uint64 {
		s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	var keep [][]byte
	for range 64 {
		keep = append(keep, make([]byte, 64<<10))
	}
	n := cycles()
	if !markOnly(time.Minute) {
		t.Fatal("markOnly started no collection")
	}
	if got := cycles(); got == n {
		t.Fatalf("markOnly returned with %d collections done, as many as before it", got)
	}
	if got := debug.SetGCPercent(300); got != 300 {
		t.Fatalf("GOGC after markOnly is %d, want 300 as before it", got)
	}
	runtime.KeepAlive(keep)
}
