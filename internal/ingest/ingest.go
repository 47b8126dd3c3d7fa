// Package ingest conducts the write path: it fetches each source, parses and
// classifies its stories and files them in the store, each source when it is
// due (its cron schedule, upstream's ttl or max-age, Retry-After, backoff) or
// on demand. It keeps every source's fetch state, reports each refresh
// (Report) and each run (Run) to whoever observes them, and says what it is
// doing and will do next (Status), so a status page or a metrics exporter
// needs nothing else.
package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/newsdesk/newsdesk/internal/background"
	"github.com/newsdesk/newsdesk/internal/fetch"
	"github.com/newsdesk/newsdesk/internal/parse"
	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
	"github.com/newsdesk/newsdesk/internal/topic"
)

// Options tunes an Ingester. Zero values take the defaults in brackets.
type Options struct {
	Workers     int           // sources fetched at once [8]
	MinInterval time.Duration // a source is polled at most this often; backoff starts here [1m]
	MaxInterval time.Duration // cap on backoff, Retry-After and upstream ttl/max-age [6h]
	MaxAge      time.Duration // retention by age; 0 keeps stories forever
	MaxStories  int           // retention by count; 0 means no cap
	// Changed is told which topics' stories changed, after the change is
	// committed, so the server can drop its cached renders.
	Changed func(slugs []string)
	// Observe, if set, sees the Report of every refresh that asked
	// upstream (not the deferred or busy ones) as it ends: metrics, tests.
	// It runs on the refreshing goroutine and must not block.
	Observe func(Report)
	// ObserveRun, if set, sees every Run as its last source ends.
	ObserveRun func(Run)
	// SaveEvery, when set, is how often a running Scheduler writes the
	// source state that only its cache holds: the times of polls that
	// changed nothing else, which are otherwise written at Stop or Close so
	// that an unchanged pass costs no write. A store that other processes
	// read (the replicas of a shared store, whose status pages show the
	// leader's polls) sets it; one process's own store leaves it 0.
	SaveEvery time.Duration
	// Resume, when set, makes a Scheduler's start resume every source at
	// the next poll its stored state implies (the first tick of its
	// schedule after its last poll, not before its not-before) instead of
	// polling every source at once: for the replicas of a shared store,
	// where a new leader takes over sources the previous one was polling.
	// A source never polled, or whose next poll has passed, is polled at
	// once either way.
	Resume bool
	// Now is the clock [time.Now].
	Now func() time.Time
	// CPU, when set, is where the CPU-heavy work of ingest runs: each parse,
	// classification and re-classification on one of its workers. The
	// daemon shares it with the server's re-renders and the store's
	// commits; its workers run at the lowest priority, so that background
	// work never keeps readers from a core (issue 11: their p99 under
	// ingest). nil runs the work on the calling goroutine.
	CPU *background.Pool
}

// Store is the part of the store the write path uses.
type Store interface {
	Put(ctx context.Context, source string, st store.SourceState, stories []story.Story, now time.Time) (store.PutResult, error)
	PutSource(ctx context.Context, source string, st store.SourceState) error
	Source(ctx context.Context, source string) (store.SourceState, error)
	Sources(ctx context.Context) (map[string]store.SourceState, error)
	Reclassify(ctx context.Context, classify func(story.Story) []string) ([]string, error)
	Prune(ctx context.Context, r store.Retention, now time.Time) (int, error)
	Meta(ctx context.Context, key string) (string, error)
	SetMeta(ctx context.Context, key, value string) error
	Stats(ctx context.Context) (store.Stats, error)
}

// Ingester runs refreshes. Its methods are safe for concurrent use; two
// refreshes of one source never overlap.
type Ingester struct {
	fetch  *fetch.Client
	db     Store
	log    *slog.Logger
	opts   Options
	topics atomic.Pointer[topic.Set]
	// classify is held shared from classifying a feed's stories until they
	// are committed, and exclusively by a topic swap and the
	// re-classification after it: a feed classified with the old topics
	// commits before the re-classification starts (which re-files it), and
	// one classified with the new topics commits after it ends. Without it a
	// feed classified with the old topics could commit into the new index
	// generation, where nothing would ever re-file it.
	classify sync.RWMutex
	// refiling is the re-classification running now, nil when none is:
	// what Status reports of it.
	refiling atomic.Pointer[refiling]

	mu       sync.Mutex
	busy     map[string]bool    // sources being refreshed now
	states   map[string]*cached // source state, see state.go
	failing  map[string]string  // cause last logged per failing source, so it is logged once
	writing  bool               // the state writer runs
	idle     chan struct{}      // closed when the running state writer exits
	retrying bool               // the writer's last round failed: it waits to retry, and settle does not wait for it
	closing  bool
	writers  sync.WaitGroup
	stop     chan struct{} // closed by Close: a waiting state writer gives up
	sched    *Scheduler    // the running scheduler, if any
	plan     []story.Source
	lastRun  Run
	pruning  sync.Mutex // one Prune at a time
	// committing holds a token for each refresh that waits for its commit
	// having given its worker back (see refreshAt).
	committing chan struct{}
	// beforePut, set by tests only, runs between classifying a feed and
	// committing it.
	beforePut func(source string)
}

// New returns an Ingester that files stories under topics.
func New(f *fetch.Client, db Store, topics *topic.Set, log *slog.Logger, opts Options) *Ingester {
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	if opts.MinInterval <= 0 {
		opts.MinInterval = time.Minute
	}
	if opts.MaxInterval <= 0 {
		opts.MaxInterval = 6 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Changed == nil {
		opts.Changed = func([]string) {}
	}
	in := &Ingester{fetch: f, db: db, log: log, opts: opts, busy: map[string]bool{},
		states: map[string]*cached{}, failing: map[string]string{}, stop: make(chan struct{}),
		committing: make(chan struct{}, committing)}
	in.topics.Store(topics)
	return in
}

// withCPU runs f on a worker of Options.CPU, waiting for a free one.
func (in *Ingester) withCPU(f func()) { in.opts.CPU.Run(f) }

// Report is the outcome of refreshing one source: what a metrics exporter
// counts (by Source and Status), times (Took, Classify) and sums (Bytes, New,
// Updated), and what the fetch table shows. Observe sees each one.
type Report struct {
	Source string `json:"source"`
	// Status is the outcome: ok (stories parsed and filed), unchanged (the
	// same bytes as last time, nothing parsed), not-modified (304), failing,
	// blocked, gone, refused, or, for a refresh that did not fetch, deferred
	// (not due yet) or busy (a refresh of the source was running).
	Status     story.Status `json:"status"`
	HTTPStatus int          `json:"http_status,omitempty"` // the answer's code; 0 when none came (a dial error)
	Started    time.Time    `json:"started,omitzero"`
	// Took is the whole refresh: fetch, parse, classify and store.
	Took time.Duration `json:"took"`
	// Bytes is the body read, after decompression; 0 for a 304.
	Bytes int64 `json:"bytes,omitempty"`
	// Stories is how many items the body held (parsed refreshes only);
	// New and Updated are how many of them the store took as new or as
	// changed (the rest were stored already, as they are).
	Stories int `json:"stories,omitempty"`
	New     int `json:"new"`
	Updated int `json:"updated"`
	// Parsed is set when the body was parsed (whether or not the parse
	// succeeded): what an unchanged source (304, or the same bytes) never
	// costs.
	Parsed bool `json:"parsed,omitempty"`
	// Classify is the time spent matching the stories against the topics.
	Classify time.Duration `json:"classify,omitempty"`
	// Err is this refresh's error, in full; Cause its short form (see
	// Cause). LastErr is, for a deferred refresh, the error the source last
	// failed with: why it is backing off.
	Err     string `json:"error,omitempty"`
	Cause   string `json:"cause,omitempty"`
	LastErr string `json:"last_error,omitempty"`
	// Next is when the source may be fetched again (not before), and Why
	// what set it.
	Next     time.Time `json:"next,omitzero"`
	Why      Why       `json:"why,omitempty"`
	Failures int       `json:"failures,omitempty"` // consecutive failures, this one included
	// MovedTo (password hidden) is where the source now lives, after a
	// 301/308 chain: it is polled there until the config's url is updated.
	MovedTo string `json:"moved_to,omitempty"`
	// Warnings are the source's parse warnings after this refresh (see
	// store.SourceState.Warnings): the new document's when it was parsed,
	// else the last parsed document's, which still describe what is
	// stored.
	Warnings []string `json:"warnings,omitempty"`
}

// Failed reports whether the refresh ended in an error.
func (r Report) Failed() bool { return r.Err != "" }

// Refresh fetches src once and files its stories. Unless force is set, a source
// that asked not to be polled yet (backoff, Retry-After, ttl) or that is gone
// is left alone. Failures are recorded in the store and in the Report; nothing
// stored is lost.
func (in *Ingester) Refresh(ctx context.Context, src story.Source, force bool) Report {
	return in.refreshNow(ctx, src, force, nil)
}

// refreshNow is Refresh, for a caller whose worker the refresh gives back
// by calling free (see refreshAt).
func (in *Ingester) refreshNow(ctx context.Context, src story.Source, force bool, free func()) Report {
	rep := in.refreshAt(ctx, src, force, time.Time{}, free)
	if s := in.scheduler(); s != nil {
		s.refreshed(src.Name) // an admin fetch can move the source's next poll
	}
	return rep
}

// refreshAt is Refresh for a source due at slot (zero: now), which the
// minimum interval is counted from. free, if not nil, gives back the
// caller's worker slot: it is called (once) when the refresh has
// classified its stories and only waits for the store to commit them, so
// that a worker fetches and parses the next source meanwhile instead of
// idling on the disk, and the store commits the feeds waiting together
// (one fsync, and the index pages they share written once). At most
// committing refreshes wait so, each holding its parsed feed; past that a
// refresh keeps its worker until its commit, which holds the others back.
func (in *Ingester) refreshAt(ctx context.Context, src story.Source, force bool, slot time.Time, free func()) (rep Report) {
	start := in.opts.Now()
	if slot.IsZero() || slot.After(start) {
		slot = start
	}
	rep = Report{Source: src.Name, Started: start}
	if !in.claim(src.Name) {
		rep.Status = story.StatusBusy
		return rep
	}
	defer in.release(src.Name)
	// A bug in one source's run (parse recovers gofeed's own panics) must not
	// take the daemon or the other sources down: refreshes run on goroutines
	// nothing else recovers.
	defer func() {
		if r := recover(); r != nil {
			in.log.Error("refresh panicked", "source", src.Name, "panic", r)
			rep.Status, rep.Err = story.StatusFailing, fmt.Sprintf("panic: %v", r)
			rep.Cause = rep.Err
		}
	}()

	c, prev, err := in.state(ctx, src.Name)
	if err != nil {
		rep.Status, rep.Err = story.StatusFailing, err.Error()
		rep.Cause = Cause(rep.Err)
		in.log.Error("read source state", "source", src.Name, "err", err)
		return rep
	}
	if !force && (prev.Status == story.StatusGone || start.Before(prev.NextFetch)) {
		rep.Status, rep.Next, rep.Failures = story.StatusDeferred, prev.NextFetch, prev.Failures
		if prev.Status == story.StatusGone {
			rep.Status = story.StatusGone
		}
		in.mu.Lock()
		rep.Why = c.why
		in.mu.Unlock()
		rep.LastErr, rep.Cause = prev.LastError, Cause(prev.LastError)
		rep.Warnings = prev.Warnings
		if prev.MovedTo != "" && prev.MovedFrom == src.URL {
			rep.MovedTo = fetch.Redact(prev.MovedTo)
		}
		return rep
	}

	st, changed, err := in.refresh(ctx, c, src, prev, start, slot, &rep, free)
	rep.Took = in.opts.Now().Sub(start)
	rep.Next, rep.Failures, rep.Warnings = st.NextFetch, st.Failures, st.Warnings
	if st.MovedTo != "" {
		rep.MovedTo = fetch.Redact(st.MovedTo)
		if st.MovedTo != prev.MovedTo || st.MovedFrom != prev.MovedFrom { // once per move, not per poll
			in.log.Warn("source moved permanently; update its url in the config", "source", src.Name,
				"url", fetch.Redact(src.URL), "moved_to", rep.MovedTo)
		}
	}
	if err != nil {
		rep.Err = err.Error()
		rep.Cause = Cause(rep.Err)
	}
	in.logOutcome(rep, prev)
	if len(changed) > 0 {
		in.opts.Changed(changed)
	}
	if in.opts.Observe != nil {
		in.opts.Observe(rep)
	}
	return rep
}

// logOutcome logs a refresh: every one at debug, in full; at info and
// above only what changed: a source starting to fail, or failing for
// another cause, once and in short, and its recovery.
func (in *Ingester) logOutcome(rep Report, prev store.SourceState) {
	if rep.Err == "" {
		in.log.Debug("refreshed", "source", rep.Source, "status", rep.Status, "http", rep.HTTPStatus,
			"new", rep.New, "updated", rep.Updated, "bytes", rep.Bytes, "classify", rep.Classify, "took", rep.Took)
	} else {
		in.log.Debug("refresh failed", "source", rep.Source, "status", rep.Status, "failures", rep.Failures,
			"next", rep.Next, "err", rep.Err)
	}
	if rep.Cause == causeCancelled {
		return
	}
	in.mu.Lock()
	logged, wasFailing := in.failing[rep.Source]
	if rep.Err == "" {
		delete(in.failing, rep.Source)
	} else {
		in.failing[rep.Source] = rep.Cause
	}
	in.mu.Unlock()
	switch {
	case rep.Err != "" && (!wasFailing || logged != rep.Cause):
		in.log.Warn("source failing", "source", rep.Source, "status", rep.Status, "cause", rep.Cause,
			"failures", rep.Failures, "next", rep.Next.Round(time.Second))
	case rep.Err == "" && (wasFailing || prev.Failures > 0):
		in.log.Info("source recovered", "source", rep.Source, "status", rep.Status, "after_failures", prev.Failures)
	}
	// Parse warnings change only with a parse, so comparing with the state
	// the refresh started from logs each new set once, even across restarts.
	switch {
	case slices.Equal(prev.Warnings, rep.Warnings):
	case len(rep.Warnings) > 0:
		in.log.Info("parts of the document skipped as malformed", "source", rep.Source,
			"count", len(rep.Warnings), "warnings", strings.Join(rep.Warnings, "; "))
	default:
		in.log.Info("document no longer malformed", "source", rep.Source)
	}
}

// refresh does the work of Refresh and returns the new source state and the
// topics whose stories changed.
func (in *Ingester) refresh(ctx context.Context, c *cached, src story.Source, prev store.SourceState, now, slot time.Time, rep *Report, free func()) (store.SourceState, []string, error) {
	st := prev
	st.LastAttempt = now
	if st.MovedFrom != src.URL {
		st.MovedFrom, st.MovedTo = "", "" // the config's url changed since: it wins
	}
	url := src.URL
	if st.MovedTo != "" {
		url = st.MovedTo
	}
	res, err := in.fetch.Get(ctx, fetch.Request{
		URL:        url,
		Validators: fetch.Validators{ETag: prev.ETag, LastModified: prev.LastModified},
		MaxBody:    src.MaxBody,
		Timeout:    src.Timeout,
	})
	if res != nil && res.MovedTo != "" { // an answer (2xx or 304) reached through permanent redirects only
		st.MovedFrom, st.MovedTo = src.URL, res.MovedTo
		if res.MovedTo == src.URL { // moved back
			st.MovedFrom, st.MovedTo = "", ""
		}
	}
	var why Why
	if errors.Is(err, fetch.ErrNotModified) {
		// fetch answers a 304 with a body-less Result: it still carries
		// Cache-Control and the validators. The document is the one last
		// parsed, so its ttl holds too.
		rep.Status, rep.HTTPStatus = story.StatusNotModified, 304
		st, why = in.succeeded(st, now, slot, res, max(res.MaxAge, prev.TTL), story.StatusNotModified)
		rep.Why = why
		in.keep(c, prev, st, why)
		return st, nil, nil
	}
	if err != nil && ctx.Err() != nil {
		// Our caller gave up (shutdown, an admin's fetch cancelled): no
		// fault of the source's, so nothing is recorded against it.
		rep.Status = story.StatusFailing
		return prev, nil, err
	}
	if err != nil {
		st, why = in.failed(st, now, err)
		rep.Status, rep.HTTPStatus, rep.Why = st.Status, st.LastStatus, why
		in.keep(c, prev, st, why)
		return st, nil, err
	}
	rep.HTTPStatus, rep.Bytes = res.Status, int64(len(res.Body))

	sum := sha256.Sum256(res.Body)
	hash := hex.EncodeToString(sum[:])
	if hash == prev.BodyHash && prev.Status != story.StatusFailing {
		// Same bytes as last time: no parse, no story write.
		rep.Status = story.StatusUnchanged
		st, why = in.succeeded(st, now, slot, res, max(res.MaxAge, prev.TTL), story.StatusOK)
		rep.Why = why
		in.keep(c, prev, st, why)
		return st, nil, nil
	}

	var feed *parse.Feed
	rep.Parsed = true
	in.withCPU(func() {
		feed, err = parse.Stories(parse.Input{Source: src, Body: res.Body, ContentType: res.ContentType, URL: res.FinalURL}, now)
	})
	if err != nil {
		// Keep the old validators: a garbled body must not be "cached" as good.
		st, why = in.failed(st, now, err)
		st.LastStatus = res.Status
		rep.Status, rep.Why = st.Status, why
		in.keep(c, prev, st, why)
		return st, nil, err
	}
	rep.Stories = len(feed.Stories)
	st, why = in.succeeded(st, now, slot, res, max(res.MaxAge, feed.TTL), story.StatusOK)
	st.BodyHash, st.Title, st.Link, st.TTL = hash, feed.Title, feed.Link, feed.TTL
	st.Warnings = keepWarnings(feed.Warnings)         // a parse replaces them; nothing else does
	st.FeedID, st.FeedUpdated = feed.ID, feed.Updated // what an Atom <source> credits

	put, took, err := in.classifyAndPut(ctx, c, src.Name, st, why, feed.Stories, now, free)
	rep.Classify = took
	if err != nil {
		// Our fault, not upstream's: nothing was stored, so the next run
		// fetches and stores again (the old validators are kept).
		rep.Status = story.StatusFailing
		if ctx.Err() == nil {
			in.log.Error("store refresh", "source", src.Name, "err", err)
		}
		return prev, nil, fmt.Errorf("store %s: %w", src.Name, err)
	}
	rep.Status, rep.New, rep.Updated, rep.Why = story.StatusOK, put.New, put.Updated, why
	return st, put.Topics, nil
}

// classifyAndPut files stories under the current topics and commits them,
// holding in.classify shared so that a topic swap cannot come between the
// two (see Ingester.classify). Between the two it calls free, if set,
// unless committing refreshes wait for the store already (see refreshAt).
func (in *Ingester) classifyAndPut(ctx context.Context, c *cached, name string, st store.SourceState, why Why, stories []story.Story, now time.Time, free func()) (store.PutResult, time.Duration, error) {
	in.classify.RLock()
	defer in.classify.RUnlock()
	start := time.Now()
	set := in.topics.Load()
	in.withCPU(func() {
		for i := range stories {
			stories[i].Topics = set.Classify(stories[i])
		}
	})
	took := time.Since(start)
	if free != nil {
		select {
		case in.committing <- struct{}{}:
			free()
			defer func() { <-in.committing }()
		default: // enough feeds wait for the store already: this one keeps its worker
		}
	}
	if in.beforePut != nil {
		in.beforePut(name)
	}
	put, err := in.put(ctx, c, name, st, why, stories, now)
	return put, took, err
}

// RefreshAll refreshes sources with a bounded pool of workers, as one Run
// (logged and observed like a scheduled one, with Trigger "request").
// progress, if not nil, is called (from one goroutine at a time) as each
// source finishes. Reports come back in the order of sources, once every
// change of state that matters after a crash is in the store (see state.go;
// timestamps alone still wait for Close).
//
// Options.Workers sources are fetched, parsed and classified at once; a
// refresh whose stories wait for their commit has given its worker to the
// next source (see refreshAt).
func (in *Ingester) RefreshAll(ctx context.Context, sources []story.Source, force bool, progress func(Report)) []Report {
	run := in.newRun(TriggerRequest, len(sources))
	reports := make([]Report, len(sources))
	jobs := make(chan int)
	workers := make(chan struct{}, in.opts.Workers)
	var wg sync.WaitGroup
	var pmu sync.Mutex
	for range min(in.opts.Workers+committing, len(sources)) {
		wg.Go(func() {
			for i := range jobs {
				select {
				case workers <- struct{}{}:
				case <-ctx.Done():
					reports[i] = Report{Source: sources[i].Name, Status: story.StatusFailing, Err: ctx.Err().Error(), Cause: Cause(ctx.Err().Error())}
					run.add(reports[i])
					continue
				}
				free := freeOnce(workers)
				reports[i] = in.refreshNow(ctx, sources[i], force, free)
				free()
				run.add(reports[i])
				if progress != nil {
					pmu.Lock()
					progress(reports[i])
					pmu.Unlock()
				}
			}
		})
	}
	for i := range sources {
		select {
		case jobs <- i:
		case <-ctx.Done():
			reports[i] = Report{Source: sources[i].Name, Status: story.StatusFailing, Err: ctx.Err().Error(), Cause: Cause(ctx.Err().Error())}
			run.add(reports[i])
		}
	}
	close(jobs)
	wg.Wait()
	in.settle()
	return reports
}

// committing bounds the refreshes that wait for the store to commit their
// stories having given their worker back (see refreshAt), each holding its
// parsed feed: enough for the store to commit many feeds at once while the
// workers parse the next ones.
const committing = 64

// freeOnce returns a function that takes one token back from slots, the
// first time it is called.
func freeOnce(slots chan struct{}) func() {
	var once sync.Once
	return func() { once.Do(func() { <-slots }) }
}

// SetTopics replaces the topic set (after a config reload) and re-classifies
// every stored story, so that an edit applies to what is already stored.
// Refreshes wait meanwhile between fetching and classifying (see
// Ingester.classify). Cancelling ctx stops the re-classification, keeps the
// old indexes and the old topic set, and returns ctx's error.
//
// Readers are not held up: the store serves the previous filing until the
// new one is complete and swaps them whole, and only then are the changed
// topics' cached renders invalidated (Options.Changed), after refreshes
// may go on again.
func (in *Ingester) SetTopics(ctx context.Context, set *topic.Set) error {
	changed, err := in.setTopics(ctx, set)
	if err != nil {
		return err
	}
	in.opts.Changed(changed)
	return nil
}

func (in *Ingester) setTopics(ctx context.Context, set *topic.Set) ([]string, error) {
	in.classify.Lock()
	defer in.classify.Unlock()
	old := in.topics.Swap(set)
	var changed []string
	var err error
	in.withCPU(func() {
		r := &refiling{started: in.opts.Now()}
		if stats, err := in.db.Stats(ctx); err == nil { // a count for the progress only: no reason to fail
			r.stories = stats.Stories
		}
		in.refiling.Store(r)
		defer in.refiling.Store(nil)
		changed, err = in.db.Reclassify(ctx, func(s story.Story) []string { // the store re-files on this one goroutine
			r.done.Add(1)
			return set.Classify(s)
		})
	})
	if err != nil {
		// The store kept the old indexes: classify new stories as they are,
		// or they would be the only ones filed under the new topics.
		in.topics.Store(old)
		return nil, fmt.Errorf("reclassify: %w", err)
	}
	return changed, nil
}

// refiling is a running re-classification.
type refiling struct {
	started time.Time
	stories int          // stored as it began (duplicates included)
	done    atomic.Int64 // stories classified so far
}

// Reclassification is a running re-classification of the stored stories,
// as Status reports it: readers are served the previous filing until it
// ends.
type Reclassification struct {
	Started time.Time `json:"started"`
	// Stories is how many stories were stored as it began (duplicates
	// included); Done how many of them are classified so far, at most
	// Stories.
	Stories int `json:"stories"`
	Done    int `json:"done"`
}

// Reclassifying reports the re-classification running now; false when
// none is.
func (in *Ingester) Reclassifying() (Reclassification, bool) {
	r := in.refiling.Load()
	if r == nil {
		return Reclassification{}, false
	}
	// An engine classifies a group's duplicates again with their
	// representative, so the calls can outnumber the stories.
	done := int(r.done.Load())
	if r.stories > 0 {
		done = min(done, r.stories)
	}
	return Reclassification{Started: r.started, Stories: r.stories, Done: done}, true
}

// Prune applies the retention policy.
func (in *Ingester) Prune(ctx context.Context) error {
	r := store.Retention{MaxAge: in.opts.MaxAge, MaxStories: in.opts.MaxStories}
	if r.Off() {
		return nil
	}
	if !in.pruning.TryLock() {
		return nil // one running now does the same work
	}
	defer in.pruning.Unlock()
	n, err := in.db.Prune(ctx, r, in.opts.Now())
	if err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	if n > 0 {
		in.log.Info("pruned", "stories", n)
		in.opts.Changed(nil)
	}
	return nil
}

// Close writes the source state that only the cache holds. It runs at
// shutdown, after the scheduler has stopped, and writes even after the
// daemon's context has ended. The Ingester is not used after Close.
func (in *Ingester) Close() error {
	in.mu.Lock()
	if !in.closing {
		in.closing = true
		close(in.stop)
	}
	in.mu.Unlock()
	in.writers.Wait()
	return in.flush()
}

func (in *Ingester) claim(name string) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.busy[name] {
		return false
	}
	in.busy[name] = true
	return true
}

func (in *Ingester) release(name string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	delete(in.busy, name)
}

// SyncTopics makes set the topic set. When fingerprint (a digest of the topic
// definitions) differs from the one the store was last classified with, every
// stored story is re-classified; a restart with unchanged topics costs nothing.
func (in *Ingester) SyncTopics(ctx context.Context, set *topic.Set, fingerprint string) error {
	old, err := in.db.Meta(ctx, topicsKey)
	if err != nil {
		return fmt.Errorf("read topics fingerprint: %w", err)
	}
	if old == fingerprint {
		in.classify.Lock()
		in.topics.Store(set)
		in.classify.Unlock()
		return nil
	}
	start := in.opts.Now()
	in.log.Info("reclassifying stored stories")
	// The fingerprint is cleared before the re-filing and written after it:
	// the filing and the fingerprint are two transactions, and a process
	// stopped between them (SIGTERM cancelling ctx, or SIGKILL) must leave
	// a store that the next start re-files whatever its topics, not one
	// whose old fingerprint says the old topics while the new filing is in
	// place (TestCrashSafety's SIGTERM phase saw that: a start with the old
	// topics then served the new filing).
	if err := in.db.SetMeta(ctx, topicsKey, ""); err != nil {
		return fmt.Errorf("clear topics fingerprint: %w", err)
	}
	if err := in.SetTopics(ctx, set); err != nil {
		return err
	}
	in.log.Info("reclassified", "took", in.opts.Now().Sub(start))
	// The new filing is committed: record it even when ctx ended meanwhile.
	if err := in.db.SetMeta(context.WithoutCancel(ctx), topicsKey, fingerprint); err != nil {
		return fmt.Errorf("write topics fingerprint: %w", err)
	}
	return nil
}

// topicsKey is the store meta key of the topics fingerprint.
const topicsKey = TopicsKey

// TopicsKey is the store meta key under which SyncTopics keeps the
// fingerprint of the topics the stored stories were classified with: what
// a replica's status compares its own topics with.
const TopicsKey = "topics-fingerprint"

// Bounds of the parse warnings a source state keeps: a document with a
// thousand malformed items (or one whose item ids are megabytes long) must
// not make every state write, log line and status page that large. What is
// kept names the first problems, and how many more there were.
const (
	maxWarnings    = 20
	maxWarningSize = 300 // bytes
)

// keepWarnings is what a source state keeps of a parse's warnings: at most
// maxWarnings, each at most maxWarningSize bytes, the last saying how many
// more there were; nil for none.
func keepWarnings(ws []string) []string {
	if len(ws) == 0 {
		return nil
	}
	out := make([]string, 0, min(len(ws), maxWarnings))
	for i, w := range ws {
		if i == maxWarnings-1 && len(ws) > maxWarnings {
			out = append(out, fmt.Sprintf(moreWarnings, len(ws)-i))
			break
		}
		if len(w) > maxWarningSize {
			cut := maxWarningSize
			for cut > 0 && !utf8.RuneStart(w[cut]) {
				cut--
			}
			w = w[:cut] + "…"
		}
		out = append(out, w)
	}
	return out
}

// moreWarnings is the last of the warnings kept when there were more.
const moreWarnings = "and %d more"

// WarningCount is how many problems the kept warnings ws stand for: those
// named, and those the last one ("and 12 more") counts.
func WarningCount(ws []string) int {
	var more int
	if len(ws) == maxWarnings {
		if _, err := fmt.Sscanf(ws[len(ws)-1], moreWarnings, &more); err == nil {
			return len(ws) - 1 + more
		}
	}
	return len(ws)
}
