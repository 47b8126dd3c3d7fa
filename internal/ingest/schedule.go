package ingest

import (
	"context"
	"fmt"
	"log/slog"
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

// Scheduler runs refreshes on a Plan until Stop.
type Scheduler struct {
	in     *Ingester
	ctx    context.Context
	cancel context.CancelFunc
	cron   *cron.Cron
	wg     sync.WaitGroup // runs started outside cron (start-up, new sources)

	mu    sync.Mutex
	ids   []cron.EntryID
	known map[string]bool // sources in the current plan
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

// Schedule starts refreshing on plan, after one refresh of every source now.
// Running refreshes are cancelled by Stop or when ctx ends.
func (in *Ingester) Schedule(ctx context.Context, plan Plan) (*Scheduler, error) {
	ctx, cancel := context.WithCancel(ctx)
	loc := plan.Location
	if loc == nil {
		loc = time.UTC
	}
	lg := cronLogger{in.log}
	s := &Scheduler{in: in, ctx: ctx, cancel: cancel, known: map[string]bool{},
		// Skip before Recover: the other order disables a job forever after one panic.
		cron: cron.New(cron.WithParser(specParser), cron.WithLocation(loc), cron.WithLogger(lg),
			cron.WithChain(cron.SkipIfStillRunning(lg), cron.Recover(lg)))}
	if err := s.Replace(plan); err != nil {
		cancel()
		return nil, err
	}
	s.cron.Start()
	return s, nil
}

// Replace swaps the plan (after a config reload). Sources new to the plan are
// fetched at once; the others keep their state and wait for their next tick.
// A bad spec leaves the old plan running.
func (s *Scheduler) Replace(plan Plan) error {
	global, err := ParseSpec(plan.Spec)
	if err != nil {
		return err
	}
	type entry struct {
		sched cron.Schedule
		job   func()
	}
	var shared []story.Source
	entries := []entry{}
	for _, src := range plan.Sources {
		if src.Schedule == "" {
			shared = append(shared, src)
			continue
		}
		sched, err := ParseSpec(src.Schedule)
		if err != nil {
			return fmt.Errorf("source %s: %w", src.Name, err)
		}
		entries = append(entries, entry{sched, func() { s.in.Refresh(s.ctx, src, false) }})
	}
	entries = append(entries, entry{global, func() {
		s.in.RefreshAll(s.ctx, shared, false, nil)
		if err := s.in.Prune(s.ctx); err != nil {
			s.in.log.Error("prune failed", "err", err)
		}
	}})

	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range s.ids {
		s.cron.Remove(id)
	}
	s.ids = s.ids[:0]
	for _, e := range entries {
		s.ids = append(s.ids, s.cron.Schedule(e.sched, cron.FuncJob(e.job)))
	}
	var fresh []story.Source
	known := map[string]bool{}
	for _, src := range plan.Sources {
		known[src.Name] = true
		if !s.known[src.Name] {
			fresh = append(fresh, src)
		}
	}
	s.known = known
	if len(fresh) > 0 {
		s.wg.Go(func() {
			defer s.recover()
			s.in.RefreshAll(s.ctx, fresh, false, nil)
		})
	}
	return nil
}

// recover keeps a panic in a run outside cron (start-up, new sources) from
// taking the daemon down, as cron's Recover does for scheduled runs.
func (s *Scheduler) recover() {
	if r := recover(); r != nil {
		s.in.log.Error("refresh panicked", "panic", r)
	}
}

// Next returns when the scheduler runs next.
func (s *Scheduler) Next() time.Time {
	var next time.Time
	for _, e := range s.cron.Entries() {
		if next.IsZero() || e.Next.Before(next) {
			next = e.Next
		}
	}
	return next
}

// Stop cancels running refreshes and waits for them to return.
func (s *Scheduler) Stop() {
	s.cancel()
	<-s.cron.Stop().Done()
	s.wg.Wait()
}

// cronLogger adapts slog to cron's logger. cron's Info lines (wake, run,
// schedule) are chatty, so they go to Debug.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }

func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append([]any{"err", err}, kv...)...)
}
