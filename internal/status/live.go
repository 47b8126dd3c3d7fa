package status

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/newsdesk/newsdesk/internal/config"
	"github.com/newsdesk/newsdesk/internal/ingest"
	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

// Live is what a running daemon knows beyond its store: when it started,
// the refreshes it ran, the config it applied and the last edit it refused.
// The daemon reports to it; Gather reads it. Its methods are safe for
// concurrent use.
//
// The refreshes matter because the ingester writes a healthy source's new
// timestamps (last attempt, last success, next poll) behind, at shutdown, so
// that an unchanged upstream costs no store write: the store alone would
// show a source polled every 15 minutes as last successful at start-up.
type Live struct {
	started time.Time
	nextRun func() time.Time
	now     func() time.Time

	changes atomic.Uint64 // bumped whenever stories may have moved: Gather's Activity cache key

	mu      sync.Mutex
	seen    map[string]seenReport
	last    *Fetch
	applied time.Time
	cfgFile string
	refused *Refusal
}

type seenReport struct {
	rep ingest.Report
	end time.Time // when the refresh ended
}

// LiveOptions configures NewLive.
type LiveOptions struct {
	Started time.Time        // when the daemon started
	NextRun func() time.Time // when the scheduler runs next; nil: unknown
	Now     func() time.Time // the ingester's clock [time.Now]
}

// NewLive returns the Live of a daemon.
func NewLive(o LiveOptions) *Live {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Live{started: o.Started.UTC(), nextRun: o.NextRun, now: o.Now, seen: map[string]seenReport{}}
}

// Fetched records a refresh as it ends (ingest.Options.Observe).
func (l *Live) Fetched(r ingest.Report) {
	if r.Status == story.StatusDeferred || r.Status == story.StatusBusy || r.Status == "" {
		return
	}
	end := l.now().UTC()
	if r.New > 0 || r.Updated > 0 {
		l.changes.Add(1)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen[r.Source] = seenReport{rep: r, end: end}
	l.last = &Fetch{Source: r.Source, Status: r.Status, At: end, Took: r.Took}
}

// Changed records that stories moved without a refresh: a
// re-classification, a prune (the ingester's Changed hook).
func (l *Live) Changed() { l.changes.Add(1) }

// Applied records that cfg runs from at on: the start-up config or a good
// edit, which clears a refused one.
func (l *Live) Applied(cfg *config.Config, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.applied, l.cfgFile, l.refused = at.UTC(), cfg.Path, nil
	l.changes.Add(1)
}

// Refused records an edit that was refused at at, with err's messages as
// `newsdesk validate` prints them.
func (l *Live) Refused(err error, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refused = &Refusal{At: at.UTC(), Messages: Messages(err)}
}

// Messages is the text of a refused config, as `newsdesk validate` prints
// it: for *config.Errors one "file:line:col: message (hint: …)" per problem,
// each followed by its source line and a caret under the column.
func Messages(err error) string {
	if errs, ok := errors.AsType[*config.Errors](err); ok {
		return errs.Error()
	}
	return err.Error()
}

// overlay is st as the daemon last saw it: a refresh newer than the stored
// state brings its status, code and times. (Failures and errors are written
// at once, so the store has them; only a success's times lag.)
func (l *Live) overlay(name string, st store.SourceState) store.SourceState {
	l.mu.Lock()
	s, ok := l.seen[name]
	l.mu.Unlock()
	if !ok {
		return st
	}
	start := s.end.Add(-s.rep.Took)
	if !start.After(st.LastAttempt) {
		return st
	}
	st.LastAttempt = start
	if !s.rep.Next.IsZero() {
		st.NextFetch = s.rep.Next
	}
	switch s.rep.Status {
	case story.StatusOK, story.StatusUnchanged, story.StatusNotModified:
		st.Status = s.rep.Status
		if st.Status == story.StatusUnchanged {
			st.Status = story.StatusOK // the state's word for "same bytes"
		}
		st.LastStatus, st.LastSuccess, st.LastError, st.Failures = s.rep.HTTPStatus, start, "", 0
	default:
		if st.Status == "" || !failed(st.Status) { // the store write failed too: say what the report says
			st.Status, st.LastStatus, st.LastError = s.rep.Status, s.rep.HTTPStatus, s.rep.Err
		}
	}
	return st
}

// fill adds what only the daemon knows to rep.
func (l *Live) fill(rep *Report, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rep.Process.Started = l.started
	rep.Process.UptimeSeconds = now.Sub(l.started).Seconds()
	if l.last != nil {
		last := *l.last
		rep.Process.LastFetch = &last
	}
	if l.nextRun != nil {
		if next := l.nextRun(); !next.IsZero() {
			rep.Process.NextRun = next.UTC()
		}
	}
	rep.Config.AppliedAt = l.applied
	if l.refused != nil {
		r := *l.refused
		rep.Config.Refused = &r
	}
}
