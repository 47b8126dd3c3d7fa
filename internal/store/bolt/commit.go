package bolt

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/newsdesk/newsdesk/internal/background"

	bbolt "go.etcd.io/bbolt"
)

// committer commits the writes of concurrent Puts and PutSources together,
// one transaction and one fsync for all of them, as bbolt's Batch does with
// one difference that matters on a slow disk: the writes that arrive while
// a commit runs all wait for the next commit, however long this one takes.
// bbolt's Batch closes a batch MaxBatchDelay after its first write and
// queues it behind the running commit, so with an fsync of 50 ms every
// commit held the 10 ms of writes before it and the feeds of a first fetch
// waited in a line of small commits, each rewriting its own share of the
// index pages. Here the commits grow with the disk's latency instead.
//
// A write waits at least minGather (bbolt's MaxBatchDelay) for others to
// join it, so a quiet store commits no more often than bbolt's Batch did.
// When others do join, and not all at once with it, the commit goes on
// gathering while they keep coming (each within gatherStep of the one
// before), up to maxGather after its first write or maxWeight. On one core that is what makes commits large:
// there a commit holds the core, so the feeds of a first fetch, parsed in
// the gaps, arrive one at a time, and a commit that closed after minGather
// held about two of them. Each commit costs some 6 ms of CPU whatever it
// holds (it rewrites the pages of the time and topic indexes its stories
// land on, and every branch page above them, and fsyncs), which for 1,000
// feeds in commits of two was as much again as writing their stories.
type committer struct {
	db  *bbolt.DB
	cpu *background.Pool // where commits run (Options.Background); nil: on loop's goroutine

	mu      sync.Mutex
	pending []*write
	weight  int  // of pending
	running bool // a goroutine runs loop
	// txs and committed count the transactions committed and the weight
	// they held, for benchmarks.
	txs, committed int
}

// write is one caller's part of a commit.
type write struct {
	fn     func(*bbolt.Tx) error
	weight int // how much it adds to a transaction: its stories, and one
	since  time.Time
	done   chan error
}

const (
	// minGather is how long the first write of a quiet moment waits for
	// others (bbolt's default MaxBatchDelay).
	minGather = 10 * time.Millisecond
	// gatherStep is how soon after the last write another must come for a
	// commit to wait for it, once minGather is over and others joined the
	// first write: longer than a feed takes to parse on a busy core. On one
	// core, BenchmarkIngest/fetch's commits held 10 feeds with 50 ms (the
	// gaps between feeds were longer), 35 with 100 ms.
	gatherStep = 100 * time.Millisecond
	// maxGather bounds how long a write waits for others, so a story is
	// visible within a second of its fetch (this, then its commit).
	maxGather = 400 * time.Millisecond
	// maxWeight bounds one transaction: about 2,000 stories (40 feeds of
	// 50) keep its dirty pages in the tens of megabytes.
	maxWeight = 2000
)

// errAlone is what a write whose function failed inside a shared
// transaction is told: it runs again in a transaction of its own, so that
// its error is its own and the others commit without it.
var errAlone = errors.New("run alone")

// do runs fn in a read-write transaction shared with the other writes
// waiting at the moment, and returns when that transaction is committed
// (or failed). fn may run more than once, in rolled-back transactions, so
// it must only set its results, never add to them. weight is how many
// stories fn writes.
func (c *committer) do(fn func(*bbolt.Tx) error, weight int) error {
	w := &write{fn: fn, weight: weight + 1, since: time.Now(), done: make(chan error, 1)}
	c.mu.Lock()
	c.pending = append(c.pending, w)
	c.weight += w.weight
	start := !c.running
	c.running = true
	c.mu.Unlock()
	if start {
		go c.loop()
	}
	err := <-w.done
	if err == errAlone {
		return c.db.Update(fn) // a panic is the caller's again, as with bbolt's Batch
	}
	return err
}

// loop commits what is pending until nothing is.
func (c *committer) loop() {
	for {
		c.mu.Lock()
		if len(c.pending) == 0 {
			c.running = false
			c.mu.Unlock()
			return
		}
		if wait := c.gather(); wait > 0 && c.weight < maxWeight {
			c.mu.Unlock()
			time.Sleep(wait)
			continue
		}
		var take, weight int
		for take < len(c.pending) && (take == 0 || weight+c.pending[take].weight <= maxWeight) {
			weight += c.pending[take].weight
			take++
		}
		batch := c.pending[:take:take]
		c.pending = append([]*write(nil), c.pending[take:]...)
		c.weight -= weight
		c.txs++
		c.committed += weight
		c.mu.Unlock()
		c.commit(batch)
	}
}

// gather returns how much longer the pending writes should wait for others
// before they commit (see committer); c.mu is held.
func (c *committer) gather() time.Duration {
	age := time.Since(c.pending[0].since)
	if wait := minGather - age; wait > 0 {
		return wait
	}
	last := c.pending[len(c.pending)-1].since
	if len(c.pending) == 1 || age >= maxGather || last.Sub(c.pending[0].since) < minGather/2 {
		// Alone after minGather, or waited long enough, or the others came
		// at once with the first: writers that each wait for their commit
		// (all of them are here), not a stream.
		return 0
	}
	quiet := time.Since(last)
	return min(gatherStep-quiet, maxGather-age)
}

// commit runs batch in one transaction. When a write's function fails,
// the transaction is rolled back, that write is told to run alone, and the
// others are tried again without it.
func (c *committer) commit(batch []*write) {
	c.cpu.Run(func() { c.commitOn(batch) })
}

// commitOn is commit, on the goroutine it runs on.
func (c *committer) commitOn(batch []*write) {
	for len(batch) > 0 {
		failed := -1
		err := c.db.Update(func(tx *bbolt.Tx) error {
			for i, w := range batch {
				if err := safely(w.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed >= 0 {
			batch[failed].done <- errAlone
			batch = append(batch[:failed:failed], batch[failed+1:]...)
			continue
		}
		for _, w := range batch { // committed, or bbolt's own error for all
			w.done <- err
		}
		return
	}
}

// safely calls fn, turning a panic into an error, as bbolt's Batch does: a
// write that panics fails alone instead of taking the others' commit down.
func safely(fn func(*bbolt.Tx) error, tx *bbolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in a store write: %v", p)
		}
	}()
	return fn(tx)
}
