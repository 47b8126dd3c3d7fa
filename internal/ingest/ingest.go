// Package ingest conducts the write path: it fetches each source, parses and
// classifies its stories and files them in the store, on a cron schedule or on
// demand.
package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

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
	// Observe, if set, sees every Report as its refresh ends: metrics, tests.
	Observe func(Report)
	// Now is the clock [time.Now].
	Now func() time.Time
}

// Store is the part of the store the write path uses.
type Store interface {
	Put(ctx context.Context, source string, st store.SourceState, stories []story.Story, now time.Time) (store.PutResult, error)
	PutSource(ctx context.Context, source string, st store.SourceState) error
	Source(ctx context.Context, source string) (store.SourceState, error)
	Reclassify(ctx context.Context, classify func(story.Story) []string) ([]string, error)
	Prune(ctx context.Context, r store.Retention, now time.Time) (int, error)
	Meta(ctx context.Context, key string) (string, error)
	SetMeta(ctx context.Context, key, value string) error
}

// Ingester runs refreshes. Its methods are safe for concurrent use; two
// refreshes of one source never overlap.
type Ingester struct {
	fetch  *fetch.Client
	db     Store
	log    *slog.Logger
	opts   Options
	topics atomic.Pointer[topic.Set]

	mu     sync.Mutex
	busy   map[string]bool              // sources being refreshed now
	states map[string]store.SourceState // write-behind cache of source state
	dirty  map[string]bool              // states whose timestamps moved but were not written
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
	in := &Ingester{fetch: f, db: db, log: log, opts: opts,
		busy: map[string]bool{}, states: map[string]store.SourceState{}, dirty: map[string]bool{}}
	in.topics.Store(topics)
	return in
}

// Report is the outcome of refreshing one source.
type Report struct {
	Source     string        `json:"source"`
	Status     story.Status  `json:"status"`
	HTTPStatus int           `json:"http_status,omitempty"`
	New        int           `json:"new"`
	Updated    int           `json:"updated"`
	Took       time.Duration `json:"took"`
	Err        string        `json:"error,omitempty"`
	Next       time.Time     `json:"next,omitzero"` // not fetched again before this
	// MovedTo (password hidden) is where the source now lives, after a
	// 301/308 chain: it is polled there until the config's url is updated.
	MovedTo string `json:"moved_to,omitempty"`
}

// Refresh fetches src once and files its stories. Unless force is set, a source
// that asked not to be polled yet (backoff, Retry-After, ttl) or that is gone
// is left alone. Failures are recorded in the store and in the Report; nothing
// stored is lost.
func (in *Ingester) Refresh(ctx context.Context, src story.Source, force bool) (rep Report) {
	start := in.opts.Now()
	rep = Report{Source: src.Name}
	if !in.claim(src.Name) {
		rep.Status = story.StatusBusy
		return rep
	}
	defer in.release(src.Name)
	// A bug in one source's run (parse recovers gofeed's own panics) must not
	// take the daemon or the other sources down: RefreshAll runs sources on
	// goroutines that no cron Recover wraps.
	defer func() {
		if r := recover(); r != nil {
			in.log.Error("refresh panicked", "source", src.Name, "panic", r)
			rep.Status, rep.Err = story.StatusFailing, fmt.Sprintf("panic: %v", r)
		}
	}()

	prev, err := in.state(ctx, src.Name)
	if err != nil {
		rep.Status, rep.Err = story.StatusFailing, err.Error()
		in.log.Error("read source state", "source", src.Name, "err", err)
		return rep
	}
	if !force && (prev.Status == story.StatusGone || start.Before(prev.NextFetch)) {
		rep.Status, rep.Next = story.StatusDeferred, prev.NextFetch
		if prev.Status == story.StatusGone {
			rep.Status = story.StatusGone
		}
		return rep
	}

	st, changed, err := in.refresh(ctx, src, prev, start, &rep)
	rep.Took = in.opts.Now().Sub(start)
	rep.Next = st.NextFetch
	if st.MovedTo != "" {
		rep.MovedTo = fetch.Redact(st.MovedTo)
		if st.MovedTo != prev.MovedTo || st.MovedFrom != prev.MovedFrom { // once per move, not per poll
			in.log.Warn("source moved permanently; update its url in the config", "source", src.Name,
				"url", fetch.Redact(src.URL), "moved_to", rep.MovedTo)
		}
	}
	if err != nil {
		rep.Err = err.Error()
		in.log.Warn("refresh failed", "source", src.Name, "status", st.Status, "failures", st.Failures, "err", err)
	} else {
		in.log.Info("refreshed", "source", src.Name, "status", rep.Status, "new", rep.New, "updated", rep.Updated, "took", rep.Took)
	}
	if len(changed) > 0 {
		in.opts.Changed(changed)
	}
	if in.opts.Observe != nil {
		in.opts.Observe(rep)
	}
	return rep
}

// refresh does the work of Refresh and returns the new source state and the
// topics whose stories changed.
func (in *Ingester) refresh(ctx context.Context, src story.Source, prev store.SourceState, now time.Time, rep *Report) (store.SourceState, []string, error) {
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
	if errors.Is(err, fetch.ErrNotModified) {
		// fetch answers a 304 with a body-less Result: it still carries
		// Cache-Control and the validators.
		rep.Status, rep.HTTPStatus = story.StatusNotModified, 304
		st = in.succeeded(st, now, res, res.MaxAge, story.StatusNotModified)
		return st, nil, in.keep(ctx, src.Name, prev, st)
	}
	if err != nil {
		st = in.failed(st, now, err)
		rep.Status, rep.HTTPStatus = st.Status, st.LastStatus
		return st, nil, errors.Join(err, in.keep(ctx, src.Name, prev, st))
	}
	rep.HTTPStatus = res.Status

	sum := sha256.Sum256(res.Body)
	hash := hex.EncodeToString(sum[:])
	if hash == prev.BodyHash && prev.Status != story.StatusFailing {
		// Same bytes as last time: no parse, no story write.
		rep.Status = story.StatusUnchanged
		st = in.succeeded(st, now, res, res.MaxAge, story.StatusOK)
		return st, nil, in.keep(ctx, src.Name, prev, st)
	}

	feed, err := parse.Stories(parse.Input{Source: src, Body: res.Body, ContentType: res.ContentType, URL: res.FinalURL}, now)
	if err != nil {
		// Keep the old validators: a garbled body must not be "cached" as good.
		st = in.failed(st, now, err)
		st.LastStatus = res.Status
		rep.Status = st.Status
		return st, nil, errors.Join(err, in.keep(ctx, src.Name, prev, st))
	}
	set := in.topics.Load()
	for i := range feed.Stories {
		feed.Stories[i].Topics = set.Classify(feed.Stories[i])
	}
	st = in.succeeded(st, now, res, max(res.MaxAge, feed.TTL), story.StatusOK)
	st.BodyHash, st.Title, st.Link = hash, feed.Title, feed.Link
	st.FeedID, st.FeedUpdated = feed.ID, feed.Updated // what an Atom <source> credits

	put, err := in.db.Put(ctx, src.Name, st, feed.Stories, now)
	if err != nil {
		// Our fault, not upstream's: nothing was stored, so the next run
		// fetches and stores again (the old validators are kept).
		rep.Status = story.StatusFailing
		return prev, nil, fmt.Errorf("store %s: %w", src.Name, err)
	}
	in.remember(src.Name, st, false)
	rep.Status, rep.New, rep.Updated = story.StatusOK, put.New, put.Updated
	return st, put.Topics, nil
}

// RefreshAll refreshes sources with a bounded pool of workers. progress, if
// not nil, is called (from one goroutine at a time) as each source finishes.
// Reports come back in the order of sources.
func (in *Ingester) RefreshAll(ctx context.Context, sources []story.Source, force bool, progress func(Report)) []Report {
	reports := make([]Report, len(sources))
	jobs := make(chan int)
	var wg sync.WaitGroup
	var pmu sync.Mutex
	for range min(in.opts.Workers, len(sources)) {
		wg.Go(func() {
			for i := range jobs {
				reports[i] = in.Refresh(ctx, sources[i], force)
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
			reports[i] = Report{Source: sources[i].Name, Status: story.StatusFailing, Err: ctx.Err().Error()}
		}
	}
	close(jobs)
	wg.Wait()
	return reports
}

// SetTopics replaces the topic set (after a config reload) and re-classifies
// every stored story, so that an edit applies to what is already stored.
// Cancelling ctx stops the re-classification and keeps the old indexes.
func (in *Ingester) SetTopics(ctx context.Context, set *topic.Set) error {
	in.topics.Store(set)
	changed, err := in.db.Reclassify(ctx, set.Classify)
	if err != nil {
		return fmt.Errorf("reclassify: %w", err)
	}
	in.opts.Changed(changed)
	return nil
}

// Prune applies the retention policy.
func (in *Ingester) Prune(ctx context.Context) error {
	r := store.Retention{MaxAge: in.opts.MaxAge, MaxStories: in.opts.MaxStories}
	if r.Off() {
		return nil
	}
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

// Close writes source state that only the in-memory cache holds. It runs at
// shutdown, after the daemon's context has ended, so it uses its own.
func (in *Ingester) Close() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	var errs []error
	for name := range in.dirty {
		if err := in.db.PutSource(context.Background(), name, in.states[name]); err != nil {
			errs = append(errs, fmt.Errorf("save state of %s: %w", name, err))
		}
		delete(in.dirty, name)
	}
	return errors.Join(errs...)
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
	in.topics.Store(set)
	old, err := in.db.Meta(ctx, topicsKey)
	if err != nil {
		return fmt.Errorf("read topics fingerprint: %w", err)
	}
	if old == fingerprint {
		return nil
	}
	start := in.opts.Now()
	if err := in.SetTopics(ctx, set); err != nil {
		return err
	}
	in.log.Info("reclassified", "took", in.opts.Now().Sub(start))
	return in.db.SetMeta(ctx, topicsKey, fingerprint)
}

// topicsKey is the store meta key of the topics fingerprint.
const topicsKey = "topics-fingerprint"
