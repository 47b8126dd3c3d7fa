package background

import (
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// HeapFloor is the heap the garbage collector lets a process grow to
// before it collects, while background work runs (see PaceGC).
const HeapFloor = 256 << 20

// PaceGC makes the garbage collector run less often while the pool has
// work, until ctx ends: the heap may then grow to floor bytes (or twice
// what is live, if that is more) between collections, where the default
// (GOGC=100) lets it grow to twice what is live only.
//
// A first fetch allocates some 100 KB a story (gofeed's decoding and
// bbolt's commits, mostly), which with a live heap of 30 to 60 MB was a
// collection every 50 ms; each marks on the readers' cores too (the
// runtime's mark workers run on every idle processor, at normal priority),
// and readers' p99 under ingest went from 2.6 to 5 times its idle value
// at GOGC=100. When the pool has been idle for a round (a quarter of a
// second), the collector is given back its setting, and the heap goes back
// to what it was within a collection. With GOGC set in the environment
// the collector is left as configured; a GOMEMLIMIT still bounds the
// heap, whatever the pacing.
func (p *Pool) PaceGC(ctx context.Context, floor uint64) {
	if p == nil || os.Getenv("GOGC") != "" {
		return
	}
	const base = 100 // GOGC's default
	go func() {
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		current := base
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		for {
			select {
			case <-ctx.Done():
				if current != base {
					debug.SetGCPercent(base)
				}
				return
			case <-tick.C:
			}
			want := base
			if p.busy() {
				metrics.Read(sample)
				want = gcPercent(sample[0].Value.Uint64(), floor, base)
			}
			// Small changes are not worth a new goal: within a tenth.
			if want != current && (want == base || diff(want, current)*10 > current) {
				debug.SetGCPercent(want)
				current = want
			}
		}
	}()
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
