package ingest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"reflect"
	"sync"
	"time"

	"github.com/newsdesk/newsdesk/internal/fetch"
	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

// Source state lives in two places: the store, which must survive a crash,
// and this cache, which every refresh reads and updates. What is written
// when:
//
//   - A refresh that stores stories writes the state in the same Put: the
//     validators and the stories commit together or not at all.
//   - A change that matters after a crash (status, validators, error,
//     failure count, the feed's ttl, a move) is written soon, by a writer
//     goroutine that commits every such change waiting at that moment in one
//     transaction, so no refresh waits for the disk.
//   - NextFetch is written soon when it moved by more than min_interval from
//     what the store holds (see mustSave): after a kill -9 a source is then
//     polled at most one min_interval before its ttl, max-age, Retry-After or
//     backoff allowed, and an unchanged upstream whose ttl is no longer than
//     min_interval (the common case) still costs no write at all.
//   - Timestamps alone (LastAttempt, LastSuccess, a NextFetch that moved less
//     than that) wait for Close or Scheduler.Stop: a kill -9 forgets them,
//     which only makes the status page show an older last attempt. With
//     Options.SaveEvery set (a store other processes read: the replicas of
//     a shared one), a running Scheduler also writes them that often.

// cached is one source's state as the ingester knows it.
type cached struct {
	st        store.SourceState
	why       Why       // what set st.NextFetch
	ver       uint64    // bumped by every change of st
	saved     uint64    // the version the store holds
	savedNext time.Time // st.NextFetch as the store holds it
	urgent    bool      // a change the store should have soon
	// write orders the writes of this source: the state writer never
	// commits an older state over a Put that committed a newer one.
	write sync.Mutex
}

// state returns the source's cache entry, read from the store the first
// time.
func (in *Ingester) state(ctx context.Context, name string) (*cached, store.SourceState, error) {
	in.mu.Lock()
	c, ok := in.states[name]
	if ok {
		st := c.st
		in.mu.Unlock()
		return c, st, nil
	}
	in.mu.Unlock()
	st, err := in.db.Source(ctx, name)
	if err != nil {
		return nil, st, err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if c, ok := in.states[name]; ok { // loaded meanwhile by another caller
		return c, c.st, nil
	}
	c = in.load(name, st)
	return c, st, nil
}

// load puts st, as read from the store, in the cache. in.mu is held.
func (in *Ingester) load(name string, st store.SourceState) *cached {
	c := in.states[name]
	if c == nil {
		c = &cached{}
		in.states[name] = c
	}
	c.st, c.why, c.savedNext, c.urgent = st, in.derivedWhy(st), st.NextFetch, false
	c.ver++
	c.saved = c.ver
	return c
}

// reload re-reads every source's state from the store, except the sources
// being refreshed or holding changes the store does not have yet: another
// process (a previous leader) may have polled them meanwhile.
func (in *Ingester) reload(ctx context.Context) error {
	all, err := in.db.Sources(ctx)
	if err != nil {
		return fmt.Errorf("read source states: %w", err)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	for name, st := range all {
		if c := in.states[name]; c != nil && (in.busy[name] || c.ver != c.saved) {
			continue
		}
		in.load(name, st)
	}
	return nil
}

// derivedWhy guesses what set st.NextFetch for a state read from the store,
// which does not record it.
func (in *Ingester) derivedWhy(st store.SourceState) Why {
	switch {
	case st.Status == story.StatusGone:
		return WhyGone
	case st.Failures > 0:
		return WhyBackoff
	case st.NextFetch.Sub(st.LastAttempt) > in.opts.MinInterval+time.Second:
		return WhyTTL
	}
	return WhyMinInterval
}

// keep records st, a state that brought no stories, in the cache, and has it
// written soon when mustSave says so.
func (in *Ingester) keep(c *cached, prev, st store.SourceState, why Why) {
	in.mu.Lock()
	defer in.mu.Unlock()
	c.st, c.why = st, why
	c.ver++
	if in.mustSave(prev, st, c.savedNext) {
		c.urgent = true
		in.startWriter()
	}
}

// mustSave reports whether st must reach the store soon rather than at
// Close. savedNext is the NextFetch the store holds.
//
// After a crash the store's NextFetch decides the first poll: the source is
// polled at max(restart, savedNext), and the restart comes after the last
// poll (st.LastAttempt). That poll honours st.NextFetch to within one
// min_interval as long as max(savedNext, LastAttempt) >= NextFetch -
// min_interval, so NextFetch is written when it moved further than that; a
// source without a ttl longer than min_interval has NextFetch = LastAttempt +
// min_interval and never needs the write. A savedNext later than NextFetch
// by more than min_interval is written too (an upstream that shortened its
// ttl, a forced fetch), or a restart would poll that much late.
func (in *Ingester) mustSave(prev, st store.SourceState, savedNext time.Time) bool {
	if !reflect.DeepEqual(material(prev), material(st)) { // == cannot compare Warnings
		return true
	}
	floor := savedNext
	if st.LastAttempt.After(floor) {
		floor = st.LastAttempt
	}
	return st.NextFetch.Sub(floor) > in.opts.MinInterval || savedNext.Sub(st.NextFetch) > in.opts.MinInterval
}

// material is st without what moves on every healthy poll: the times, and
// the difference between a 200 with the same bytes and a 304.
func material(st store.SourceState) store.SourceState {
	st.LastAttempt, st.LastSuccess, st.NextFetch = time.Time{}, time.Time{}, time.Time{}
	if st.Status == story.StatusNotModified {
		st.Status = story.StatusOK
	}
	if st.Status == story.StatusOK {
		st.LastStatus = 0
	}
	return st
}

// put stores the stories of a refresh with st, the source's new state, in
// one store transaction.
func (in *Ingester) put(ctx context.Context, c *cached, name string, st store.SourceState, why Why, stories []story.Story, now time.Time) (store.PutResult, error) {
	c.write.Lock()
	defer c.write.Unlock()
	res, err := in.db.Put(ctx, name, st, stories, now)
	if err != nil {
		return res, err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	c.st, c.why, c.savedNext, c.urgent = st, why, st.NextFetch, false
	c.ver++
	c.saved = c.ver
	return res, nil
}

// startWriter starts the state writer unless it runs. in.mu is held. The
// writer exits when nothing urgent is left, so an idle Ingester holds no
// goroutine.
func (in *Ingester) startWriter() {
	if in.writing || in.closing {
		return // Close writes what is left
	}
	in.writing = true
	in.idle = make(chan struct{})
	in.writers.Go(in.writeLoop)
}

// settle waits until the state writer has nothing urgent left: everything a
// crash must not lose, from the refreshes that have ended, is in the store.
// A round that fails (a full disk) ends the wait too: the writer retries on
// its own, and a caller must not hang on it.
func (in *Ingester) settle() {
	in.mu.Lock()
	if !in.writing {
		in.mu.Unlock()
		return
	}
	if in.retrying { // the writer failed and waits to retry: nothing to wait for now
		in.mu.Unlock()
		return
	}
	idle := in.idle
	in.mu.Unlock()
	<-idle
}

// writeLoop writes urgent states until none is left. Each round writes
// everything urgent at its start in one store transaction (the store's
// PutSource calls made at once commit together), so a thousand sources
// failing at once cost a few commits, not a thousand. A failed round (a full
// disk) is retried with backoff; the states stay in the cache meanwhile.
func (in *Ingester) writeLoop() {
	wait := time.Second
	for {
		in.mu.Lock()
		var names []string
		for name, c := range in.states {
			if c.urgent {
				names = append(names, name)
			}
		}
		if len(names) == 0 || in.closing {
			in.writing, in.retrying = false, false
			close(in.idle)
			in.mu.Unlock()
			return
		}
		in.mu.Unlock()
		err := in.write(names)
		if err == nil {
			wait = time.Second
			in.mu.Lock()
			in.retrying = false
			in.mu.Unlock()
			continue
		}
		in.log.Error("save source state; retrying", "sources", len(names), "in", wait, "err", err)
		in.mu.Lock()
		// Release settle's waiters, and let later ones through until a round
		// succeeds: a settle that came after the failure would otherwise wait
		// for the retry (and, with the disk still full, for the one after).
		close(in.idle)
		in.idle = make(chan struct{})
		in.retrying = true
		in.mu.Unlock()
		select {
		case <-time.After(wait):
		case <-in.stop:
		}
		wait = min(2*wait, time.Minute)
	}
}

// write writes the named sources' states that the store does not have,
// concurrently so that the store can commit them together.
func (in *Ingester) write(names []string) error {
	const atOnce = 512 // bbolt batches up to 1000 calls per commit
	sem := make(chan struct{}, atOnce)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, name := range names {
		in.mu.Lock()
		c := in.states[name]
		in.mu.Unlock()
		if c == nil {
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := in.writeOne(name, c); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("save state of %s: %w", name, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (in *Ingester) writeOne(name string, c *cached) error {
	c.write.Lock()
	defer c.write.Unlock()
	in.mu.Lock()
	st, ver := c.st, c.ver
	if c.saved == ver {
		c.urgent = false
		in.mu.Unlock()
		return nil
	}
	in.mu.Unlock()
	// Not the daemon's context: a state write at shutdown must still land.
	if err := in.db.PutSource(context.Background(), name, st); err != nil {
		return err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	c.saved, c.savedNext = ver, st.NextFetch
	if c.ver == ver {
		c.urgent = false
	}
	return nil
}

// Flush writes every source state the store does not have yet, urgent or
// not, and returns when it is written. Close and Scheduler.Stop flush; a
// caller that reads source state from the store itself (a test, another
// process about to take over) flushes first.
func (in *Ingester) Flush() error { return in.flush() }

// flush writes every state the store does not have yet, urgent or not.
func (in *Ingester) flush() error {
	in.mu.Lock()
	var names []string
	for name, c := range in.states {
		if c.ver != c.saved {
			names = append(names, name)
		}
	}
	in.mu.Unlock()
	return in.write(names)
}

// discard drops the cache entries whose state the store does not have (see
// Scheduler.Abandon), so the next read of those sources goes to the store.
// Entries being refreshed are kept: none are once the scheduler has ended.
func (in *Ingester) discard() {
	in.mu.Lock()
	defer in.mu.Unlock()
	for name, c := range in.states {
		if c.ver != c.saved && !in.busy[name] {
			delete(in.states, name)
		}
	}
}

// succeeded is st after the good answer res: its validators and final URL
// are kept for the next conditional request. wait is how long upstream asked
// us to wait (ttl, max-age); it is honoured up to MaxInterval, and a source is
// polled at most once per MinInterval, counted from slot, the time it was due
// (so that a source queued behind others for a while keeps its cadence).
func (in *Ingester) succeeded(st store.SourceState, now, slot time.Time, res *fetch.Result, wait time.Duration, status story.Status) (store.SourceState, Why) {
	st.ETag, st.LastModified, st.FinalURL = res.Validators.ETag, res.Validators.LastModified, res.FinalURL
	st.LastSuccess = now
	st.LastStatus = res.Status
	st.LastError = ""
	st.Failures = 0
	st.Status = status
	why := WhyTTL
	st.NextFetch = now.Add(min(wait, in.opts.MaxInterval))
	if floor := slot.Add(in.opts.MinInterval); !st.NextFetch.After(floor) {
		st.NextFetch, why = floor, WhyMinInterval
	}
	return st, why
}

// failed is st after err: the status word, the failure count, and when to try
// again (Retry-After when upstream gave one, else exponential backoff).
func (in *Ingester) failed(st store.SourceState, now time.Time, err error) (store.SourceState, Why) {
	st.Failures++
	st.LastError = err.Error()
	st.Status = story.StatusFailing
	st.LastStatus = 0
	wait, why := in.backoff(st.Failures), WhyBackoff
	if _, ok := errors.AsType[*fetch.RefusedError](err); ok {
		st.Status = story.StatusRefused
	}
	if se, ok := errors.AsType[*fetch.StatusError](err); ok {
		st.LastStatus = se.Code
		switch {
		case se.Code == http.StatusGone:
			st.Status, why = story.StatusGone, WhyGone
		case se.Code == http.StatusUnauthorized || se.Code == http.StatusForbidden || se.Challenge:
			st.Status = story.StatusBlocked
		}
		if se.RetryAfter > 0 && why != WhyGone {
			wait, why = min(se.RetryAfter, in.opts.MaxInterval), WhyRetryAfter
		}
	}
	st.NextFetch = now.Add(wait)
	return st, why
}

// backoff is the wait after n consecutive failures: MinInterval doubled per
// failure, capped at MaxInterval, with ±20% jitter so that sources failing
// together do not retry together.
func (in *Ingester) backoff(n int) time.Duration {
	d := in.opts.MinInterval
	for i := 1; i < n && d < in.opts.MaxInterval; i++ {
		d *= 2
	}
	return min(time.Duration(float64(d)*(0.8+0.4*rand.Float64())), in.opts.MaxInterval)
}
