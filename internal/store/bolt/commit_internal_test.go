package bolt

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	bbolt "go.etcd.io/bbolt"
)

func openBbolt(t *testing.T) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "c.db"), 0o600, &bbolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }); err != nil {
		t.Fatal(err)
	}
	return db
}

// pendingWrites is how many writes wait for the next commit.
func (c *committer) pendingWrites() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}

// TestCommitterGroupsWritesThatWaitForACommit holds a commit open, as a
// slow fsync does, and checks that every write arriving meanwhile commits
// in the one next transaction, each write's function run in it once, though
// they arrive further apart than minGather (bbolt's Batch commits those in
// a transaction each).
func TestCommitterGroupsWritesThatWaitForACommit(t *testing.T) {
	db := openBbolt(t)
	c := &committer{db: db}
	held, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- c.do(func(tx *bbolt.Tx) error {
			close(held)
			<-release
			return tx.Bucket([]byte("b")).Put([]byte("first"), nil)
		}, 1)
	}()
	<-held
	const n = 8
	var mu sync.Mutex
	txs := map[int]int{} // tx id → writes run in it
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			err := c.do(func(tx *bbolt.Tx) error {
				mu.Lock()
				txs[tx.ID()]++
				mu.Unlock()
				return tx.Bucket([]byte("b")).Put(fmt.Appendf(nil, "w%d", i), nil)
			}, 50)
			if err != nil {
				t.Error(err)
			}
		})
		for c.pendingWrites() < i+1 {
			runtime.Gosched()
		}
		time.Sleep(2 * minGather)
	}
	close(release)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if len(txs) != 1 {
		t.Errorf("the %d writes that waited for one commit ran in %d transactions (%v), want 1", n, len(txs), txs)
	}
	for id, runs := range txs {
		if runs != n {
			t.Errorf("transaction %d ran %d writes, want %d", id, runs, n)
		}
	}
	if err := db.View(func(tx *bbolt.Tx) error {
		if k := tx.Bucket([]byte("b")).Stats().KeyN; k != n+1 {
			return fmt.Errorf("%d keys stored, want %d", k, n+1)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
}

// TestCommitterBoundsATransaction: writes heavier together than maxWeight
// commit in several transactions.
func TestCommitterBoundsATransaction(t *testing.T) {
	db := openBbolt(t)
	c := &committer{db: db}
	held, release := make(chan struct{}), make(chan struct{})
	go c.do(func(*bbolt.Tx) error { close(held); <-release; return nil }, 0)
	<-held
	const n = 10
	var mu sync.Mutex
	txs := map[int]bool{}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			c.do(func(tx *bbolt.Tx) error { mu.Lock(); txs[tx.ID()] = true; mu.Unlock(); return nil }, maxWeight/4)
		})
	}
	for c.pendingWrites() < n {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if want := 4; len(txs) != want { // 3, 3, 3 and 1 of weight maxWeight/4+1
		t.Errorf("%d writes of a quarter of maxWeight ran in %d transactions, want %d", n, len(txs), want)
	}
}

// TestCommitterFailureIsTheWritersOwn: a write whose function fails gets
// its error, and the others in its transaction commit without it; a write
// that panics panics in its own caller only.
func TestCommitterFailureIsTheWritersOwn(t *testing.T) {
	db := openBbolt(t)
	c := &committer{db: db}
	held, release := make(chan struct{}), make(chan struct{})
	go c.do(func(*bbolt.Tx) error { close(held); <-release; return nil }, 0)
	<-held
	bad := errors.New("bad write")
	errs := make([]error, 6)
	panicked := make([]any, 6)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			defer func() { panicked[i] = recover() }()
			errs[i] = c.do(func(tx *bbolt.Tx) error {
				if err := tx.Bucket([]byte("b")).Put(fmt.Appendf(nil, "w%d", i), nil); err != nil {
					return err
				}
				switch i {
				case 2:
					return bad
				case 4:
					panic("broken write")
				}
				return nil
			}, 1)
		})
	}
	for c.pendingWrites() < len(errs) {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	for i := range errs {
		switch {
		case i == 2 && !errors.Is(errs[i], bad):
			t.Errorf("write 2: %v, want its own error", errs[i])
		case i == 4 && panicked[i] == nil:
			t.Errorf("write 4 did not panic in its caller (err %v)", errs[i])
		case i != 2 && i != 4 && (errs[i] != nil || panicked[i] != nil):
			t.Errorf("write %d: %v, panic %v; want committed", i, errs[i], panicked[i])
		}
	}
	db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("b"))
		for i := range errs {
			if got, want := b.Get(fmt.Appendf(nil, "w%d", i)) != nil, i != 2 && i != 4; got != want {
				t.Errorf("w%d stored: %v, want %v", i, got, want)
			}
		}
		return nil
	})
}

// TestCommitterGathersAStream: once a second write joins the first, the
// commit waits for more while they keep coming, each sooner than gatherStep
// after the one before though later than minGather, until maxGather has
// passed since the first (on one core the feeds of a first fetch arrive
// so, parsed while the committer waits); a lone write still commits after
// minGather.
func TestCommitterGathersAStream(t *testing.T) {
	db := openBbolt(t)
	synctest.Test(t, func(t *testing.T) {
		c := &committer{db: db}
		start := time.Now()
		if err := c.do(func(*bbolt.Tx) error { return nil }, 1); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took != minGather {
			t.Errorf("a lone write committed after %v, want minGather (%v)", took, minGather)
		}

		const apart = gatherStep * 3 / 5      // further apart than minGather
		arrive := func(i int) time.Duration { // 0, then 8 ms, then apart after each
			if i == 0 {
				return 0
			}
			return minGather*4/5 + time.Duration(i-1)*apart
		}
		var mu sync.Mutex
		txs := map[int][]int{} // tx id → writes run in it
		committed := make([]time.Duration, 12)
		start = time.Now()
		var wg sync.WaitGroup
		for i := range committed {
			time.Sleep(arrive(i) - time.Since(start))
			wg.Go(func() {
				err := c.do(func(tx *bbolt.Tx) error {
					mu.Lock()
					defer mu.Unlock()
					txs[tx.ID()] = append(txs[tx.ID()], i)
					return tx.Bucket([]byte("b")).Put(fmt.Appendf(nil, "w%d", i), nil)
				}, 50)
				if err != nil {
					t.Error(err)
				}
				committed[i] = time.Since(start)
			})
		}
		wg.Wait()
		for i, at := range committed {
			// The first commit closes maxGather after the first write,
			// holding every write that came by then.
			if arrive(i) <= maxGather && at != maxGather {
				t.Errorf("write %d (at %v) committed at %v, want maxGather (%v) after the first", i, arrive(i), at, maxGather)
			}
			if waited := at - arrive(i); waited > maxGather {
				t.Errorf("write %d waited %v, more than maxGather", i, waited)
			}
		}
		if t.Failed() {
			t.Logf("transactions: %v", txs)
		}
	})
}

// TestCommitterCommitsABurstAtOnce: writes that come together, as those of
// writers each waiting for its commit do, commit after minGather: no
// others are coming, so waiting longer would only slow every writer.
func TestCommitterCommitsABurstAtOnce(t *testing.T) {
	db := openBbolt(t)
	synctest.Test(t, func(t *testing.T) {
		c := &committer{db: db}
		start := time.Now()
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if err := c.do(func(*bbolt.Tx) error { return nil }, 50); err != nil {
					t.Error(err)
				}
				if took := time.Since(start); took != minGather {
					t.Errorf("a write of a burst committed after %v, want minGather (%v)", took, minGather)
				}
			})
		}
		wg.Wait()
		if c.txs != 1 {
			t.Errorf("a burst of 8 writes committed in %d transactions, want 1", c.txs)
		}
	})
}
