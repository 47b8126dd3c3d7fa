package server

import (
	"bufio"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// A reader process (config http.reader_process) answers the polls of
// cached documents from a process of its own, at the readers' priority,
// while the daemon (fetching, classifying, storing, rendering) runs in a
// second one at the lowest. The two share the documents through a mirror:
// the daemon's Server, made with Options.Mirror, sends every document at a
// fixed path as it is admitted to its slot, replaced or withdrawn
// (Server.Mirror), and the reader process's Replica keeps the latest of
// each and answers from it with the same code as the daemon's own hit
// path (serve). What the Replica does not hold it hands to the daemon.
// The Replica reports back which documents it served and the requests it
// answered, so the daemon renders ahead the documents readers poll, and
// its metrics and access log count every request.

// mirrorFrame is one document sent to a Replica, or its withdrawal.
type mirrorFrame struct {
	Path         string
	Gone         bool // withdrawn: the Replica hands its requests to the daemon
	Kind, Slug   string
	Body, GzBody []byte // GzBody nil: no gzip twin
	ETag, GzETag string
	ContentType  string
	NavType      string // "": navigations get ContentType
	Links        []string
	Modified     time.Time // zero: no Last-Modified
	CacheControl string
	// Settings, when set, is not a document (Path is empty) but how the
	// Replica reports the requests it answers.
	Settings *mirrorSettings
}

// mirrorSettings is how a Replica reports its requests: each in full, or
// counted by route, status and duration bucket.
type mirrorSettings struct {
	Full    bool
	Buckets []time.Duration // ascending upper bounds; past the last, one more bucket
}

// mirrorReport is what a Replica tells the daemon it did since its last
// report.
type mirrorReport struct {
	Served   []string       // paths of the documents served
	Hits     map[string]int // requests answered, by document kind
	Requests []Request      // every request answered, in full (for an access log)
	Counts   []mirrorCount  // else every request answered, counted
}

// mirrorCount is N requests answered with one route and status, whose
// durations fall in bucket Bucket of the settings' Buckets and add up to
// about Sum: the Replica counts without a lock, so a request's duration
// can come in one report and its count in the next (the totals are exact).
type mirrorCount struct {
	Route          string
	Status, Bucket int
	N              int
	Sum            time.Duration
}

// Requests is what Mirror does with the requests a Replica answered.
// Sending each in full costs the Replica about as much as answering a
// poll that finds its document unchanged, so unless an access log wants
// them they come counted: by route, status and duration bucket.
type Requests struct {
	Full    func() bool     // whether each is wanted in full now (nil: never); read as documents change, and every second
	Buckets []time.Duration // the bounds counted durations are told apart by (a histogram's), ascending
	Each    func(Request)   // one request, in full
	// Counted is n requests with r's Route and Status, whose durations,
	// all in one bucket, average r.Duration.
	Counted func(r Request, n int)
}

// mirror records which fixed-path documents changed since the Replica was
// last sent them. Marks coalesce: a document that changes ten times while
// the sender is busy is sent once, as it is then.
type mirror struct {
	mu    sync.Mutex
	dirty map[key]struct{}
	all   bool          // a new configuration: every path, and the withdrawal of those it dropped
	wake  chan struct{} // capacity 1: the sender has something to send
}

func newMirror() *mirror {
	return &mirror{dirty: map[key]struct{}{}, all: true, wake: make(chan struct{}, 1)}
}

// mark records that k's slot changed. m may be nil (no mirror).
func (m *mirror) mark(k key) {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.dirty[k] = struct{}{}
	m.mu.Unlock()
	m.signal()
}

// markAll records that every slot may have changed: a new state serves.
func (m *mirror) markAll() {
	if m == nil {
		return
	}
	m.mu.Lock()
	m.all = true
	m.mu.Unlock()
	m.signal()
}

func (m *mirror) signal() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// take returns what changed since the last take.
func (m *mirror) take() (dirty map[key]struct{}, all bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	dirty, all = m.dirty, m.all
	m.dirty, m.all = map[key]struct{}{}, false
	return dirty, all
}

// ErrNoMirror is Mirror on a Server made without Options.Mirror.
var ErrNoMirror = errors.New("server: made without Options.Mirror")

// Mirror sends the documents at fixed paths to a Replica over w as they
// change, and reads the Replica's reports from reports, passing the
// requests it answered to reqs, until ctx ends or either stream fails.
// One Mirror at a time: it sends each document only when it is not the
// one it sent last. The index is not sent: whether a request
// gets the one that links the status page is the daemon's to decide.
func (s *Server) Mirror(ctx context.Context, w io.Writer, reports io.Reader, reqs Requests) error {
	m := s.mirror
	if m == nil {
		return ErrNoMirror
	}
	errc := make(chan error, 1)
	go func() { errc <- s.readReports(reports, reqs) }()
	bw := bufio.NewWriterSize(w, 256<<10)
	enc := gob.NewEncoder(bw)
	sent := map[string]*entry{}
	m.markAll() // everything there is, first
	// settings are as last sent: nil, none yet.
	var settings *mirrorSettings
	send := func(st *state, path string) error {
		var e *entry
		if slot := st.paths[path]; slot != nil {
			e = slot.Load()
		}
		prev, had := sent[path]
		switch {
		case e == prev && had:
			return nil
		case e == nil:
			delete(sent, path)
			if !had {
				return nil
			}
			return enc.Encode(&mirrorFrame{Path: path, Gone: true})
		}
		sent[path] = e
		return enc.Encode(e.frame(path, st.cacheControl[0]))
	}
	// Full can change without a document changing (a reload that turns
	// the access log on): it is read at every wake, and a tick wakes the
	// sender once a second.
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errc:
			return err
		case <-m.wake:
		case <-tick.C:
		}
		dirty, all := m.take()
		st := s.state.Load()
		var err error
		if full := reqs.Full != nil && reqs.Full(); settings == nil || settings.Full != full {
			settings = &mirrorSettings{Full: full, Buckets: reqs.Buckets}
			err = enc.Encode(&mirrorFrame{Settings: settings})
		}
		if all {
			for path := range sent {
				if st.paths[path] == nil {
					err = errors.Join(err, send(st, path))
				}
			}
			for path := range st.paths {
				if path != "/" {
					err = errors.Join(err, send(st, path))
				}
			}
		} else {
			for k := range dirty {
				if k.kind != "index" {
					err = errors.Join(err, send(st, k.path()))
				}
			}
		}
		if err = errors.Join(err, bw.Flush()); err != nil {
			return fmt.Errorf("mirror: send: %w", err)
		}
	}
}

// readReports applies a Replica's reports: the documents it served count as
// served here (so invalidations render them ahead of their readers, and
// eviction spares them), its hits count, and reqs gets its requests.
func (s *Server) readReports(r io.Reader, reqs Requests) error {
	dec := gob.NewDecoder(bufio.NewReader(r))
	for {
		var rep mirrorReport
		if err := dec.Decode(&rep); err != nil {
			if errors.Is(err, io.EOF) {
				return errors.New("mirror: the replica closed its reports")
			}
			return fmt.Errorf("mirror: read a report: %w", err)
		}
		st := s.state.Load()
		for _, path := range rep.Served {
			if slot := st.paths[path]; slot != nil {
				if e := slot.Load(); e != nil {
					e.touch()
				}
			}
		}
		for kind, n := range rep.Hits {
			s.hits.Add(uint64(n))
			for range n {
				s.observer.CacheHit(kind)
			}
		}
		if reqs.Each != nil {
			for _, req := range rep.Requests {
				reqs.Each(req)
			}
		}
		if reqs.Counted != nil {
			for _, c := range rep.Counts {
				if c.N > 0 && c.Bucket >= 0 && c.Bucket <= len(reqs.Buckets) {
					mean := inBucket(reqs.Buckets, c.Bucket, c.Sum/time.Duration(c.N))
					reqs.Counted(Request{Route: c.Route, Status: c.Status, Duration: mean}, c.N)
				}
			}
		}
	}
}

// frame is e as sent to a Replica at path.
func (e *entry) frame(path, cacheControl string) *mirrorFrame {
	f := &mirrorFrame{Path: path, Kind: e.key.kind, Slug: e.key.slug, Body: e.body, GzBody: e.gzBody,
		ETag: e.etag[0], ContentType: e.contentType[0], Links: e.links, Modified: e.modified, CacheControl: cacheControl}
	if e.gzBody != nil {
		f.GzETag = e.gzETag[0]
	}
	if e.navType != nil {
		f.NavType = e.navType[0]
	}
	return f
}

// mirrored is a document a Replica holds, with the Cache-Control of the
// configuration it was made under.
type mirrored struct {
	e            *entry
	cacheControl []string
}

// entryOf is the entry f describes, with the header values serve hands
// out made once here, as set makes them.
func entryOf(f *mirrorFrame) *entry {
	e := &entry{ready: closedReady, key: key{slug: f.Slug, kind: f.Kind}, body: f.Body, gzBody: f.GzBody, links: f.Links}
	e.describe(f.ETag, f.GzETag, f.ContentType, f.NavType, f.Modified)
	return e
}

var closedReady = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// Replica answers the requests for the documents a daemon's Server mirrors
// to it (see Server.Mirror) and hands every other request on. It is safe
// for concurrent use.
type Replica struct {
	// paths maps each fixed path the daemon has sent to its slot. The map
	// is replaced whole (under mu) when a path is first sent, which
	// happens once per document, so a hit is a map lookup and an atomic
	// load with no lock.
	paths atomic.Pointer[map[string]*atomic.Pointer[mirrored]]
	mu    sync.Mutex

	full    atomic.Bool                     // each request wanted in full (the daemon says; true until it has)
	buckets atomic.Pointer[[]time.Duration] // the bounds requests are counted by

	reqMu    sync.Mutex
	requests []Request
	spare    []Request // the last report's, emptied: the next to fill, so a hit allocates none

	// counts are the requests answered and not yet reported, when not in
	// full: a map replaced whole (under countMu) as a cell is added, so a
	// hit takes no lock (one taken by every hit was the most contended in
	// the process under wrk).
	counts  atomic.Pointer[map[countKey]*countCell]
	countMu sync.Mutex

	hits map[string]*atomic.Uint64 // by kind; fixed at NewReplica, so read without a lock
}

// countCell is the requests of one countKey since the last report.
type countCell struct{ n, sum atomic.Int64 }

// countKey is what a Replica counts requests by.
type countKey struct {
	route          string
	status, bucket int
}

// maxPendingRequests bounds the requests a Replica keeps for its next
// report: a daemon that stops reading them costs it no more memory than
// this (the requests past it go uncounted).
const maxPendingRequests = 1 << 16

// replicaKinds are the kinds of document a Replica may hold.
var replicaKinds = []string{"rss", "atom", "json", "html", "opml", assetKind}

// NewReplica returns a Replica holding no document.
func NewReplica() *Replica {
	r := &Replica{hits: map[string]*atomic.Uint64{}}
	r.full.Store(true)
	r.buckets.Store(&[]time.Duration{})
	r.counts.Store(&map[countKey]*countCell{})
	for _, kind := range replicaKinds {
		r.hits[kind] = new(atomic.Uint64)
	}
	r.paths.Store(&map[string]*atomic.Pointer[mirrored]{})
	return r
}

// Apply reads the documents a Server's Mirror sends from src until src
// ends or fails: each replaces the one at its path at once.
func (rp *Replica) Apply(src io.Reader) error {
	dec := gob.NewDecoder(bufio.NewReaderSize(src, 256<<10))
	cc := map[string][]string{} // shared header values, one per Cache-Control seen
	for {
		var f mirrorFrame
		if err := dec.Decode(&f); err != nil {
			if errors.Is(err, io.EOF) {
				return io.EOF
			}
			return fmt.Errorf("mirror: read a document: %w", err)
		}
		if f.Settings != nil {
			rp.buckets.Store(&f.Settings.Buckets)
			rp.full.Store(f.Settings.Full)
			continue
		}
		slot := (*rp.paths.Load())[f.Path]
		if f.Gone {
			if slot != nil {
				slot.Store(nil)
			}
			continue
		}
		if slot == nil {
			if !slices.Contains(replicaKinds, f.Kind) {
				continue // not a kind this Replica serves (see Handler)
			}
			slot = rp.add(f.Path)
		}
		v := cc[f.CacheControl]
		if v == nil {
			v = []string{f.CacheControl}
			cc[f.CacheControl] = v
		}
		slot.Store(&mirrored{e: entryOf(&f), cacheControl: v})
	}
}

// add makes the slot of a path not sent before.
func (rp *Replica) add(path string) *atomic.Pointer[mirrored] {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	old := *rp.paths.Load()
	if slot := old[path]; slot != nil {
		return slot
	}
	next := make(map[string]*atomic.Pointer[mirrored], len(old)+1)
	for p, s := range old {
		next[p] = s
	}
	slot := new(atomic.Pointer[mirrored])
	next[path] = slot
	rp.paths.Store(&next)
	return slot
}

// Handler answers a GET or HEAD without a query of a document the Replica
// holds, as the daemon's own hit path does, and hands every other request
// to next. Only the requests it answers itself go into its reports: next
// (the daemon) counts the others.
func (rp *Replica) Handler(next http.Handler) http.Handler {
	return Observe(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.URL.RawQuery == "" {
			if slot := (*rp.paths.Load())[r.URL.Path]; slot != nil {
				if m := slot.Load(); m != nil {
					m.e.touch()
					if n := rp.hits[m.e.key.kind]; n != nil {
						n.Add(1)
					}
					r.Pattern = m.e.key.pattern()
					serve(w, r, m.cacheControl, m.e)
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	}), func(req Request) {
		if req.Route == "" { // handed on: not ours to report
			return
		}
		if !rp.full.Load() {
			k := countKey{req.Route, req.Status, bucketOf(*rp.buckets.Load(), req.Duration)}
			c := (*rp.counts.Load())[k]
			if c == nil {
				c = rp.addCount(k)
			}
			c.sum.Add(int64(req.Duration)) // before the count: a report that has the count has the duration
			c.n.Add(1)
			return
		}
		rp.reqMu.Lock()
		if len(rp.requests) < maxPendingRequests {
			rp.requests = append(rp.requests, req)
		}
		rp.reqMu.Unlock()
	})
}

// Report sends, every interval until ctx ends or w fails, what the Replica
// served since the last report: to Server.Mirror's reports.
func (rp *Replica) Report(ctx context.Context, w io.Writer, every time.Duration) error {
	bw := bufio.NewWriter(w)
	enc := gob.NewEncoder(bw)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		var rep mirrorReport
		for path, slot := range *rp.paths.Load() {
			if m := slot.Load(); m != nil && m.e.used.Load() {
				m.e.used.Store(false)
				rep.Served = append(rep.Served, path)
			}
		}
		rp.reqMu.Lock()
		rep.Requests, rp.requests, rp.spare = rp.requests, rp.spare, nil
		rp.reqMu.Unlock()
		for k, c := range *rp.counts.Load() {
			if n := c.n.Swap(0); n > 0 {
				rep.Counts = append(rep.Counts, mirrorCount{Route: k.route, Status: k.status, Bucket: k.bucket,
					N: int(n), Sum: time.Duration(c.sum.Swap(0))})
			}
		}
		for kind, n := range rp.hits {
			if v := n.Swap(0); v > 0 {
				if rep.Hits == nil {
					rep.Hits = map[string]int{}
				}
				rep.Hits[kind] = int(v)
			}
		}
		if len(rep.Served) > 0 || len(rep.Requests) > 0 || len(rep.Counts) > 0 {
			if err := enc.Encode(&rep); err != nil {
				return fmt.Errorf("mirror: send a report: %w", err)
			}
			if err := bw.Flush(); err != nil {
				return fmt.Errorf("mirror: send a report: %w", err)
			}
		}
		clear(rep.Requests) // their paths and addresses go with them
		rp.reqMu.Lock()
		rp.spare = rep.Requests[:0]
		rp.reqMu.Unlock()
	}
}

// addCount makes the cell of a key not counted before.
func (rp *Replica) addCount(k countKey) *countCell {
	rp.countMu.Lock()
	defer rp.countMu.Unlock()
	old := *rp.counts.Load()
	if c := old[k]; c != nil {
		return c
	}
	next := make(map[countKey]*countCell, len(old)+1)
	for k, c := range old {
		next[k] = c
	}
	c := new(countCell)
	next[k] = c
	rp.counts.Store(&next)
	return c
}

// inBucket is d, or the nearest duration to it in bucket i of bounds: a
// mean of counted requests, which may hold a duration whose count comes
// in the next report.
func inBucket(bounds []time.Duration, i int, d time.Duration) time.Duration {
	if i > 0 && d <= bounds[i-1] {
		return bounds[i-1] + 1
	}
	if i < len(bounds) && d > bounds[i] {
		return bounds[i]
	}
	return d
}

// bucketOf is the index of the bucket d falls in: the first bound it does
// not pass, or one past the last.
func bucketOf(bounds []time.Duration, d time.Duration) int {
	for i, b := range bounds {
		if d <= b {
			return i
		}
	}
	return len(bounds)
}
