// Package background runs the daemon's background CPU work (parsing and
// classifying fetched feeds, store commits, re-classification, renders
// ahead of readers) on a few OS threads of the lowest scheduling
// priority, so that a reader's request finds a core at once however busy
// ingest is, and ingest still has every core nobody else wants.
//
// A bound on concurrent work alone (the slots this replaced) does not do
// that: a goroutine holding a processor keeps it until it blocks or the Go
// scheduler preempts it after 10 ms, and the operating system shares cores
// between the daemon's threads and everyone else's equally. Under a first
// fetch, readers' requests waited up to 17 ms for a processor that way
// (issue 10's and 11's readers during ingest). Here each worker goroutine
// is locked to a thread of its own, niced to 19, given the kernel's
// shortest time slice where it has them (Slice) and never handed back, so
// the kernel lets any other runnable thread in at once; Pace gives the Go
// runtime one processor per worker on top of the cores while the pool has
// work, so a worker waiting for the kernel never holds a processor that a
// request needs; and meanwhile the garbage collector runs less often,
// because its marking runs on every processor, and only between jobs,
// because a collection waits for every running goroutine to stop.
package background

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// Nice is the scheduling priority of the workers' threads: the lowest.
const Nice = 19

// Pool runs work on its workers, at most Size at a time; a nil Pool runs
// it on the calling goroutine.
type Pool struct {
	// ran counts the jobs begun, and running those not yet done: whether
	// the pool had work since Pace last looked.
	ran, running atomic.Int64
	// active counts the jobs on a worker now; hold is set while the
	// workers are held (holdWorkers), to a channel closed at the release,
	// and drained told of the last job ending meanwhile.
	active      atomic.Int64
	hold        atomic.Pointer[chan struct{}]
	drained     chan struct{}
	collections atomic.Int64 // run by Pace (collect)
	seen        int64        // ran when Pace last looked (its goroutine's)
	// What Pace does (set before it starts, read after): raise GOMAXPROCS
	// while work runs (raised says it is), pace the collector to floor.
	paceProcs, paceGC bool
	floor             uint64
	raised            atomic.Bool
	procs             sync.Mutex // held to raise or lower GOMAXPROCS
	jobs              chan *job
	quit              chan struct{} // closed by Close
	closing           sync.Once
	size              int
	once              sync.Once
	niced             error // why the workers' threads could not be niced; nil when they were
}

type job struct {
	f     func()
	done  chan struct{}
	panic any // what f panicked with
	stack []byte
	exit  bool // f called runtime.Goexit
}

// New returns a pool of n workers (at least one), started at the first Run.
func New(n int) *Pool {
	return &Pool{jobs: make(chan *job), quit: make(chan struct{}), drained: make(chan struct{}, 1), size: max(n, 1)}
}

// Niced reports whether the workers' threads run at the lowest priority
// (nil) or why not (the platform cannot, or the system refused). It starts
// the workers.
func (p *Pool) Niced() error {
	p.start()
	return p.niced
}

func (p *Pool) start() {
	p.once.Do(func() {
		errs := make(chan error, p.size)
		for range p.size {
			go p.worker(errs)
		}
		for range p.size {
			if err := <-errs; err != nil && p.niced == nil {
				p.niced = err
			}
		}
	})
}

// Close ends the workers (and their threads) once the work they run now
// is done; work given to the pool after that runs on the caller, as with
// a nil Pool.
func (p *Pool) Close() {
	if p != nil {
		p.closing.Do(func() { close(p.quit) })
	}
}

// Run runs f on a worker, waiting for a free one, and returns when f
// does. A panic in f is raised again on the caller's goroutine, and a
// runtime.Goexit in f ends the caller's goroutine too, so f behaves as if
// it ran in place; f must not itself call Run on the same pool (with every
// worker in such a call, none would be left to run the inner work).
func (p *Pool) Run(f func()) {
	if p == nil {
		f()
		return
	}
	p.start()
	p.ran.Add(1)
	p.running.Add(1)
	defer p.running.Add(-1)
	p.raise()
	j := &job{f: f, done: make(chan struct{})}
	select {
	case p.jobs <- j:
	case <-p.quit:
		f()
		return
	}
	<-j.done
	switch {
	case j.panic != nil:
		panic(fmt.Sprintf("%v [in a background worker]\n%s", j.panic, j.stack))
	case j.exit:
		runtime.Goexit()
	}
}

// worker runs jobs on a thread of its own, niced and never unlocked: when
// its goroutine ends, the runtime ends the thread with it rather than hand
// a low-priority thread to other goroutines.
func (p *Pool) worker(started chan<- error) {
	runtime.LockOSThread()
	started <- lower(Nice)
	for {
		select {
		case j := <-p.jobs:
			p.run(j)
		case <-p.quit:
			return
		}
	}
}

// run runs one job. When f calls Goexit, which ends this goroutine (and
// its thread), another worker takes this one's place.
func (p *Pool) run(j *job) {
	p.enter()
	defer p.leave()
	returned := false
	defer func() {
		if !returned {
			j.exit = true
			go p.worker(make(chan error, 1))
		}
		close(j.done)
	}()
	defer func() {
		if r := recover(); r != nil {
			j.panic, j.stack = r, stack()
			returned = true
		}
	}()
	j.f()
	returned = true
}

// enter counts a job as on a worker, first waiting for a hold on the
// workers to be released. It counts before it looks and holdWorkers sets
// the hold before it counts, so either the hold sees this job or this job
// sees the hold.
func (p *Pool) enter() {
	for {
		p.active.Add(1)
		h := p.hold.Load()
		if h == nil {
			return
		}
		p.leave() // a hold may be waiting for this count
		<-*h
	}
}

// leave counts a job as ended, and tells a hold waiting for the workers
// when it was the last.
func (p *Pool) leave() {
	if p.active.Add(-1) == 0 && p.hold.Load() != nil {
		select {
		case p.drained <- struct{}{}:
		default:
		}
	}
}

// busy reports whether the pool has had work since the last call (one
// goroutine's: Pace's).
func (p *Pool) busy() bool {
	ran := p.ran.Load()
	busy := ran != p.seen || p.running.Load() > 0
	p.seen = ran
	return busy
}

func stack() []byte {
	b := make([]byte, 16<<10)
	return b[:runtime.Stack(b, false)]
}
