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
	"sync/atomic"
	"time"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
	"github.com/newsdesk/newsdesk/internal/topic"
)

// Store is the part of the store the read path uses.
type Store interface {
	Recent(ctx context.Context, q store.Query) (store.Page, error)
	Since(ctx context.Context, topic string, afterSeq uint64, limit int) ([]story.Story, error)
	Topic(ctx context.Context, slug string) (store.TopicInfo, error)
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
	DB     Store
	Site   Site
	Topics *topic.Set
	MaxAge time.Duration // Cache-Control max-age and the feeds' TTL; the caller derives it from the fetch schedule
	Log    *slog.Logger  // nil discards
	Ready  func() error  // /readyz answers 503 with its error; nil means ready
}

// Server answers the HTTP read path. It is safe for concurrent use.
type Server struct {
	db    Store
	log   *slog.Logger
	ready func() error
	mux   *http.ServeMux
	now   func() time.Time

	state       atomic.Pointer[state]
	hits, fills atomic.Uint64
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
}

// Stats counts cache behaviour since New.
type Stats struct {
	Hits  uint64 // requests answered from a cached entry (including those that waited for a fill in flight)
	Fills uint64 // renders: store reads followed by a render into the cache
}

// New returns a Server with every route registered.
func New(o Options) *Server {
	s := &Server{db: o.DB, log: o.Log, ready: o.Ready, mux: http.NewServeMux(), now: time.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.state.Store(s.newState(o.Site, o.Topics, o.MaxAge))

	// A "GET" pattern also matches HEAD, and the mux answers other methods
	// with 405 and an Allow header.
	s.mux.HandleFunc("GET /{$}", s.index)
	s.mux.HandleFunc("GET /topics.opml", s.opml)
	s.mux.HandleFunc("GET /topics/{file}", s.topic)
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	return s
}

func (s *Server) newState(site Site, topics *topic.Set, maxAge time.Duration) *state {
	site.PublicURL = strings.TrimRight(site.PublicURL, "/")
	if site.TagAuthority == "" { // config normally sets it; a tag: id needs some authority
		if u, err := url.Parse(site.PublicURL); err == nil {
			site.TagAuthority = u.Hostname()
		}
	}
	if topics == nil {
		topics = topic.NewSet()
	}
	if maxAge < 0 {
		maxAge = 0
	}
	st := &state{
		site:         site,
		topics:       topics,
		maxAge:       maxAge,
		cacheControl: []string{"public, max-age=" + strconv.Itoa(int(maxAge/time.Second))},
		cache:        newCache(&s.hits, &s.fills),
	}
	for _, hub := range site.Hubs {
		st.hubLinks = append(st.hubLinks, "<"+hub+`>; rel="hub"`)
	}
	return st
}

// ServeHTTP routes r.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Invalidate drops the cached documents of the named topics (and the index,
// whose counts they change); with no slugs it drops everything. Call it after
// the store committed the change, so the next request renders the new data.
func (s *Server) Invalidate(slugs ...string) { s.state.Load().cache.drop(slugs) }

// Reconfigure swaps in a reloaded configuration atomically and starts with an
// empty cache.
func (s *Server) Reconfigure(site Site, topics *topic.Set, maxAge time.Duration) {
	st := s.newState(site, topics, maxAge)
	st.configured = s.now().UTC().Truncate(time.Second)
	s.state.Store(st)
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
	http.Error(w, "internal server error", http.StatusInternalServerError)
}

// badRequest is a client error found while filling an entry (a cursor the
// store does not recognise); it becomes a 400 with its message.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }
