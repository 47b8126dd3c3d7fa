package server_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/background"

	"github.com/mmcdole/gofeed"

	"github.com/newsdesk/newsdesk/internal/server"
	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/store/bolt"
	"github.com/newsdesk/newsdesk/internal/story"
)

// TestCacheControl: every cacheable answer tells shared caches how long to
// keep it, how long they may serve it stale while revalidating or when we
// fail, and carries validators; a 304 repeats all of it (RFC 9111).
func TestCacheControl(t *testing.T) {
	f := newFixture(t, 3)
	f.srv.Reconfigure(site, f.topics, server.Caching{MaxAge: 90 * time.Second, SharedMaxAge: 5 * time.Minute,
		StaleWhileRevalidate: 30 * time.Second, StaleIfError: 24 * time.Hour})
	const want = "public, max-age=90, s-maxage=300, stale-while-revalidate=30, stale-if-error=86400"
	for _, path := range []string{"/topics/climate.rss", "/topics/climate.atom?limit=2", "/topics/climate", "/", "/topics.opml"} {
		t.Run(path, func(t *testing.T) {
			res, _ := f.get(t, path)
			if got := res.Header.Get("Cache-Control"); got != want {
				t.Errorf("Cache-Control = %q, want %q", got, want)
			}
			etag, lastMod := res.Header.Get("ETag"), res.Header.Get("Last-Modified")
			if etag == "" {
				t.Fatal("no ETag to revalidate with")
			}
			for _, cond := range []string{"If-None-Match: " + etag, "If-Modified-Since: " + lastMod} {
				if strings.HasSuffix(cond, ": ") {
					continue // the OPML has no Last-Modified
				}
				res2, _ := f.get(t, path, cond)
				if res2.StatusCode != http.StatusNotModified {
					t.Errorf("%s: %s, want 304", cond, res2.Status)
				}
				for _, h := range []string{"Cache-Control", "Etag", "Vary"} {
					if res2.Header.Get(h) != res.Header.Get(h) {
						t.Errorf("%s: 304 %s = %q, the 200 had %q", cond, h, res2.Header.Get(h), res.Header.Get(h))
					}
				}
			}
		})
	}
	f.srv.Reconfigure(site, f.topics, server.Caching{MaxAge: time.Minute})
	if res, _ := f.get(t, "/topics/climate.rss"); res.Header.Get("Cache-Control") != "public, max-age=60" {
		t.Errorf("directives left zero must be left out: %q", res.Header.Get("Cache-Control"))
	}
}

// TestVaryOnlyWhereBodiesVary: a document with a gzip twin says Vary:
// Accept-Encoding on every answer about it; answers that are the same for
// every client do not.
func TestVaryOnlyWhereBodiesVary(t *testing.T) {
	f := newFixture(t, 3)
	for _, path := range []string{"/topics/climate.json", "/topics/climate", "/"} {
		for _, ae := range []string{"", "gzip"} {
			res, _ := f.get(t, path, "Accept-Encoding: "+ae)
			if res.Header.Get("Vary") != "Accept-Encoding" {
				t.Errorf("%s (Accept-Encoding %q): Vary = %q", path, ae, res.Header.Get("Vary"))
			}
		}
	}
	// An empty feed is small enough that gzip would save little: it is sent
	// as is to everyone, so it does not vary either.
	for _, path := range []string{"/topics/empty.json", "/topics/climate.rss?limit=x", "/healthz", "/readyz"} {
		for _, ae := range []string{"", "gzip"} {
			res, _ := f.get(t, path, "Accept-Encoding: "+ae)
			if v := res.Header.Get("Vary"); strings.Contains(v, "Accept-Encoding") {
				t.Errorf("%s (%s): Vary = %q on an answer whose encoding never varies", path, res.Status, v)
			}
			if ce := res.Header.Get("Content-Encoding"); ce != "" {
				t.Errorf("%s: Content-Encoding %q", path, ce)
			}
		}
	}
}

// TestSinceCursorInEveryFormat walks ?since in RSS and Atom by the cursor
// each page carries (nd:since), as JSON Feed readers do with
// _newsdesk.since: every story once, in ingest order, and a page past the
// end still says where to continue.
func TestSinceCursorInEveryFormat(t *testing.T) {
	f := newFixture(t, 12)
	var want []string
	for _, s := range makeStories("climate", 12) {
		want = append(want, s.Title)
	}
	for _, ext := range []string{"rss", "atom"} {
		t.Run(ext, func(t *testing.T) {
			var got []string
			since := "0"
			for pages := 0; ; pages++ {
				if pages > 5 {
					t.Fatalf("too many pages; at since=%s", since)
				}
				_, body := f.get(t, "/topics/climate."+ext+"?limit=5&since="+since)
				feed, err := gofeed.NewParser().Parse(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				cursor := feed.Extensions["nd"]["since"]
				if len(cursor) != 1 {
					t.Fatalf("page since=%s has no nd:since", since)
				}
				for _, it := range feed.Items {
					got = append(got, it.Title)
				}
				if len(feed.Items) == 0 {
					if cursor[0].Value != since {
						t.Errorf("empty page's cursor = %s, want %s (nothing new)", cursor[0].Value, since)
					}
					break
				}
				since = cursor[0].Value
			}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("since walk = %q, want %q", got, want)
			}
		})
	}
}

// TestNoStaleAfterChange runs readers against a writer that adds stories and
// invalidates: no reader ever gets a document older than one it has seen
// (with -race this also proves the lock-free hit path safe).
func TestNoStaleAfterChange(t *testing.T) {
	f := newFixture(t, 1)
	const rounds = 40
	paths := []string{"/topics/climate.rss", "/topics/climate.json", "/topics/climate.atom"}
	// Prime every document, so invalidations refresh them in place.
	for _, p := range paths {
		f.get(t, p)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for r := range 6 {
		wg.Go(func() {
			path := paths[r%len(paths)]
			seen := 0
			for {
				select {
				case <-stop:
					return
				default:
				}
				res, body := f.get(t, path)
				if res.StatusCode != http.StatusOK {
					t.Errorf("GET %s: %s", path, res.Status)
					return
				}
				n := bytes.Count(body, []byte("climate story "))
				if n < seen {
					t.Errorf("%s: a document with %d stories after one with %d", path, n, seen)
					return
				}
				seen = n
			}
		})
	}
	for i := 1; i <= rounds; i++ {
		s := makeStories("climate", i+1)[i]
		s.Title = fmt.Sprintf("climate story %02d", i)
		s.Published = base.Add(time.Duration(i) * time.Minute)
		if _, err := f.db.Put(t.Context(), "wire", store.SourceState{}, []story.Story{s}, base); err != nil {
			t.Fatal(err)
		}
		f.srv.Invalidate("climate")
		// When Invalidate returns, the change is visible to every new request.
		_, body := f.get(t, paths[i%len(paths)])
		if n := bytes.Count(body, []byte("climate story ")); n != i+1 {
			t.Fatalf("after invalidation %d: %d stories served, want %d", i, n, i+1)
		}
	}
	close(stop)
	wg.Wait()
}

// TestCacheBoundedByBytes: with a byte bound of about three documents, a
// document readers keep polling stays cached while documents read once
// are evicted, and the cache never holds more than the bound.
func TestCacheBoundedByBytes(t *testing.T) {
	probe := newFixture(t, 5)
	_, body := probe.get(t, "/topics/climate.rss?limit=5")
	res, _ := probe.get(t, "/topics/climate.rss?limit=5", "Accept-Encoding: gzip")
	gz, _ := strconv.Atoi(res.Header.Get("Content-Length"))
	size := int64(len(body) + gz + 1024) // an entry's bodies and overhead

	f := newFixtureWith(t, 5, func(o *server.Options) { o.CacheBytes = 3*size + size/2 })
	fills := func(path string) uint64 {
		t.Helper()
		before := f.srv.Stats().Fills
		if res, _ := f.get(t, path); res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", path, res.Status)
		}
		return f.srv.Stats().Fills - before
	}
	const hot = "/topics/climate.rss?limit=5"
	fills(hot)
	for i := range 5 {
		cold := fmt.Sprintf("/topics/climate.rss?limit=5&since=%d", i) // about as big as the hot one
		if got := fills(cold); got != 1 {
			t.Errorf("cold page %d: %d fills", i, got)
		}
		if got := fills(hot); got != 0 {
			t.Errorf("after cold page %d the polled document was evicted (%d fills)", i, got)
		}
	}
	if got := fills("/topics/climate.rss?limit=5&since=0"); got != 1 {
		t.Errorf("the oldest cold page is still cached past the bound (%d fills)", got)
	}
}

// TestErrorsForCaches: an unknown topic's 404 may be kept a minute by a
// shared cache; a 500 never.
func TestErrorsForCaches(t *testing.T) {
	f := newFixture(t, 1)
	for _, path := range []string{"/topics/nope.rss", "/topics/climate.xml"} {
		res, _ := f.get(t, path)
		if res.StatusCode != http.StatusNotFound || res.Header.Get("Cache-Control") != "public, max-age=60" {
			t.Errorf("%s: %s, Cache-Control %q; want 404 cacheable for a minute", path, res.Status, res.Header.Get("Cache-Control"))
		}
	}
	f.db.Close() // every store read now fails
	res, _ := f.get(t, "/topics/climate.atom")
	if res.StatusCode != http.StatusInternalServerError || res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("store failure: %s, Cache-Control %q; want 500 with no-store", res.Status, res.Header.Get("Cache-Control"))
	}
}

// TestFront: in front of a daemon's own mux, a cached document is answered
// without reaching it, and every other request reaches it.
func TestFront(t *testing.T) {
	f := newFixture(t, 3)
	var reached []string
	mux := http.NewServeMux()
	mux.HandleFunc("/status", func(w http.ResponseWriter, r *http.Request) { reached = append(reached, r.URL.Path) })
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached = append(reached, r.URL.String())
		f.srv.ServeHTTP(w, r)
	}))
	ts := httptest.NewServer(f.srv.Front(mux))
	defer ts.Close()
	get := func(path string) int {
		res, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	get("/topics/climate.rss") // a miss: the mux routes it and the server fills
	reached = nil
	for _, p := range []string{"/topics/climate.rss", "/status", "/topics/climate.rss?limit=2", "/topics/nope.rss"} {
		get(p)
	}
	if want := []string{"/status", "/topics/climate.rss?limit=2", "/topics/nope.rss"}; strings.Join(reached, " ") != strings.Join(want, " ") {
		t.Errorf("the mux saw %q, want %q (the cached feed answered in front)", reached, want)
	}
}

// TestConcurrentInvalidationsShareRenders: invalidations of a polled topic
// that arrive while its render waits for a background worker share the
// next render, and every caller still sees its own change once Invalidate
// returns.
func TestConcurrentInvalidationsShareRenders(t *testing.T) {
	cpu := background.New(1)
	f := newFixtureWith(t, 1, func(o *server.Options) { o.CPU = cpu })
	const path = "/topics/climate.json"
	f.get(t, path)
	f.get(t, path) // polled: invalidations render it again
	// Background work is busy: renders must wait.
	busy, release := make(chan struct{}), make(chan struct{})
	go cpu.Run(func() { close(busy); <-release })
	<-busy
	const n = 10
	var wg sync.WaitGroup
	errs := make(chan error, n)
	before := f.srv.Stats().Fills
	for i := range n {
		s := makeStories("climate", i+2)[i+1]
		s.Title = fmt.Sprintf("climate update %d", i)
		s.Published = base.Add(time.Duration(i+1) * time.Minute)
		if _, err := f.db.Put(t.Context(), "wire", store.SourceState{}, []story.Story{s}, base); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			f.srv.Invalidate("climate")
			// Once Invalidate returns, this change is served.
			_, body := f.get(t, path)
			if !bytes.Contains(body, []byte(s.Title)) {
				errs <- fmt.Errorf("after Invalidate returned, the feed lacks %q", s.Title)
			}
		})
	}
	close(release) // let the renders run
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	renders := f.srv.Stats().Fills - before
	t.Logf("%d invalidations, %d renders", n, renders)
	if renders > n {
		t.Errorf("%d renders for %d invalidations", renders, n)
	}
}

// TestReconfigurePrewarms: a document readers were polling is rendered
// under the new configuration before it takes over, so the next reader
// gets it without a fill; one nobody polled is not.
func TestReconfigurePrewarms(t *testing.T) {
	f := newFixture(t, 3)
	f.get(t, "/topics/climate.atom")
	f.get(t, "/topics/climate.atom") // polled
	f.get(t, "/topics/chess.atom")   // made, never polled
	renamed := site
	renamed.Title = "The Desk"
	f.srv.Reconfigure(renamed, f.topics, server.Caching{MaxAge: time.Minute})
	step := func(path string, wantFills uint64) []byte {
		t.Helper()
		before := f.srv.Stats().Fills
		_, body := f.get(t, path)
		if fills := f.srv.Stats().Fills - before; fills != wantFills {
			t.Errorf("GET %s after a reload: %d fills, want %d", path, fills, wantFills)
		}
		return body
	}
	if body := step("/topics/climate.atom", 0); !bytes.Contains(body, []byte("<name>The Desk</name>")) {
		t.Errorf("the prewarmed feed is not rendered under the new config")
	}
	step("/topics/chess.atom", 1)
}

// TestInvalidateAfterReloadWithOneCPU: a document prewarmed by a reload is
// rendered again ahead of readers on the next change, holding one slot of
// the background CPU bound. The prewarm once kept its slot-taking wrapper as
// the document's fill, so that render took a second slot while holding the
// first: with one slot (a 2-core machine) the ingester's Invalidate never
// returned and every refresh queued behind it.
func TestInvalidateAfterReloadWithOneCPU(t *testing.T) {
	f := newFixtureWith(t, 3, func(o *server.Options) { o.CPU = background.New(1) })
	f.get(t, "/topics/climate.rss")
	f.get(t, "/topics/climate.rss") // polled: the reload prewarms it
	f.srv.Reconfigure(site, f.topics, server.Caching{MaxAge: time.Minute})
	f.get(t, "/topics/climate.rss") // polled again: the next change renders it ahead
	if _, err := f.db.Put(t.Context(), "wire", store.SourceState{Status: "ok"}, makeStories("climate", 4), base); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		f.srv.Invalidate("climate")
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Invalidate after a reload did not return: the render ahead of readers waits for a CPU slot it holds")
	}
	if _, body := f.get(t, "/topics/climate.rss"); !bytes.Contains(body, []byte("climate story 03")) {
		t.Error("the feed does not have the new story")
	}
}

// gatedDB holds the first Recent after arm() between reading the store and
// returning what it read: a render that read its stories just before a
// change.
type gatedDB struct {
	*bolt.DB
	mu      sync.Mutex
	armed   bool
	reading chan struct{} // closed once the held Recent has read
	release chan struct{} // closed to let it return
}

func (g *gatedDB) arm() {
	g.mu.Lock()
	g.armed, g.reading, g.release = true, make(chan struct{}), make(chan struct{})
	g.mu.Unlock()
}

func (g *gatedDB) Recent(ctx context.Context, q store.Query) (store.Page, error) {
	pg, err := g.DB.Recent(ctx, q)
	g.mu.Lock()
	held := g.armed
	g.armed = false
	g.mu.Unlock()
	if held {
		close(g.reading)
		<-g.release
	}
	return pg, err
}

// TestInvalidateDuringReload: a change committed while a reload renders
// the polled documents for the new configuration reaches the new
// configuration's cache. The prewarm rendered from what the store held
// before the change, the invalidation went to the old cache only, and the
// new configuration then served the older render: readers saw a feed go
// back in time (servebench ingest counted stale answers) until the next
// change.
func TestInvalidateDuringReload(t *testing.T) {
	var g *gatedDB
	f := newFixtureWith(t, 3, func(o *server.Options) {
		g = &gatedDB{DB: o.DB.(*bolt.DB)}
		o.DB = g
	})
	f.get(t, "/topics/climate.rss")
	f.get(t, "/topics/climate.rss") // polled: the reload prewarms it
	g.arm()
	reloaded := make(chan struct{})
	go func() {
		f.srv.Reconfigure(site, f.topics, server.Caching{MaxAge: time.Minute})
		close(reloaded)
	}()
	<-g.reading // the prewarm has read three stories
	if _, err := f.db.Put(t.Context(), "wire", store.SourceState{Status: "ok"}, makeStories("climate", 4), base); err != nil {
		t.Fatal(err)
	}
	f.srv.Invalidate("climate") // as the ingester does once the change is committed
	close(g.release)
	<-reloaded
	if _, body := f.get(t, "/topics/climate.rss"); !bytes.Contains(body, []byte("climate story 03")) {
		t.Error("after a reload, the feed lacks the story committed (and invalidated) during it")
	}
}

// countingDB counts the store reads of topic pages.
type countingDB struct {
	*bolt.DB
	recent atomic.Int64
}

func (c *countingDB) Recent(ctx context.Context, q store.Query) (store.Page, error) {
	c.recent.Add(1)
	return c.DB.Recent(ctx, q)
}

// TestFormatsShareOneRead: a topic's feeds in three formats and its page,
// filled one after another, read the stories from the store once; after a
// change each shows it, read once again.
func TestFormatsShareOneRead(t *testing.T) {
	var c *countingDB
	f := newFixtureWith(t, 3, func(o *server.Options) {
		c = &countingDB{DB: o.DB.(*bolt.DB)}
		o.DB = c
	})
	paths := []string{"/topics/climate.rss", "/topics/climate.atom", "/topics/climate.json", "/topics/climate"}
	for _, p := range paths {
		f.get(t, p)
	}
	if n := c.recent.Load(); n != 1 {
		t.Errorf("four documents of one page read the store %d times, want once", n)
	}
	if _, err := f.db.Put(t.Context(), "wire", store.SourceState{Status: "ok"}, makeStories("climate", 4), base); err != nil {
		t.Fatal(err)
	}
	f.srv.Invalidate("climate")
	before := c.recent.Load()
	for _, p := range paths {
		if _, body := f.get(t, p); !bytes.Contains(body, []byte("climate story 03")) {
			t.Errorf("%s after the change lacks the new story", p)
		}
	}
	if n := c.recent.Load() - before; n > 1 {
		t.Errorf("after the change, the four documents read the store %d more times, want at most once", n)
	}
	f.get(t, "/topics/climate.rss?limit=2") // another page: a read of its own
	if n := c.recent.Load() - before; n != 2 {
		t.Errorf("a page of another size read %d times in all, want 2", n-1)
	}
}

// backwardsDB reports a topic change time that goes back after the first
// read: two writes that committed out of the order of their clocks.
type backwardsDB struct {
	*bolt.DB
	reads atomic.Int64
}

func (b *backwardsDB) Topic(ctx context.Context, slug string) (store.TopicInfo, error) {
	info, err := b.DB.Topic(ctx, slug)
	info.Changed = base.Add(2 * time.Hour)
	if b.reads.Add(1) > 1 {
		info.Changed = base.Add(time.Hour)
	}
	return info, err
}

// TestLastModifiedNeverGoesBack: a document's Last-Modified does not move
// back when the store's change time for its topic does.
func TestLastModifiedNeverGoesBack(t *testing.T) {
	f := newFixtureWith(t, 3, func(o *server.Options) { o.DB = &backwardsDB{DB: o.DB.(*bolt.DB)} })
	res, _ := f.get(t, "/topics/climate.rss")
	first, _ := http.ParseTime(res.Header.Get("Last-Modified"))
	f.get(t, "/topics/climate.rss") // polled: the change renders it ahead of readers
	f.srv.Invalidate("climate")
	res, _ = f.get(t, "/topics/climate.rss")
	ahead, _ := http.ParseTime(res.Header.Get("Last-Modified"))
	f.srv.Invalidate("climate") // not polled since: dropped, filled anew
	res, _ = f.get(t, "/topics/climate.rss")
	anew, _ := http.ParseTime(res.Header.Get("Last-Modified"))
	if ahead.Before(first) || anew.Before(first) {
		t.Errorf("Last-Modified went back: %v, then %v (rendered ahead), then %v (filled anew)", first, ahead, anew)
	}
}

// TestMemoKeepsNoOlderRead: two reads of one topic's page overlap, the
// first to begin (before a change was committed) ends last. The page memo
// kept the last to end, so the next document filled from it went back in
// time: a reader that had seen the new story in the JSON feed lost it on
// its next poll (servebench ingest counted such stale answers). Here a
// cache of one document makes every poll a fill, as renders ahead of
// readers are during a burst of changes.
func TestMemoKeepsNoOlderRead(t *testing.T) {
	var g *gatedDB
	f := newFixtureWith(t, 3, func(o *server.Options) {
		g = &gatedDB{DB: o.DB.(*bolt.DB)}
		o.DB, o.CacheBytes = g, 1
	})
	g.arm()
	rss := make(chan []byte)
	go func() {
		_, body := f.get(t, "/topics/climate.rss")
		rss <- body
	}()
	<-g.reading // the RSS fill has read three stories
	if _, err := f.db.Put(t.Context(), "wire", store.SourceState{Status: "ok"}, makeStories("climate", 4), base); err != nil {
		t.Fatal(err)
	}
	// Committed, not yet invalidated: the ingester tells the server just after.
	_, first := f.get(t, "/topics/climate.json")
	if !bytes.Contains(first, []byte("climate story 03")) {
		t.Fatal("a fill that began after the commit lacks its story")
	}
	close(g.release)
	<-rss
	f.get(t, "/topics/climate.atom")
	if _, again := f.get(t, "/topics/climate.json"); !bytes.Contains(again, []byte("climate story 03")) {
		t.Error("the JSON feed went back in time: its second answer lacks the story its first had")
	}
}

// topicGate holds, once armed, the first Recent of each topic named
// between reading the store and returning what it read.
type topicGate struct {
	*bolt.DB
	mu    sync.Mutex
	gates map[string]*gate
}

type gate struct{ reading, release chan struct{} }

func (g *topicGate) arm(slugs ...string) map[string]*gate {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gates = map[string]*gate{}
	for _, s := range slugs {
		g.gates[s] = &gate{make(chan struct{}), make(chan struct{})}
	}
	return maps.Clone(g.gates)
}

func (g *topicGate) Recent(ctx context.Context, q store.Query) (store.Page, error) {
	pg, err := g.DB.Recent(ctx, q)
	g.mu.Lock()
	gt := g.gates[q.Topic]
	delete(g.gates, q.Topic)
	g.mu.Unlock()
	if gt != nil {
		close(gt.reading)
		<-gt.release
	}
	return pg, err
}

// TestReloadServesNoOlderVersion: a reload renders the polled feeds for the
// new configuration while changes keep coming. The new configuration's
// render of a feed read the store before a change; the old configuration's
// render ahead of readers read it after, and a reader got it; then the new
// configuration took over with its older render, and the reader's next
// poll went back in time (servebench ingest's stale answers come while
// the config edit that adds its sources is applied).
func TestReloadServesNoOlderVersion(t *testing.T) {
	var g *topicGate
	f := newFixtureWith(t, 3, func(o *server.Options) {
		g = &topicGate{DB: o.DB.(*bolt.DB)}
		o.DB = g
	})
	for _, p := range []string{"/topics/chess.rss", "/topics/climate.rss"} {
		f.get(t, p)
		f.get(t, p) // polled: a reload prewarms it, a change renders it ahead of readers
	}
	gates := g.arm("chess", "climate")
	reloaded := make(chan struct{})
	go func() {
		f.srv.Reconfigure(site, f.topics, server.Caching{MaxAge: time.Minute})
		close(reloaded)
	}()
	<-gates["chess"].reading // the reload's render of chess.rss has read three stories
	if _, err := f.db.Put(t.Context(), "wire", store.SourceState{Status: "ok"}, makeStories("chess", 4), base); err != nil {
		t.Fatal(err)
	}
	invalidated := make(chan struct{})
	go func() {
		f.srv.Invalidate("chess", "climate") // as the ingester does once the change is committed
		close(invalidated)
	}()
	<-gates["climate"].reading // ...which has rendered chess.rss with the new story
	if _, body := f.get(t, "/topics/chess.rss"); !bytes.Contains(body, []byte("chess story 03")) {
		t.Fatal("the feed rendered after the change lacks its story")
	}
	close(gates["chess"].release)
	<-reloaded
	_, body := f.get(t, "/topics/chess.rss")
	close(gates["climate"].release)
	<-invalidated
	if !bytes.Contains(body, []byte("chess story 03")) {
		t.Error("after the reload the feed went back in time: it lacks the story it had")
	}
}

// TestRefreshLag: with a lag bound, a burst of changes to a polled topic
// renders its feeds far fewer times than it changes, readers never see a
// feed go back, and the last change is served once the burst stops, with
// no further change or request to bring it (none is lost).
func TestRefreshLag(t *testing.T) {
	const lag = 300 * time.Millisecond
	f := newFixtureWith(t, 1, func(o *server.Options) { o.RefreshLag = lag })
	paths := []string{"/topics/climate.rss", "/topics/climate.json", "/topics/climate.atom"}
	for _, p := range paths {
		f.get(t, p)
		f.get(t, p) // polled: changes render it ahead of readers
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for r := range 6 {
		wg.Go(func() {
			path := paths[r%len(paths)]
			seen := 0
			for {
				select {
				case <-stop:
					return
				default:
				}
				res, body := f.get(t, path)
				if res.StatusCode != http.StatusOK {
					t.Errorf("GET %s: %s", path, res.Status)
					return
				}
				n := bytes.Count(body, []byte("climate story "))
				if n < seen {
					t.Errorf("%s: a document with %d stories after one with %d", path, n, seen)
					return
				}
				seen = n
			}
		})
	}
	const changes = 60
	before := f.srv.Stats().Fills
	var last time.Time
	for i := 1; i <= changes; i++ {
		s := makeStories("climate", i+1)[i]
		s.Title = fmt.Sprintf("climate story %02d", i)
		s.Published = base.Add(time.Duration(i) * time.Minute)
		if _, err := f.db.Put(t.Context(), "wire", store.SourceState{}, []story.Story{s}, base); err != nil {
			t.Fatal(err)
		}
		f.srv.Invalidate("climate")
		last = time.Now()
	}
	final := []byte(fmt.Sprintf("climate story %02d", changes))
	for _, p := range paths {
		for deadline := time.Now().Add(10 * time.Second); ; {
			if _, body := f.get(t, p); bytes.Contains(body, final) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the last change was never served", p)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	t.Logf("the last change served everywhere %v after its invalidation (lag bound %v)", time.Since(last).Round(time.Millisecond), lag)
	close(stop)
	wg.Wait()
	renders := f.srv.Stats().Fills - before
	t.Logf("%d changes to 3 polled feeds, %d renders", changes, renders)
	if renders > uint64(changes*len(paths)/2) {
		t.Errorf("%d renders for %d changes of %d feeds: the changes did not share renders", renders, changes, len(paths))
	}
}

// TestFlush: with a lag bound, a change whose render waits for its gap is
// served once Flush returns.
func TestFlush(t *testing.T) {
	f := newFixtureWith(t, 1, func(o *server.Options) { o.RefreshLag = time.Hour })
	const path = "/topics/climate.rss"
	f.get(t, path)
	f.get(t, path) // polled
	for i := 1; i <= 3; i++ {
		s := makeStories("climate", i+1)[i]
		s.Title = fmt.Sprintf("climate story %02d", i)
		s.Published = base.Add(time.Duration(i) * time.Minute)
		if _, err := f.db.Put(t.Context(), "wire", store.SourceState{}, []story.Story{s}, base); err != nil {
			t.Fatal(err)
		}
		f.srv.Invalidate("climate")
		f.get(t, path)
	}
	if _, body := f.get(t, path); bytes.Contains(body, []byte("climate story 03")) {
		t.Log("the last change was rendered without waiting (the renders before it were slow)")
	}
	f.srv.Flush()
	if _, body := f.get(t, path); !bytes.Contains(body, []byte("climate story 03")) {
		t.Error("after Flush the feed lacks the last change")
	}
}
