package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/server"
	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/store/bolt"
)

// cacheLog records what a Server's cache tells its observer.
type cacheLog struct {
	mu     sync.Mutex
	events []string
}

func (c *cacheLog) CacheHit(kind string)  { c.add("hit " + kind) }
func (c *cacheLog) CacheMiss(kind string) { c.add("miss " + kind) }

func (c *cacheLog) CacheFill(kind string, took time.Duration, err error) {
	if took <= 0 {
		c.add("fill " + kind + " without a duration")
	}
	if err != nil {
		kind += " error"
	}
	c.add("fill " + kind)
}

func (c *cacheLog) add(e string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, e)
}

func (c *cacheLog) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.events
	c.events = nil
	return out
}

func TestCacheObserver(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "news.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Put(t.Context(), "wire", store.SourceState{}, makeStories("climate", 3), base); err != nil {
		t.Fatal(err)
	}
	obs := &cacheLog{}
	srv := server.New(server.Options{DB: db, Site: site, Topics: testTopics(t), Cache: obs})
	var routes []string
	h := server.Observe(srv, func(r server.Request) { routes = append(routes, r.Route) })
	get := func(path string) int {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		return w.Code
	}
	for _, path := range []string{"/topics/climate.rss", "/topics/climate.rss", "/topics/climate.json", "/", "/",
		"/topics/climate", "/topics.opml", "/topics.opml", "/topics/climate.rss?limit=2", "/topics/climate.rss?limit=2"} {
		get(path)
	}
	want := []string{"miss rss", "fill rss", "hit rss", "miss json", "fill json", "miss index", "fill index", "hit index",
		"miss html", "fill html", "miss opml", "fill opml", "hit opml", "miss rss", "fill rss", "hit rss"}
	if got := obs.take(); !slices.Equal(got, want) {
		t.Errorf("cache events %q, want %q", got, want)
	}
	// A hit answered without the mux names its route all the same.
	wantRoutes := []string{"/topics/{file}", "/topics/{file}", "/topics/{file}", "/{$}", "/{$}", "/topics/{file}",
		"/topics.opml", "/topics.opml", "/topics/{file}", "/topics/{file}"}
	if !slices.Equal(routes, wantRoutes) {
		t.Errorf("routes %q, want %q", routes, wantRoutes)
	}
	// After an invalidation, a document readers polled is rendered again at
	// once: a fill without a miss.
	srv.Invalidate("climate")
	if got := obs.take(); !slices.Contains(got, "fill rss") || slices.Contains(got, "miss rss") {
		t.Errorf("cache events of an invalidation %q, want a fill of the polled rss and no miss", got)
	}
	// A fill that fails is a fill with its error, and is not cached.
	for range 2 {
		if code := get("/topics/climate.rss?before=QUJD"); code != http.StatusBadRequest {
			t.Fatalf("bad cursor: %d, want 400", code)
		}
	}
	if got := obs.take(); !slices.Equal(got, []string{"miss rss", "fill rss error", "miss rss", "fill rss error"}) {
		t.Errorf("cache events for a bad cursor %q, want two failed fills", got)
	}
}

func TestObserve(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /topics/{file}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("file") == "missing" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "hello")
	})
	mux.HandleFunc("POST /admin/fetch", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		w.(http.Flusher).Flush() // streaming handlers still can
	})
	// An outer mux, as the daemon has when admin.token is set: the inner
	// pattern is the one reported.
	outer := http.NewServeMux()
	outer.Handle("/", mux)
	var got []server.Request
	h := server.Observe(outer, func(r server.Request) { got = append(got, r) })
	for _, c := range []struct{ method, path string }{
		{"GET", "/topics/a.rss?limit=5"}, {"HEAD", "/topics/b.rss"}, {"GET", "/topics/missing"},
		{"GET", "/no/such/path"}, {"DELETE", "/topics/a.rss"}, {"POST", "/admin/fetch"},
	} {
		r := httptest.NewRequest(c.method, c.path, nil)
		r.RemoteAddr = "192.0.2.7:4711"
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	want := []struct {
		route  string
		status int
		bytes  int64
	}{
		{"/topics/{file}", 200, 5}, {"/topics/{file}", 200, 0}, {"/topics/{file}", 404, 19},
		{"", 404, 19}, {"", 405, 19}, {"/admin/fetch", 202, 0},
	}
	if len(got) != len(want) {
		t.Fatalf("observed %d requests, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Route != w.route || g.Status != w.status || g.Bytes != w.bytes || g.Duration <= 0 || g.Remote != "192.0.2.7:4711" {
			t.Errorf("request %d (%s %s) observed as %+v, want route %q status %d bytes %d", i, g.Method, g.Path, g, w.route, w.status, w.bytes)
		}
	}
	if got[0].Path != "/topics/a.rss" || strings.Contains(got[0].Route, "?") {
		t.Errorf("path %q route %q: the query belongs to neither", got[0].Path, got[0].Route)
	}
}
