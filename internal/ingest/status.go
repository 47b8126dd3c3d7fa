package ingest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/newsdesk/newsdesk/internal/fetch"
	"github.com/newsdesk/newsdesk/internal/story"
)

// Why says what set a source's next poll: a status page shows it beside the
// time, and a deferred refresh reports it.
type Why string

// The reasons.
const (
	WhyStartup     Why = "start-up"     // fetched as the schedule starts
	WhyNew         Why = "new"          // added by a reload, or its url changed: fetched at once
	WhySchedule    Why = "schedule"     // the next tick of its cron schedule
	WhyMinInterval Why = "min-interval" // its schedule ticks faster than fetch.min_interval allows
	WhyTTL         Why = "ttl"          // upstream's RSS ttl, sy:updatePeriod or Cache-Control max-age
	WhyRetryAfter  Why = "retry-after"  // upstream's Retry-After, after a 429 or 503
	WhyBackoff     Why = "backoff"      // consecutive failures: min_interval doubled per failure
	WhyGone        Why = "gone"         // 410 Gone: not polled until forced or its url changes
	WhyRunning     Why = "running"      // being fetched now
)

// Trigger says what started a Run.
type Trigger string

// The triggers.
const (
	TriggerStartup  Trigger = "start-up" // the first poll of every source as the schedule starts
	TriggerSchedule Trigger = "schedule" // sources whose poll came due
	TriggerReload   Trigger = "reload"   // sources a config reload added or moved
	TriggerRequest  Trigger = "request"  // RefreshAll: `newsdesk fetch`, an admin fetch
)

// Run is one batch of refreshes: the sources that came due at one moment, or
// the sources of one RefreshAll. Each Run is logged in one line when its
// last source ends, and passed to Options.ObserveRun.
type Run struct {
	Trigger  Trigger       `json:"trigger"`
	Started  time.Time     `json:"started"`
	Finished time.Time     `json:"finished,omitzero"`
	Took     time.Duration `json:"took"`
	Sources  int           `json:"sources"`
	// Outcomes counts the reports by status.
	Outcomes map[story.Status]int `json:"outcomes"`
	// OK counts ok, unchanged and not-modified; Failing the reports with an
	// error (failing, blocked, refused, gone); Cancelled the refreshes cut
	// short by a shutdown (not counted as failures of the source);
	// Deferred those not due yet or already running.
	OK, Failing, Cancelled, Deferred int
	New, Updated                     int
	Bytes                            int64
	// Parsed counts the documents parsed: the sources whose body was
	// neither a 304 nor the bytes parsed last time.
	Parsed int
	// Causes groups the failing sources by Cause, most common first.
	Causes []CauseCount `json:"causes,omitempty"`
}

// CauseCount is how many sources of a Run failed for one cause.
type CauseCount struct {
	Cause   string `json:"cause"`
	Sources int    `json:"sources"`
	Offline bool   `json:"offline,omitempty"` // see Offline
}

// String reads like "24 sources: 6 ok, 18 failing; 18 look offline: no route
// to host".
func (r Run) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d sources: %d ok", r.Sources, r.OK)
	for _, n := range []struct {
		n    int
		word string
	}{{r.Failing, "failing"}, {r.Deferred, "not due"}, {r.Cancelled, "cancelled"}} {
		if n.n > 0 {
			fmt.Fprintf(&b, ", %d %s", n.n, n.word)
		}
	}
	if c := r.causes(); c != "" {
		b.WriteString("; ")
		b.WriteString(c)
	}
	return b.String()
}

// causes reads like "18 look offline: no route to host; 2 HTTP 404 Not
// Found": the offline causes together, then the others.
func (r Run) causes() string {
	var offline []string
	var n int
	var parts []string
	for _, c := range r.Causes {
		if c.Offline {
			offline = append(offline, c.Cause)
			n += c.Sources
			continue
		}
		parts = append(parts, fmt.Sprintf("%d %s", c.Sources, c.Cause))
	}
	if n > 0 {
		verb := "look"
		if n == 1 {
			verb = "looks"
		}
		parts = append([]string{fmt.Sprintf("%d %s offline: %s", n, verb, strings.Join(offline, ", "))}, parts...)
	}
	return strings.Join(parts, "; ")
}

// runTracker collects a Run's reports; the last one ends it.
type runTracker struct {
	in    *Ingester
	after func() // runs once the Run is logged: retention
	mu    sync.Mutex
	run   Run
	left  int
	cause map[string]int
}

func (in *Ingester) newRun(trigger Trigger, n int) *runTracker {
	return &runTracker{in: in, left: n, cause: map[string]int{},
		run: Run{Trigger: trigger, Started: in.opts.Now(), Outcomes: map[story.Status]int{}}}
}

// add counts rep; drop counts a source that was never refreshed (the
// scheduler stopped first).
func (t *runTracker) add(rep Report) { t.count(&rep) }
func (t *runTracker) drop()          { t.count(nil) }

func (t *runTracker) count(rep *Report) {
	t.mu.Lock()
	r := &t.run
	if rep != nil {
		r.Sources++
		r.Outcomes[rep.Status]++
		r.New, r.Updated, r.Bytes = r.New+rep.New, r.Updated+rep.Updated, r.Bytes+rep.Bytes
		if rep.Parsed {
			r.Parsed++
		}
		switch {
		case rep.Cause == causeCancelled:
			r.Cancelled++
		case rep.Failed():
			r.Failing++
			t.cause[rep.Cause]++
		case rep.Status == story.StatusDeferred || rep.Status == story.StatusBusy ||
			rep.Status == story.StatusGone:
			r.Deferred++
		default:
			r.OK++
		}
	}
	t.left--
	done := t.left == 0
	t.mu.Unlock()
	if done {
		t.finish()
	}
}

func (t *runTracker) finish() {
	r := t.run
	if r.Sources == 0 {
		return
	}
	r.Finished = t.in.opts.Now()
	r.Took = r.Finished.Sub(r.Started)
	for cause, n := range t.cause {
		r.Causes = append(r.Causes, CauseCount{Cause: cause, Sources: n, Offline: Offline(cause)})
	}
	slices.SortFunc(r.Causes, func(a, b CauseCount) int {
		return cmp.Or(cmp.Compare(b.Sources, a.Sources), strings.Compare(a.Cause, b.Cause))
	})
	t.in.mu.Lock()
	t.in.lastRun = r
	t.in.mu.Unlock()
	attrs := []any{"trigger", r.Trigger, "sources", r.Sources, "ok", r.OK, "failing", r.Failing, "parsed", r.Parsed,
		"new", r.New, "updated", r.Updated, "took", r.Took.Round(time.Millisecond)}
	if r.Deferred > 0 {
		attrs = append(attrs, "not_due", r.Deferred)
	}
	if r.Cancelled > 0 {
		attrs = append(attrs, "cancelled", r.Cancelled)
	}
	if c := r.causes(); c != "" {
		attrs = append(attrs, "causes", c)
	}
	t.in.log.Info("refresh run", attrs...)
	if t.in.opts.ObserveRun != nil {
		t.in.opts.ObserveRun(r)
	}
	if t.after != nil {
		t.after()
	}
}

// Status is what the ingester is doing and will do: the input of a status
// page.
type Status struct {
	// Scheduled is true while a Scheduler runs: this process polls the
	// sources (with several replicas, it is the leader).
	Scheduled bool `json:"scheduled"`
	// LastRun is the last Run that ended; zero before the first.
	LastRun Run `json:"last_run"`
	// Reclassifying is the re-classification of the stored stories
	// running now (after a topic edit, or at start-up when the topics or
	// the matching engine changed since they were filed); nil when none is.
	Reclassifying *Reclassification `json:"reclassifying,omitempty"`
	Sources       []SourceStatus    `json:"sources"`
}

// SourceStatus is one source's condition and next poll.
type SourceStatus struct {
	Name  string `json:"name"`
	Title string `json:"title,omitempty"`
	URL   string `json:"url"` // the configured URL, password hidden
	// Status is the last refresh's status word; "" for a source never
	// fetched.
	Status      story.Status `json:"status"`
	HTTPStatus  int          `json:"http_status,omitempty"` // of the last answer
	LastAttempt time.Time    `json:"last_attempt,omitzero"`
	LastSuccess time.Time    `json:"last_success,omitzero"`
	// LastError is the last failure's error in full (cleared by a
	// success); Cause its short form.
	LastError string `json:"last_error,omitempty"`
	Cause     string `json:"cause,omitempty"`
	Failures  int    `json:"failures,omitempty"` // consecutive
	// MovedTo (password hidden) is where a 301/308 chain led: the source
	// is polled there until the config's url is updated.
	MovedTo string `json:"moved_to,omitempty"`
	// Warnings name what the last parsed document had that was malformed
	// and skipped (store.SourceState.Warnings).
	Warnings []string `json:"warnings,omitempty"`
	// Next is the next poll and Why what set it. While no scheduler runs,
	// Next is the earliest time the source may be polled (its not-before).
	// Zero for a gone source.
	Next    time.Time `json:"next,omitzero"`
	Why     Why       `json:"why,omitempty"`
	Running bool      `json:"running,omitempty"`
}

// Status reports on every source of the last plan given to Schedule or
// Replace, in plan order. It reads the store only for sources this process
// has not seen yet.
func (in *Ingester) Status(ctx context.Context) (Status, error) {
	in.mu.Lock()
	sched, plan, last := in.sched, in.plan, in.lastRun
	in.mu.Unlock()
	out := Status{Scheduled: sched != nil, LastRun: last, Sources: make([]SourceStatus, 0, len(plan))}
	if r, ok := in.Reclassifying(); ok {
		out.Reclassifying = &r
	}
	var next map[string]entryTimes
	if sched != nil {
		next = sched.times()
	}
	for _, src := range plan {
		c, st, err := in.state(ctx, src.Name)
		if err != nil {
			return Status{}, err
		}
		in.mu.Lock()
		why, running := c.why, in.busy[src.Name]
		in.mu.Unlock()
		ss := SourceStatus{Name: src.Name, Title: src.Title, URL: redact(src.URL), Status: st.Status,
			HTTPStatus: st.LastStatus, LastAttempt: st.LastAttempt, LastSuccess: st.LastSuccess,
			LastError: st.LastError, Cause: Cause(st.LastError), Failures: st.Failures,
			MovedTo: redact(st.MovedTo), Warnings: st.Warnings, Next: st.NextFetch, Why: why, Running: running}
		if st.MovedFrom != src.URL {
			ss.MovedTo = "" // the config changed since: the move no longer applies
		}
		if t, ok := next[src.Name]; ok {
			ss.Next, ss.Why = t.next, t.why
		}
		if st.Status == story.StatusGone && !running {
			ss.Next, ss.Why = time.Time{}, WhyGone
		}
		if running {
			ss.Why = WhyRunning
		}
		out.Sources = append(out.Sources, ss)
	}
	return out, nil
}

// redact hides a URL's password; "" stays "".
func redact(u string) string {
	if u == "" {
		return ""
	}
	return fetch.Redact(u)
}
