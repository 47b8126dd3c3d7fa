package ingest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/newsdesk/newsdesk/internal/story"
)

// Plan says when to refresh what: Spec for every source without a schedule of
// its own, each source's Schedule for the others.
type Plan struct {
	Spec     string         // cron spec: 5 fields, an optional seconds field, or @every/@hourly
	Location *time.Location // zone of the specs [UTC]
	Sources  []story.Source
}

// specParser accepts what admins write: 5 fields, 6 with seconds, descriptors.
var specParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSpec parses a cron spec. cron v3.0.1 panics on some malformed specs
// ("CRON_TZ=Asia/Tokyo" alone); that panic becomes an error here.
func ParseSpec(spec string) (s cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("invalid schedule %q", spec)
		}
	}()
	s, err = specParser.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("invalid schedule %q: %w", spec, err)
	}
	return s, nil
}

// A Scheduler polls each source of a Plan when it is due, until Stop.
//
// Each source has its own due time: the first tick of its schedule (its
// own, or the plan's Spec) at or after the time its state says it may be
// polled again (NextFetch: min_interval after the last poll, upstream's ttl
// or max-age, Retry-After, backoff). A dispatcher goroutine sleeps until the
// earliest due time and hands the sources due then to a pool of
// Options.Workers; a source whose poll is still running when its next tick
// comes skips that tick (never two refreshes of one source at once), and no
// source waits for another's: a slow upstream holds one worker (until the
// fetch timeouts end it) and its own schedule, nothing else; a refresh whose
// stories wait for the store to commit them has given its worker back (see
// refreshAt), so the store commits the feeds that wait together. Cron specs tick
// on the clock ("*/15 * * * *": :00, :15, …); "@every 15m" ticks every 15
// minutes from the moment the plan (or that source's schedule) was set.
//
// The sources due at one moment make a Run, logged in one line as its last
// source ends, after which retention runs.
//
// An Ingester has at most one Scheduler at a time. Stop ends it cleanly
// (running fetches cancelled, source state written), and Schedule may then
// start another: a replica that gains and loses the leadership of fetching
// starts and stops its Scheduler; each start reads every source's state
// afresh from the store.
type Scheduler struct {
	in     *Ingester
	ctx    context.Context
	cancel context.CancelFunc
	loc    *time.Location
	sem    chan struct{} // worker slots
	wake   chan struct{} // the plan or a due time changed
	done   chan struct{} // the dispatcher returned
	jobs   sync.WaitGroup
	stop   sync.Once

	mu      sync.Mutex
	spec    string  // the plan's Spec
	global  cadence // its ticks
	entries map[string]*entry
	order   []string // plan order
}

// entry is one source in the plan.
type entry struct {
	src     story.Source
	own     string  // its own schedule spec; "" takes the plan's
	cad     cadence // its ticks
	next    time.Time
	why     Why
	running bool
	force   bool // the next poll ignores the source's not-before: its url changed
}

// cadence is the ticks of one schedule.
type cadence struct {
	sched  cron.Schedule
	loc    *time.Location
	anchor time.Time // "@every d" ticks at anchor + k·d
}

// after returns the first tick strictly after t; zero if there is none.
func (c cadence) after(t time.Time) time.Time {
	if d, ok := c.sched.(cron.ConstantDelaySchedule); ok {
		if t.Before(c.anchor) {
			return c.anchor.Add(d.Delay)
		}
		return c.anchor.Add((t.Sub(c.anchor)/d.Delay + 1) * d.Delay)
	}
	// cron reads a spec without CRON_TZ in the zone of the time it is given.
	return c.sched.Next(t.In(c.loc))
}

// from returns the first tick at or after t.
func (c cadence) from(t time.Time) time.Time { return c.after(t.Add(-time.Nanosecond)) }

// since returns the first tick after a poll at last that another
// scheduler, with its own anchor, made: "@every d" ticks d after it (that
// scheduler's anchor is not known here), a cron spec on its next tick.
func (c cadence) since(last time.Time) time.Time {
	if d, ok := c.sched.(cron.ConstantDelaySchedule); ok {
		return last.Add(d.Delay)
	}
	return c.sched.Next(last.In(c.loc))
}

// Schedule starts polling on plan: every source at once (unless its state
// says not yet; with Options.Resume, at the next poll its stored last poll
// implies), then as described on Scheduler. Running refreshes are
// cancelled by Stop or when ctx ends.
func (in *Ingester) Schedule(ctx context.Context, plan Plan) (*Scheduler, error) {
	in.mu.Lock()
	if in.sched != nil {
		in.mu.Unlock()
		return nil, errors.New("schedule: a scheduler runs already; stop it first")
	}
	in.mu.Unlock()
	if err := in.reload(ctx); err != nil {
		return nil, fmt.Errorf("schedule: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	loc := plan.Location
	if loc == nil {
		loc = time.UTC
	}
	s := &Scheduler{in: in, ctx: ctx, cancel: cancel, loc: loc, sem: make(chan struct{}, in.opts.Workers),
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	if err := s.Replace(plan); err != nil {
		cancel()
		return nil, err
	}
	in.mu.Lock()
	if in.sched != nil { // another Schedule won the race
		in.mu.Unlock()
		cancel()
		return nil, errors.New("schedule: a scheduler runs already; stop it first")
	}
	in.sched = s
	in.mu.Unlock()
	go s.dispatch()
	if in.opts.SaveEvery > 0 {
		s.jobs.Go(s.saveLoop)
	}
	return s, nil
}

// scheduler returns the running Scheduler, or nil.
func (in *Ingester) scheduler() *Scheduler {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.sched
}

// Replace swaps the plan (after a config reload). Sources new to the plan,
// and sources whose url changed, are fetched at once; the others keep their
// next poll, unless their schedule changed. A source removed from the plan
// is not polled again (a running refresh of it ends normally). A bad spec
// leaves the old plan running.
func (s *Scheduler) Replace(plan Plan) error {
	global, err := ParseSpec(plan.Spec)
	if err != nil {
		return err
	}
	own := map[string]cron.Schedule{}
	for _, src := range plan.Sources {
		if src.Schedule == "" {
			continue
		}
		sched, err := ParseSpec(src.Schedule)
		if err != nil {
			return fmt.Errorf("source %s: %w", src.Name, err)
		}
		own[src.Name] = sched
	}

	now := s.in.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	first := s.entries == nil
	globalChanged := first || plan.Spec != s.spec
	if globalChanged {
		s.spec, s.global = plan.Spec, cadence{sched: global, loc: s.loc, anchor: now}
	}
	entries := make(map[string]*entry, len(plan.Sources))
	order := make([]string, 0, len(plan.Sources))
	for _, src := range plan.Sources {
		e, known := s.entries[src.Name]
		if !known {
			e = &entry{}
		}
		urlChanged := known && e.src.URL != src.URL
		cadChanged := !known || e.own != src.Schedule || (src.Schedule == "" && globalChanged)
		e.src, e.own = src, src.Schedule
		if cadChanged {
			e.cad = s.global
			if src.Schedule != "" {
				e.cad = cadence{sched: own[src.Name], loc: s.loc, anchor: now}
			}
		}
		switch {
		case urlChanged:
			// The state's not-before was about the old URL.
			e.next, e.why, e.force = now, WhyNew, true
		case !known && first:
			s.first(e, now, WhyStartup, s.in.opts.Resume)
		case !known:
			s.first(e, now, WhyNew, false)
		case cadChanged && !e.running:
			s.plan(e, now, now)
		}
		entries[src.Name] = e
		order = append(order, src.Name)
	}
	s.entries, s.order = entries, order
	s.in.mu.Lock()
	s.in.plan = slices.Clone(plan.Sources)
	s.in.mu.Unlock()
	s.poke()
	return nil
}

// first sets e's first poll: now, unless its state says not yet; with
// resume (Options.Resume, as the scheduler starts), not before the first
// tick of its schedule after its last poll either: the poll the previous
// leader had planned.
func (s *Scheduler) first(e *entry, now time.Time, why Why, resume bool) {
	st, stWhy, gone := s.in.notBefore(e.src.Name)
	switch {
	case gone:
		e.next, e.why = time.Time{}, WhyGone
	case st.After(now):
		e.next, e.why = e.cad.from(st), stWhy
	default:
		e.next, e.why = now, why
	}
	if last := s.in.lastAttempt(e.src.Name); resume && !gone && !last.IsZero() {
		if t := e.cad.since(last); t.After(e.next) {
			e.next, e.why = t, WhySchedule
		}
	}
}

// plan sets e's next poll after a poll due at slot that ended at now: the
// first tick after slot that is not in the past and not before the
// source's not-before. s.mu is held.
func (s *Scheduler) plan(e *entry, slot, now time.Time) {
	notBefore, why, gone := s.in.notBefore(e.src.Name)
	if gone {
		e.next, e.why = time.Time{}, WhyGone
		return
	}
	after := slot
	if now.Add(-time.Nanosecond).After(after) {
		after = now.Add(-time.Nanosecond)
	}
	e.next, e.why = e.cad.after(after), WhySchedule
	if !e.next.IsZero() && e.next.Before(notBefore) {
		e.next, e.why = e.cad.from(notBefore), why
	}
}

// notBefore is the source's NextFetch and what set it, and whether it is
// gone, from the state cache.
func (in *Ingester) notBefore(name string) (time.Time, Why, bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	c := in.states[name]
	if c == nil {
		return time.Time{}, "", false
	}
	return c.st.NextFetch, c.why, c.st.Status == story.StatusGone
}

// lastAttempt is when the source was last polled, from the state cache;
// zero if never.
func (in *Ingester) lastAttempt(name string) time.Time {
	in.mu.Lock()
	defer in.mu.Unlock()
	if c := in.states[name]; c != nil {
		return c.st.LastAttempt
	}
	return time.Time{}
}

// refreshed is told that a refresh outside the schedule (an admin fetch)
// ended: the source's state, and so its next poll, may have moved; a gone
// source that a forced fetch brought back is polled again.
func (s *Scheduler) refreshed(name string) {
	now := s.in.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.entries[name]; e != nil && !e.running && !e.force {
		s.plan(e, now, now)
		s.poke()
	}
}

// poke wakes the dispatcher to look at the due times again.
func (s *Scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// dispatch is the scheduler's loop: start what is due, sleep until the next
// due time or a change.
func (s *Scheduler) dispatch() {
	defer close(s.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := s.in.opts.Now()
		next := s.startDue(now)
		timer.Stop()
		if !next.IsZero() {
			timer.Reset(next.Sub(now))
		}
		select {
		case <-s.ctx.Done():
			return
		case <-s.wake:
		case <-timer.C:
		}
	}
}

// job is one due poll.
type job struct {
	e     *entry
	slot  time.Time
	force bool
}

// startDue starts every poll due at now, one Run per trigger, and returns
// the earliest due time left (zero: none).
func (s *Scheduler) startDue(now time.Time) time.Time {
	s.mu.Lock()
	runs := map[Trigger][]job{}
	var earliest time.Time
	for _, name := range s.order {
		e := s.entries[name]
		if e.running || e.next.IsZero() {
			continue
		}
		if e.next.After(now) {
			if earliest.IsZero() || e.next.Before(earliest) {
				earliest = e.next
			}
			continue
		}
		trigger := TriggerSchedule
		switch e.why {
		case WhyStartup:
			trigger = TriggerStartup
		case WhyNew:
			trigger = TriggerReload
		}
		runs[trigger] = append(runs[trigger], job{e: e, slot: e.next, force: e.force})
		e.running, e.force = true, false
	}
	s.mu.Unlock()
	for _, trigger := range []Trigger{TriggerStartup, TriggerReload, TriggerSchedule} {
		if jobs := runs[trigger]; len(jobs) > 0 {
			s.start(trigger, jobs)
		}
	}
	return earliest
}

// start runs jobs as one Run on the worker pool.
func (s *Scheduler) start(trigger Trigger, jobs []job) {
	t := s.in.newRun(trigger, len(jobs))
	t.after = func() {
		if err := s.in.Prune(s.ctx); err != nil && s.ctx.Err() == nil {
			s.in.log.Error("prune failed", "err", err)
		}
	}
	for _, j := range jobs {
		s.jobs.Go(func() {
			select {
			case s.sem <- struct{}{}:
			case <-s.ctx.Done():
				s.finished(j)
				t.drop()
				return
			}
			free := freeOnce(s.sem)
			rep := s.in.refreshAt(s.ctx, j.e.src, j.force, j.slot, free)
			free()
			s.finished(j)
			t.add(rep)
		})
	}
}

// finished plans the next poll of a job's source.
func (s *Scheduler) finished(j job) {
	now := s.in.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	j.e.running = false
	if s.entries[j.e.src.Name] != j.e || s.ctx.Err() != nil {
		return // removed from the plan meanwhile, or stopping
	}
	if !j.e.force { // a url change during the poll asked for another at once
		s.plan(j.e, j.slot, now)
	}
	s.poke()
}

// entryTimes is one source's next poll, for Status.
type entryTimes struct {
	next time.Time
	why  Why
}

func (s *Scheduler) times() map[string]entryTimes {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]entryTimes, len(s.entries))
	for name, e := range s.entries {
		t := entryTimes{e.next, e.why}
		if e.running {
			t.why = WhyRunning
		}
		out[name] = t
	}
	return out
}

// Next returns the earliest poll due; zero when none is.
func (s *Scheduler) Next() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var next time.Time
	for _, e := range s.entries {
		if !e.running && !e.next.IsZero() && (next.IsZero() || e.next.Before(next)) {
			next = e.next
		}
	}
	return next
}

// Stop cancels running refreshes, waits for them to return and writes the
// source state they left in memory, so that whoever polls next (this
// process after another Schedule, another replica) starts from it. Calling
// it again, or Abandon, does nothing.
func (s *Scheduler) Stop() {
	s.stop.Do(func() {
		s.end()
		if err := s.in.flush(); err != nil {
			s.in.log.Error("save source state", "err", err)
		}
	})
}

// Abandon stops like Stop but, instead of writing the source state the
// store does not have yet, drops it: for a replica that lost the lead of a
// shared store, whose writes the store now refuses, and whose sources the
// new leader polls from the state it reads. What the store holds is kept;
// the next Schedule reads every source afresh. Calling it again, or Stop,
// does nothing.
func (s *Scheduler) Abandon() {
	s.stop.Do(func() {
		s.end()
		s.in.discard()
	})
}

// end cancels running refreshes and waits for them and the dispatcher.
func (s *Scheduler) end() {
	s.cancel()
	<-s.done
	s.jobs.Wait()
	s.in.mu.Lock()
	if s.in.sched == s {
		s.in.sched = nil
	}
	s.in.mu.Unlock()
}

// saveLoop writes, every Options.SaveEvery while the scheduler runs, the
// source state that only the cache holds (the times of polls that changed
// nothing else), so that other processes reading the store (the replicas'
// status pages) see the polls within that period.
func (s *Scheduler) saveLoop() {
	tick := time.NewTicker(s.in.opts.SaveEvery)
	defer tick.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return // Stop writes the rest, or Abandon drops it
		case <-tick.C:
		}
		if err := s.in.flush(); err != nil && s.ctx.Err() == nil {
			s.in.log.Warn("save source state", "err", err)
		}
	}
}
