package status

import (
	"time"

	"github.com/newsdesk/newsdesk/internal/config"
	"github.com/newsdesk/newsdesk/internal/ingest"
	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

// nextPoll is when src is refreshed next, and why. The scheduler refreshes
// a source at every tick of its schedule (its own, else the global
// refresh), and a refresh before the state's NextFetch is skipped: so the
// next poll is the first tick at or after NextFetch, and the reason is
// whatever set NextFetch when that is later than the schedule's next tick.
// The reason is read back from the state the ingester left: failures mean
// backoff (or Retry-After after a 429 or 503), a wait after a good answer
// longer than fetch.min_interval means upstream's ttl or max-age.
func nextPoll(cfg *config.Config, src story.Source, st store.SourceState, now time.Time) (time.Time, Why) {
	if st.Status == story.StatusGone {
		return time.Time{}, WhyGone
	}
	spec := src.Schedule
	if spec == "" {
		spec = cfg.Refresh
	}
	sched, err := ingest.ParseSpec(spec)
	if err != nil { // the config was validated: cannot happen
		return time.Time{}, WhySchedule
	}
	loc := cfg.Location
	if loc == nil {
		loc = time.UTC
	}
	tick := sched.Next(now.In(loc)).UTC()
	if !st.NextFetch.After(tick) {
		return tick, WhySchedule
	}
	next := sched.Next(st.NextFetch.Add(-time.Nanosecond).In(loc)).UTC()
	wait := st.NextFetch.Sub(st.LastAttempt)
	switch {
	case st.Failures > 0 && st.LastStatus != 0 && !backoff(cfg.Fetch, st.Failures, wait):
		return next, WhyRetryAfter // only an HTTP answer carries Retry-After
	case st.Failures > 0:
		return next, WhyBackoff
	case wait > cfg.Fetch.MinInterval+time.Second:
		return next, WhyTTL
	}
	return next, WhyMinInterval
}

// backoff reports whether wait is what the ingester's backoff gives after n
// failures: min_interval doubled per failure, capped at max_interval, with
// ±20% jitter.
func backoff(f config.Fetch, n int, wait time.Duration) bool {
	d := f.MinInterval
	for i := 1; i < n && d < f.MaxInterval; i++ {
		d *= 2
	}
	d = min(d, f.MaxInterval)
	lo, hi := time.Duration(float64(d)*0.79), time.Duration(float64(d)*1.21)
	return wait >= lo && wait <= min(hi, f.MaxInterval+time.Second)
}
