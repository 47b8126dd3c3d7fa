// Package metrics is newsdesk's one home for Prometheus metrics: it defines
// every metric the daemon exports, records the events other packages report
// (fetches, requests, render cache fills, config reloads), reads the store's
// and the sources' state at each scrape, and serves /metrics in the
// Prometheus text format from its own registry (no global state).
//
// Label values are bounded: sources and topics by the config (a source or
// topic removed by a reload loses its series), outcomes and cache kinds by
// fixed vocabularies, routes by the mux's patterns (an unknown path is
// route="unmatched"). No label carries a raw path, query or URL.
package metrics

import (
	"context"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/newsdesk/newsdesk/internal/ingest"
	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

const namespace = "newsdesk"

// Store is what a scrape reads from the store. Both calls are cheap
// (counters, not scans).
type Store interface {
	Stats(ctx context.Context) (store.Stats, error)
	Topic(ctx context.Context, slug string) (store.TopicInfo, error)
}

// Options configures New.
type Options struct {
	Version string // the build's version string, exported as newsdesk_build_info
	Store   Store  // nil: no store gauges
	// Topics returns the slugs of the running config's topics; Sources
	// returns the current state of each of the running config's sources.
	// Both are called at every scrape; nil exports none.
	Topics  func() []string
	Sources func(ctx context.Context) (map[string]store.SourceState, error)
	// ScrapeTimeout bounds the store reads of one scrape [5s].
	ScrapeTimeout time.Duration
}

// Metrics holds every metric. Its methods are safe for concurrent use.
type Metrics struct {
	reg  *prometheus.Registry
	opts Options

	mu   sync.Mutex
	seen map[string]bool // sources with per-source series

	bySeries sync.Map // requestKey → requestSeries

	fetches       *prometheus.CounterVec
	fetchDuration *prometheus.HistogramVec
	fetchBytes    *prometheus.CounterVec
	stories       *prometheus.CounterVec
	classify      prometheus.Histogram

	cacheHits    *prometheus.CounterVec
	hitsByKind   map[string]prometheus.Counter // read-only after New
	cacheMisses  *prometheus.CounterVec
	cacheErrors  *prometheus.CounterVec
	fillDuration *prometheus.HistogramVec

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec

	reloads       *prometheus.CounterVec
	reloadOK      prometheus.Gauge
	reloadSuccess prometheus.Gauge
}

// New returns the metrics of one daemon, registered with their own registry
// together with the Go runtime and process collectors.
func New(o Options) *Metrics {
	if o.ScrapeTimeout <= 0 {
		o.ScrapeTimeout = 5 * time.Second
	}
	m := &Metrics{reg: prometheus.NewRegistry(), opts: o, seen: map[string]bool{}}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, labels)
	}
	histogram := func(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: name, Help: help, Buckets: buckets}, labels)
	}
	gauge := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help})
	}

	m.fetches = counter("fetches_total", "Source refreshes that ran, by source and outcome (the status word: ok, not-modified, unchanged, failing, blocked, gone, refused).", "source", "outcome")
	m.fetchDuration = histogram("fetch_duration_seconds", "Time one source's refresh took (fetch, parse, classify and store), by outcome.",
		[]float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}, "outcome")
	m.fetchBytes = counter("fetch_bytes_total", "Body bytes read from upstreams (after decompression), by source.", "source")
	m.stories = counter("source_stories_total", "Stories a source's refreshes stored, by change: new or updated.", "source", "change")
	m.classify = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: "classify_duration_seconds",
		Help:    "Time classifying one fetched feed's stories against every topic took.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1}})

	m.cacheHits = counter("render_cache_hits_total", "Requests answered from the render cache, by document kind (rss, atom, json, html, index, opml).", "kind")
	m.hitsByKind = map[string]prometheus.Counter{}
	for _, kind := range []string{"rss", "atom", "json", "html", "index", "opml"} {
		m.hitsByKind[kind] = m.cacheHits.WithLabelValues(kind)
	}
	m.cacheMisses = counter("render_cache_misses_total", "Requests that found no cached document and waited for a fill, by kind.", "kind")
	m.cacheErrors = counter("render_cache_fill_errors_total", "Fills that failed (a store error, a bad cursor), by kind.", "kind")
	m.fillDuration = histogram("render_fill_duration_seconds", "Time one fill took (store reads, render and gzip), for a miss or again after an invalidation, by kind; its count is the fills.",
		[]float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1}, "kind")

	m.requests = counter("http_requests_total", "HTTP requests answered, by route pattern (unmatched: no route) and status code.", "route", "code")
	m.requestDuration = histogram("http_request_duration_seconds", "Time to answer an HTTP request, by route pattern.",
		requestBuckets, "route")

	m.reloads = counter("config_reloads_total", "Config reloads, by result: applied or refused.", "result")
	m.reloadOK = gauge("config_last_reload_successful", "1 when the last config reload was applied, 0 when it was refused (the last good config keeps running).")
	m.reloadSuccess = gauge("config_last_reload_success_timestamp_seconds", "When the running config was applied (start-up or the last good reload), in Unix seconds.")

	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "build_info",
		Help: "Always 1; the labels name the build."}, []string{"version", "goversion"})
	build.WithLabelValues(o.Version, runtime.Version()).Set(1)
	m.reloadOK.Set(1)

	m.reg.MustRegister(m.fetches, m.fetchDuration, m.fetchBytes, m.stories, m.classify,
		m.cacheHits, m.cacheMisses, m.cacheErrors, m.fillDuration,
		m.requests, m.requestDuration, m.reloads, m.reloadOK, m.reloadSuccess, build,
		&state{m: m},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the registry in the Prometheus text format (or whatever
// the scraper negotiates). A store error at scrape time fails only the
// metrics it concerns; the rest are still served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Fetched counts one refresh (ingest.Options.Observe). Reports of refreshes
// that did not run (deferred, busy) are not fetches and are ignored.
func (m *Metrics) Fetched(r ingest.Report) {
	if r.Status == story.StatusDeferred || r.Status == story.StatusBusy || r.Status == "" {
		return
	}
	m.saw(r.Source)
	m.fetches.WithLabelValues(r.Source, string(r.Status)).Inc()
	m.fetchDuration.WithLabelValues(string(r.Status)).Observe(r.Took.Seconds())
	if r.New > 0 {
		m.stories.WithLabelValues(r.Source, "new").Add(float64(r.New))
	}
	if r.Updated > 0 {
		m.stories.WithLabelValues(r.Source, "updated").Add(float64(r.Updated))
	}
	if r.Bytes > 0 {
		m.fetchBytes.WithLabelValues(r.Source).Add(float64(r.Bytes))
	}
	if r.Stories > 0 { // a parsed body: its stories were classified
		m.classify.Observe(r.Classify.Seconds())
	}
}

// CacheHit counts a render cache hit (server.CacheObserver). It is on the
// path of nearly every feed request, so the counters of the known kinds are
// looked up once, in New.
func (m *Metrics) CacheHit(kind string) {
	if c, ok := m.hitsByKind[kind]; ok {
		c.Inc()
		return
	}
	m.cacheHits.WithLabelValues(kind).Inc()
}

// CacheMiss counts a request that found no cached document
// (server.CacheObserver).
func (m *Metrics) CacheMiss(kind string) { m.cacheMisses.WithLabelValues(kind).Inc() }

// CacheFill counts one render into the cache, for a miss or after an
// invalidation (server.CacheObserver).
func (m *Metrics) CacheFill(kind string, took time.Duration, err error) {
	m.fillDuration.WithLabelValues(kind).Observe(took.Seconds())
	if err != nil {
		m.cacheErrors.WithLabelValues(kind).Inc()
	}
}

// Request counts one answered HTTP request. route is the matched pattern
// without its method ("" when nothing matched).
func (m *Metrics) Request(route string, status int, took time.Duration) {
	m.Requests(route, status, took, 1)
}

// requestBuckets are http_request_duration_seconds' bounds, in seconds.
var requestBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10}

// RequestBuckets are the bounds of the request durations' histogram: n
// requests whose durations fall in one of its buckets may be counted at
// once, at their mean (Requests).
func RequestBuckets() []time.Duration {
	out := make([]time.Duration, len(requestBuckets))
	for i, b := range requestBuckets {
		out[i] = time.Duration(b * float64(time.Second))
	}
	return out
}

// Requests counts n answered requests that took took on average, their
// durations all in one of RequestBuckets' buckets, so the histogram counts
// each in the bucket it was in and their sum: the requests a reader
// process answered, counted there for the daemon.
//
// It runs on every request, so each (route, code)'s series is looked up
// once and kept: a later request costs a map read, not label hashing and a
// formatted code.
func (m *Metrics) Requests(route string, status int, took time.Duration, n int) {
	if route == "" {
		route = "unmatched"
	}
	k := requestKey{route, status}
	s, ok := m.bySeries.Load(k)
	if !ok {
		s, _ = m.bySeries.LoadOrStore(k, requestSeries{
			count:    m.requests.WithLabelValues(route, strconv.Itoa(status)),
			duration: m.requestDuration.WithLabelValues(route),
		})
	}
	rs := s.(requestSeries)
	rs.count.Add(float64(n))
	for range n {
		rs.duration.Observe(took.Seconds())
	}
}

// requestKey and requestSeries are Request's cache of series. Routes are
// the mux's patterns and codes the handlers', so it stays small.
type requestKey struct {
	route  string
	status int
}

type requestSeries struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

// Applied records that a config was applied at at: the start-up config or
// a good reload (reload true).
func (m *Metrics) Applied(at time.Time, reload bool) {
	if reload {
		m.reloads.WithLabelValues("applied").Inc()
	}
	m.reloadOK.Set(1)
	m.reloadSuccess.Set(float64(at.UnixNano()) / 1e9)
}

// Refused records a config reload that was refused.
func (m *Metrics) Refused() {
	m.reloads.WithLabelValues("refused").Inc()
	m.reloadOK.Set(0)
}

// Retain drops the per-source series of every source not in sources, after a
// reload removed them, so that label values stay bounded by the config.
func (m *Metrics) Retain(sources []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for name := range m.seen {
		if slices.Contains(sources, name) {
			continue
		}
		for _, vec := range []*prometheus.CounterVec{m.fetches, m.fetchBytes, m.stories} {
			vec.DeletePartialMatch(prometheus.Labels{"source": name})
		}
		delete(m.seen, name)
	}
}

// saw notes that source has per-source series, for Retain.
func (m *Metrics) saw(source string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seen[source] = true
}
