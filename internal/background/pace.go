package background

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// HeapFloor is the heap the garbage collector lets a process grow to
// before it collects, while background work runs (see Pace).
const HeapFloor = 256 << 20

// paceRound is how often Pace looks at the pool, and idleRounds how many
// rounds without work give the runtime back its settings.
const (
	paceRound  = 250 * time.Millisecond
	idleRounds = 4
)

// Pace adapts the Go runtime to the pool's work until ctx ends. While the
// pool has work (from the first Run until it has been idle for a second):
//
//   - The runtime has one processor more for each worker (GOMAXPROCS): a
//     worker whose thread the kernel keeps waiting (it runs at the lowest
//     priority) still holds its processor, which a reader's request must
//     not need. With GOMAXPROCS set in the environment it is left alone.
//   - The garbage collector lets the heap grow to floor bytes (or twice
//     what is live, if that is more) between collections, where GOGC=100
//     lets it grow to twice what is live only. A first fetch allocates
//     some 100 KB a story (gofeed's decoding and bbolt's commits, mostly),
//     which with 30 to 60 MB live was a collection every 50 ms, each
//     marking on the readers' cores too (the runtime's mark workers run
//     on every idle processor, at normal priority) and each stopping the
//     world, which waits for every processor, the workers' too. With GOGC
//     set in the environment the collector is left as configured; a
//     GOMEMLIMIT bounds the heap whatever the pacing.
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
	idle := 0
	for {
		select {
		case <-ctx.Done():
			if gcPct != base {
				debug.SetGCPercent(base)
			}
			p.lower()
			return
		case <-tick.C:
		}
		want := base
		if p.busy() {
			idle = 0
			metrics.Read(sample)
			want = gcPercent(sample[0].Value.Uint64(), p.floor, base)
		} else if idle++; idle >= idleRounds {
			p.lower()
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
