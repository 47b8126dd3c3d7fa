// Package server is the read path over HTTP: it serves each topic as RSS,
// Atom and JSON Feed, an HTML index and topic pages, and an OPML list of every
// feed. Rendered documents are cached per topic, format and query until the
// ingester or a config reload invalidates them, so a poll of an unchanged feed
// costs neither a store read nor a render.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/newsdesk/newsdesk/internal/background"
	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
	"github.com/newsdesk/newsdesk/internal/topic"
)

// Store is the part of the store the read path uses.
type Store interface {
	Recent(ctx context.Context, q store.Query) (store.Page, error)
	Since(ctx context.Context, topic string, afterSeq uint64, limit int) ([]story.Story, error)
	Topic(ctx context.Context, slug string) (store.TopicInfo, error)
	Source(ctx context.Context, source string) (store.SourceState, error)
}

// Site describes the whole deployment: what the index page shows and where
// every absolute link points.
type Site struct {
	Title, Description string
	PublicURL          string // scheme://host[/prefix] without a trailing slash; every absolute link starts here
	Language           string // default feed language when a topic names none
	TagAuthority       string // the domain in tag: ids ("news.example.org"); never change it once feeds are public
	Hubs               []string
}

// Options configures New.
type Options struct {
	DB         Store
	Site       Site
	Topics     *topic.Set
	Caching    Caching
	CacheBytes int64         // bound of the render cache (bodies plus gzip twins); 0 means DefaultCacheBytes
	Log        *slog.Logger  // nil discards
	Ready      func() error  // /readyz answers 503 with its error; nil means ready
	Cache      CacheObserver // told of every cache hit, miss and fill (metrics); nil tells no one
	// StatusVisible reports whether the status page answers a request
	// (status.Allowed, by the config's status.public): the index links it
	// for those only. nil: it never does.
	StatusVisible func(*http.Request) bool
	// CPU, when set, is where the renders Invalidate does ahead of readers
	// run. The daemon shares it with ingest (see ingest.Options.CPU): its
	// workers run at the lowest priority, so readers always find a core.
	CPU *background.Pool
	// RefreshLag, when set, bounds how long a document readers poll may
	// lag a change, so that a burst of changes (a first fetch) renders
	// it about once a second, not at every commit: see Invalidate. 0
	// renders at every change, before Invalidate returns.
	RefreshLag time.Duration
	// Mirror records the changes of the documents at fixed paths, for
	// Server.Mirror to send to a Replica in a reader process.
	Mirror bool
}

// DefaultRefreshLag is the RefreshLag a daemon serves with: under a burst
// of changes a polled feed lags the store by up to about a second (plus
// one render and its wait for a CPU slot), and is rendered about once a
// second instead of at every commit.
const DefaultRefreshLag = time.Second

// CacheObserver sees what the render cache does. kind is the document's
// kind: a format extension ("rss", "atom", "json"), "html", "index",
// "opml" or "asset" (the feeds' stylesheet, the favicons). Its methods are called on the request path, so they must be quick.
type CacheObserver interface {
	// CacheHit is a request answered from a cached document (or one a
	// concurrent request was rendering).
	CacheHit(kind string)
	// CacheMiss is a request that found no document and renders one.
	CacheMiss(kind string)
	// CacheFill is one render (for a miss, or again after an invalidation):
	// store reads, render and gzip took took, and failed with err when err
	// is not nil.
	CacheFill(kind string, took time.Duration, err error)
}

// Caching says how long HTTP caches may keep the documents (RFC 9111 and
// RFC 5861), in the Cache-Control of every feed, page and OPML answer.
// Durations are sent in whole seconds; a zero one is left out, except
// MaxAge.
type Caching struct {
	MaxAge               time.Duration // max-age, and the feeds' ttl; the caller derives it from the fetch schedule
	SharedMaxAge         time.Duration // s-maxage: how long shared caches (a CDN, nginx) keep an answer
	StaleWhileRevalidate time.Duration // a cache may answer with an expired copy this long while it revalidates
	StaleIfError         time.Duration // ...and this long when newsdesk cannot be reached or fails
}

// header is the Cache-Control value c describes.
func (c Caching) header() string {
	secs := func(d time.Duration) string { return strconv.FormatInt(int64(max(d, 0)/time.Second), 10) }
	v := "public, max-age=" + secs(c.MaxAge)
	if c.SharedMaxAge > 0 {
		v += ", s-maxage=" + secs(c.SharedMaxAge)
	}
	if c.StaleWhileRevalidate > 0 {
		v += ", stale-while-revalidate=" + secs(c.StaleWhileRevalidate)
	}
	if c.StaleIfError > 0 {
		v += ", stale-if-error=" + secs(c.StaleIfError)
	}
	return v
}

// Server answers the HTTP read path. It is safe for concurrent use.
type Server struct {
	db            Store
	log           *slog.Logger
	ready         func() error
	statusVisible func(*http.Request) bool
	mux           *http.ServeMux
	now           func() time.Time

	cacheBytes int64
	refreshLag time.Duration
	cpu        *background.Pool
	gz         gzipWriters // shared by every state's cache
	state      atomic.Pointer[state]
	// next is the state a Reconfigure is preparing, until it takes over:
	// Invalidate reaches it too, or a change committed while the polled
	// documents are rendered for it would be lost from the new cache.
	next        atomic.Pointer[state]
	reconfigure sync.Mutex // one Reconfigure at a time
	hits, fills atomic.Uint64
	reads       atomic.Uint64 // read tickets of every state's cache (see content.read)
	observer    CacheObserver // never nil
	mirror      *mirror       // Options.Mirror; nil without
}

// state is one configuration with its own cache. It is never modified after
// it is published, so a request that loaded it sees a consistent site, topic
// set and cache; a Reconfigure publishes a new one, and fills still running
// against the old one land in the old (abandoned) cache, never in the new.
type state struct {
	site         Site
	topics       *topic.Set
	maxAge       time.Duration
	cacheControl []string  // shared header values: never appended to
	hubLinks     []string  // `<hub>; rel="hub"`, one per hub
	configured   time.Time // when Reconfigure made this state; zero for New's
	cache        *cache
	pages        *pageMemo // the pages of the last fills, shared by the documents showing them

	// paths maps the URL path of every document that has one fixed address
	// (each topic's feeds and page, the index, the OPML) to its cache slot:
	// a hit on a cached one is a map lookup and an atomic load.
	paths map[string]*atomic.Pointer[entry]
}

// Stats counts cache behaviour since New.
type Stats struct {
	Hits  uint64 // requests answered from a cached entry (including those that waited for a fill in flight)
	Fills uint64 // renders: store reads followed by a render into the cache
}

// New returns a Server with every route registered.
func New(o Options) *Server {
	s := &Server{db: o.DB, log: o.Log, ready: o.Ready, statusVisible: o.StatusVisible, mux: http.NewServeMux(), now: time.Now,
		cacheBytes: o.CacheBytes, observer: o.Cache, cpu: o.CPU, refreshLag: max(o.RefreshLag, 0)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.observer == nil {
		s.observer = noObserver{}
	}
	if o.Mirror {
		s.mirror = newMirror()
	}
	s.state.Store(s.newState(o.Site, o.Topics, o.Caching))

	// A "GET" pattern also matches HEAD, and the mux answers other methods
	// with 405 and an Allow header.
	s.mux.HandleFunc("GET /{$}", s.index)
	s.mux.HandleFunc("GET /topics.opml", s.opml)
	s.mux.HandleFunc("GET /topics/{file}", s.topic)
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	for _, path := range []string{xslPath, iconPath, icoPath} {
		s.mux.HandleFunc("GET "+path, s.asset)
	}
	s.mux.HandleFunc("/", s.unmatched) // any method: unmatched tells 404 from 405
	return s
}

func (s *Server) newState(site Site, topics *topic.Set, caching Caching) *state {
	site.PublicURL = strings.TrimRight(site.PublicURL, "/")
	if site.TagAuthority == "" { // config normally sets it; a tag: id needs some authority
		if u, err := url.Parse(site.PublicURL); err == nil {
			site.TagAuthority = u.Hostname()
		}
	}
	if topics == nil {
		topics = topic.NewSet()
	}
	st := &state{
		site:         site,
		topics:       topics,
		maxAge:       max(caching.MaxAge, 0),
		cacheControl: []string{caching.header()},
		paths:        map[string]*atomic.Pointer[entry]{},
		pages:        newPageMemo(),
	}
	slots := map[key]*atomic.Pointer[entry]{}
	fixed := func(k key) {
		p := new(atomic.Pointer[entry])
		st.paths[k.path()], slots[k] = p, p
	}
	fixed(key{kind: "index"})
	fixed(key{kind: "opml"})
	for _, path := range []string{xslPath, iconPath, icoPath} {
		fixed(key{slug: path, kind: assetKind})
	}
	for _, t := range topics.Topics() {
		fixed(key{slug: t.Slug, kind: "html"})
		for _, f := range formats {
			fixed(key{slug: t.Slug, kind: f.ext})
		}
	}
	st.cache = newCache(s.cacheBytes, slots, &s.hits, &s.fills, s.observer)
	st.cache.cpu, st.cache.gz, st.cache.reads, st.cache.maxLag = s.cpu, &s.gz, &s.reads, s.refreshLag
	st.cache.mirror = s.mirror
	for _, hub := range site.Hubs {
		st.hubLinks = append(st.hubLinks, "<"+hub+`>; rel="hub"`)
	}
	return st
}

// ServeHTTP routes r. A GET or HEAD of a cached document at its fixed path
// (a topic's feed polled without a query, the common request by far) is
// answered here without the mux or a lock; everything else goes through
// the routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.serveCached(w, r) {
		s.mux.ServeHTTP(w, r)
	}
}

// Front returns a handler that answers the requests ServeHTTP answers
// without its mux (a cached document at its fixed path) and hands every
// other request to next: a daemon that routes other paths (status,
// metrics, admin) on a mux of its own puts Front before that mux, so the
// polls that are nearly all its traffic are not routed twice.
func (s *Server) Front(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.serveCached(w, r) {
			next.ServeHTTP(w, r)
		}
	})
}

// serveCached answers r from a cached document at its fixed path, if r is
// a GET or HEAD without a query for one, and reports whether it did.
func (s *Server) serveCached(w http.ResponseWriter, r *http.Request) bool {
	if (r.Method != http.MethodGet && r.Method != http.MethodHead) || r.URL.RawQuery != "" {
		return false
	}
	st := s.state.Load()
	slot := st.paths[r.URL.Path]
	if slot == nil {
		return false
	}
	e := slot.Load()
	if e == nil || (e.key.kind == "index" && s.seesStatus(r)) { // the index that links the status page is not at the slot
		return false
	}
	e.touch()
	s.hits.Add(1)
	s.observer.CacheHit(e.key.kind)
	r.Pattern = e.key.pattern() // as the mux would have: Observe reports the route
	serve(w, r, st.cacheControl, e)
	return true
}

// Invalidate brings the cached documents of the named topics (and the
// index, whose counts they change) up to date; with no slugs, every
// document. Call it after the store committed the change. Documents readers
// are polling are rendered again and swapped in whole, so no reader waits
// for the render: here, on the caller's goroutine, or, with a RefreshLag
// and a document rendered moments ago, once its refresh gap has passed (at
// most RefreshLag), the changes that come meanwhile sharing that render;
// without a RefreshLag, every request is answered from the new data when
// Invalidate returns. The others are dropped, so no request is answered
// from them after the call, and rendered when next asked for.
func (s *Server) Invalidate(slugs ...string) {
	// next before state: a Reconfigure publishes next, then state, then
	// clears next, so reading them in this order never misses the state
	// that serves after the call.
	next := s.next.Load()
	st := s.state.Load()
	if next != nil && next != st {
		// A render of the new state that read the store before the change
		// is dropped, not kept (invalidate drops fills in flight). The new
		// state first: it is the one readers are about to get.
		next.pages.forget(slugs)
		next.cache.invalidate(slugs)
	}
	st.pages.forget(slugs) // before any render: none may reuse a page read before the change
	st.cache.invalidate(slugs)
}

// Flush renders at once every polled document whose render waits for its
// refresh gap (see Invalidate): when it returns, every change invalidated
// before the call is served. An admin's fetch ends with it, since whoever
// asked reads the feeds next.
func (s *Server) Flush() {
	if next := s.next.Load(); next != nil {
		next.cache.flush()
	}
	s.state.Load().cache.flush()
}

// Reconfigure swaps in a reloaded configuration atomically and starts with an
// empty cache.
//
// Before the swap, the documents readers were polling (first pages served
// since their last render) are rendered under the new configuration, for
// up to prewarmBudget: a reload does not make every reader of a busy topic
// wait for a fill at once.
func (s *Server) Reconfigure(site Site, topics *topic.Set, caching Caching) {
	s.reconfigure.Lock()
	defer s.reconfigure.Unlock()
	st := s.newState(site, topics, caching)
	st.configured = s.now().UTC().Truncate(time.Second)
	s.next.Store(st)
	old := s.state.Load()
	s.prewarm(old, st)
	// The old cache stops handing out documents, the new one drops what
	// is older than what the old one handed out, then takes over: no
	// reader gets an older version after a newer one across the swap.
	old.cache.seal()
	old.cache.handOver(st.cache)
	st.pages.forget(nil) // pages read before the hand-over may be older, too
	s.state.Store(st)
	s.mirror.markAll() // every path: the new state's slots, and the withdrawal of the topics it dropped
	close(old.cache.handedOver)
	s.next.Store(nil)
}

// prewarmBudget bounds the renders Reconfigure does before the new
// configuration takes over; what is left is rendered when next asked for.
const prewarmBudget = 2 * time.Second

// prewarm renders into st's cache the documents of old's that readers were
// polling and st still has.
func (s *Server) prewarm(old, st *state) {
	deadline := time.Now().Add(prewarmBudget)
	for _, k := range old.cache.polled() {
		if time.Now().After(deadline) {
			return
		}
		var t *topic.Topic
		if k.kind != "index" && k.kind != "opml" {
			if t = st.topics.Lookup(k.slug); t == nil {
				continue // the topic is gone
			}
		}
		var p params
		if t != nil {
			p, _ = parseParams("", limitOf(t)) // a first page: no query to refuse
		}
		st.cache.warm(k, s.filler(st, k, t, p))
	}
}

// FeedURLs returns the subscription URL of every format of the named topics
// (every topic when none is named), as the current config publishes them:
// the topic URLs a WebSub hub is told about.
func (s *Server) FeedURLs(slugs ...string) []string {
	st := s.state.Load()
	if len(slugs) == 0 {
		for _, t := range st.topics.Topics() {
			slugs = append(slugs, t.Slug)
		}
	}
	var urls []string
	for _, slug := range slugs {
		for _, f := range formats {
			urls = append(urls, st.feedURL(slug, f.ext))
		}
	}
	return urls
}

// Stats reports cache hits and fills since New.
func (s *Server) Stats() Stats { return Stats{Hits: s.hits.Load(), Fills: s.fills.Load()} }

// HTTPServer returns an http.Server for h with timeouts fit for the public
// internet: slow clients cannot hold connections or goroutines for long.
func HTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("ok\n"))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if s.ready != nil {
		if err := s.ready(); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// fail is the one place an error becomes a 500: it logs the cause and tells
// the client nothing more.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	w.Header().Set("Cache-Control", "no-store") // never cached, even by a cache that would
	http.Error(w, "internal server error", http.StatusInternalServerError)
}

// badRequest is a client error found while filling an entry (a cursor the
// store does not recognise); it becomes a 400 with its message.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }
