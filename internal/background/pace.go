package background

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
	"time"
)

// HeapFloor is the heap the garbage collector lets a process grow to
// before it collects, while background work runs (see Pace).
const HeapFloor = 256 << 20

// paceRound is how often Pace looks at the pool, and idleRounds how many
// rounds without work give the runtime back its settings; heapRound is how
// often it looks at the heap while the pool has work, and holdWait how long
// a collection it starts waits for the jobs on the workers to end.
const (
	paceRound  = 250 * time.Millisecond
	idleRounds = 4
	heapRound  = 10 * time.Millisecond
	holdWait   = 100 * time.Millisecond
)

// Pace adapts the Go runtime to the pool's work until ctx ends. While the
// pool has work (from the first Run until it has been idle for a second):
//
//   - The runtime has one processor more for each worker (GOMAXPROCS): a
//     worker whose thread the kernel keeps waiting (it runs at the lowest
//     priority) still holds its processor, which a reader's request must
//     not need. With GOMAXPROCS set in the environment it is left alone.
//   - The heap grows to floor bytes (or twice what is live, if that is
//     more) between collections, where GOGC=100 lets it grow to twice what
//     is live only. A first fetch allocates some 100 KB a story (gofeed's
//     decoding and bbolt's commits, mostly), which with 30 to 60 MB live
//     was a collection every 50 ms, each marking on the readers' cores too
//     (the runtime's mark workers run on every idle processor, at normal
//     priority) and each stopping the world, which waits for every
//     processor, the workers' too.
//   - Pace starts those collections itself, between jobs (collect): the
//     workers finish what they run and take nothing new until its marking
//     is done (the sweep after it is theirs, see collect).
//     A collection that starts while a worker runs must stop the worker's
//     goroutine to scan its stack, and waits for the kernel to run the
//     worker's thread, which it does last; meanwhile the collector's
//     threads, at the readers' priority, spin and yield on the readers'
//     cores. Under a first fetch that wait was nearly half of the runtime's
//     sched_yield calls (perf record -e syscalls:sys_enter_sched_yield -g),
//     each of them 1 to 7 ms. The collector's own goal is set at one and a
//     half times the floor, for the collections Pace does not start in
//     time (a job that runs longer than holdWait, such as a
//     re-classification, is not waited for).
//
// With GOGC set in the environment the collector is left as configured; a
// GOMEMLIMIT bounds the heap whatever the pacing.
//
// Idle, the runtime keeps its defaults, so serving alone is as it would be
// without the pool.
func (p *Pool) Pace(ctx context.Context, floor uint64) {
	if p == nil {
		return
	}
	p.paceProcs = os.Getenv("GOMAXPROCS") == ""
	p.paceGC = os.Getenv("GOGC") == ""
	p.floor = floor
	go p.pace(ctx)
}

func (p *Pool) pace(ctx context.Context) {
	const base = 100 // GOGC's default
	tick := time.NewTicker(paceRound)
	defer tick.Stop()
	gcPct := base
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	// The heap the collector's goal counts is what the last collection
	// left live and what was allocated since it ended. (The runtime's
	// count of object bytes would do only with the heap swept: it holds
	// dead objects until their spans are swept, and collect leaves the
	// sweeping to the allocations after it.)
	heap := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/cycles/total:gc-cycles"}}
	var cycle, since uint64 // the last collection seen, and the allocations when it was first seen
	idle := 0
	var live uint64 // as the last round with work read it
	heapTick := time.NewTicker(heapRound)
	heapTick.Stop() // until the pool has work
	defer heapTick.Stop()
	for {
		select {
		case <-ctx.Done():
			if gcPct != base {
				debug.SetGCPercent(base)
			}
			p.lower()
			return
		case <-heapTick.C:
			metrics.Read(heap)
			if allocs, n := heap[0].Value.Uint64(), heap[1].Value.Uint64(); n != cycle {
				cycle, since = n, allocs
			} else if live+allocs-since >= max(p.floor, 2*live) {
				p.collect()
			}
			continue
		case <-tick.C:
		}
		want := base
		if p.busy() {
			idle = 0
			metrics.Read(sample)
			live = sample[0].Value.Uint64()
			want = gcPercent(live, p.floor+p.floor/2, base)
			if p.paceGC {
				heapTick.Reset(heapRound)
			}
		} else if idle++; idle >= idleRounds {
			p.lower()
			heapTick.Stop()
		}
		if !p.paceGC {
			continue
		}
		// Small changes are not worth a new goal: within a tenth.
		if want != gcPct && (want == base || diff(want, gcPct)*10 > gcPct) {
			debug.SetGCPercent(want)
			gcPct = want
		}
	}
}

// collect runs a collection with the workers held (see Pace) while it
// marks. The sweep after it is left to the allocations that follow, the
// workers' mostly, and to the runtime's background sweeper. runtime.GC
// sweeps the whole heap before it returns, on its caller's thread at the
// readers' priority, and with the workers still held the background
// sweeper found an idle processor too: of the collector's work at the
// readers' priority during their slowest answers under a first fetch,
// the two sweeps were nearly two thirds (perf record). Sweeping after
// the release, readers' p99 during a re-classification of 1M stories went
// from 2.1-2.3 to 1.4-1.7 times their idle p99 (servebench reclassify).
func (p *Pool) collect() {
	release, _ := p.holdWorkers(holdWait)
	defer release()
	if !markOnly(holdWait) {
		runtime.GC() // a collection did not start: the runtime's own way
	}
	p.collections.Add(1)
}

// markOnly starts a collection and returns when its marking is done,
// within wait; false when none started (the caller then runs one itself).
//
// The runtime starts a collection when an allocation finds the heap past
// its goal, so markOnly lowers the goal to next to nothing (GOGC=1),
// allocates until a collection's first stop of the world, and puts the
// goal back at once: an allocation past the goal during marking makes its
// goroutine help mark, in proportion to how far past it is.
func markOnly(wait time.Duration) bool {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/sched/pauses/total/gc:seconds"}}
	read := func() (cycles, pauses uint64) {
		metrics.Read(s)
		for _, n := range s[1].Value.Float64Histogram().Counts {
			pauses += n
		}
		return s[0].Value.Uint64(), pauses
	}
	cycles, pauses := read()
	started := false
	pct := debug.SetGCPercent(1)
	for range 100 { // 10 ms
		// A large object is allocated from the heap, where the goal is
		// checked.
		b := make([]byte, 64<<10)
		trigger.Store(&b)
		if c, ps := read(); c != cycles || ps != pauses {
			started = true
			break
		}
		time.Sleep(100 * time.Microsecond)
	}
	trigger.Store(nil)
	debug.SetGCPercent(pct)
	if !started {
		return false
	}
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(200 * time.Microsecond) {
		if c, _ := read(); c != cycles {
			break
		}
	}
	return true
}

// trigger holds markOnly's allocation, so that it is not optimised away.
var trigger atomic.Pointer[[]byte]

// holdWorkers stops the workers taking jobs until release is called, and
// waits up to wait for the jobs on them now to end; quiet says they did.
// A job given to the pool meanwhile waits for the release.
func (p *Pool) holdWorkers(wait time.Duration) (release func(), quiet bool) {
	ch := make(chan struct{})
	select { // a signal left by an earlier hold
	case <-p.drained:
	default:
	}
	p.hold.Store(&ch)
	release = func() {
		p.hold.Store(nil)
		close(ch)
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for p.active.Load() > 0 {
		select {
		case <-p.drained:
		case <-timer.C:
			return release, false
		}
	}
	return release, true
}

// raise gives the runtime a processor for each worker on top of its
// default, once until lower; Run calls it before handing out work.
func (p *Pool) raise() {
	if !p.paceProcs || p.raised.Load() {
		return
	}
	p.procs.Lock()
	defer p.procs.Unlock()
	if !p.raised.Load() {
		runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + p.size)
		p.raised.Store(true)
	}
}

// lower gives the runtime back its default processors when no work runs.
func (p *Pool) lower() {
	p.procs.Lock()
	defer p.procs.Unlock()
	if p.raised.Load() && p.running.Load() == 0 {
		runtime.SetDefaultGOMAXPROCS()
		p.raised.Store(false)
	}
}

// gcPercent is the GOGC that lets a heap of live bytes grow to floor
// before the next collection, never below base nor above 50 times it.
func gcPercent(live, floor uint64, base int) int {
	if live == 0 || floor <= live*uint64(100+base)/100 {
		return base
	}
	return min(int((floor-live)*100/live), 50*base)
}

func diff(a, b int) int { return max(a-b, b-a) }
