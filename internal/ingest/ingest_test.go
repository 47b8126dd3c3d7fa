package ingest_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/fetch"
	"github.com/newsdesk/newsdesk/internal/ingest"
	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/store/bolt"
	"github.com/newsdesk/newsdesk/internal/story"
	"github.com/newsdesk/newsdesk/internal/topic"
)

// loopback is the fetch allow-list of tests whose upstream is an httptest
// server: the address guard refuses 127.0.0.1 otherwise.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

// rss returns an RSS 2.0 document with one item per title.
func rss(titles ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Up</title><link>https://up.example/</link><description>d</description>`)
	for i, t := range titles {
		fmt.Fprintf(&b, `<item><title>%s</title><link>https://up.example/%d</link><guid>up-%d</guid><pubDate>Tue, 27 Jan 2026 0%d:00:00 +0000</pubDate><description>About %s.</description></item>`, t, i, i, i%10, t)
	}
	b.WriteString(`</channel></rss>`)
	return b.String()
}

// upstream plays one feed server: it answers with the current status and
// body, honours If-None-Match unless ignoreValidators, and counts requests.
type upstream struct {
	mu               sync.Mutex
	status           int
	body             string
	header           http.Header
	ignoreValidators bool
	hits, cond       atomic.Int32
}

func (u *upstream) set(status int, body string, header http.Header) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.status, u.body, u.header = status, body, header
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.hits.Add(1)
	u.mu.Lock()
	defer u.mu.Unlock()
	etag := fmt.Sprintf(`"%x"`, len(u.body))
	for k, v := range u.header { // on a 304 too, as RFC 9110 15.4.5 asks for Cache-Control
		w.Header()[k] = v
	}
	if r.Header.Get("If-None-Match") != "" {
		u.cond.Add(1)
		if !u.ignoreValidators && r.Header.Get("If-None-Match") == etag && u.status == 200 {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	if u.status == 200 {
		w.Header().Set("ETag", etag)
	}
	w.Header().Set("Content-Type", "application/rss+xml")
	w.WriteHeader(u.status)
	io.WriteString(w, u.body)
}

type fixture struct {
	db    *bolt.DB
	in    *ingest.Ingester
	src   story.Source
	up    *upstream
	now   time.Time
	topic *topic.Set
}

func newFixture(t *testing.T, up *upstream) *fixture {
	t.Helper()
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	db, err := bolt.Open(filepath.Join(t.TempDir(), "n.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tp, err := topic.New(topic.Definition{Slug: "ice", Title: "Ice", Rule: topic.Rule{Term: "ice"}})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, up: up, now: time.Date(2026, 1, 28, 12, 0, 0, 0, time.UTC), topic: topic.NewSet(tp),
		src: story.Source{Name: "up", Title: "Up", URL: srv.URL + "/feed"}}
	f.in = ingest.New(fetch.New(fetch.Options{Allow: loopback}), db, f.topic, slog.New(slog.DiscardHandler),
		ingest.Options{MinInterval: time.Minute, MaxInterval: time.Hour, Now: func() time.Time { return f.now }})
	return f
}

// source returns the state the store holds for f.src, after the ingester
// wrote what it has.
func (f *fixture) source(t *testing.T) (store.SourceState, error) {
	t.Helper()
	if err := f.in.Flush(); err != nil {
		t.Fatal(err)
	}
	return f.db.Source(t.Context(), f.src.Name)
}

func (f *fixture) stored(t *testing.T, slug string) []string {
	t.Helper()
	page, err := f.db.Recent(t.Context(), store.Query{Topic: slug, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, s := range page.Stories {
		titles = append(titles, s.Title)
	}
	return titles
}

func TestRefreshStoresClassifiesAndSkipsUnchanged(t *testing.T) {
	up := &upstream{}
	up.set(200, rss("Ice storm", "Border talks"), nil)
	f := newFixture(t, up)

	rep := f.in.Refresh(t.Context(), f.src, false)
	if rep.Status != "ok" || rep.New != 2 || rep.Err != "" {
		t.Fatalf("first refresh = %+v, want ok with 2 new", rep)
	}
	if got := f.stored(t, "ice"); len(got) != 1 || got[0] != "Ice storm" {
		t.Errorf("topic ice holds %q, want [Ice storm]", got)
	}

	f.now = f.now.Add(time.Minute)
	rep = f.in.Refresh(t.Context(), f.src, false)
	if rep.Status != "not-modified" || rep.HTTPStatus != 304 {
		t.Errorf("second refresh = %+v, want not-modified 304", rep)
	}
	if up.cond.Load() != 1 {
		t.Errorf("conditional requests = %d, want 1: validators must be sent", up.cond.Load())
	}

	// An upstream that ignores validators but sends the same bytes costs no parse.
	up.ignoreValidators = true
	f.now = f.now.Add(time.Minute)
	if rep = f.in.Refresh(t.Context(), f.src, false); rep.Status != "unchanged" || rep.New+rep.Updated != 0 {
		t.Errorf("same body again = %+v, want unchanged", rep)
	}

	// Re-fetching the same stories with new content updates them, never duplicates.
	up.set(200, strings.Replace(rss("Ice storm", "Border talks"), "About Ice storm", "Now: ice storm", 1), nil)
	f.now = f.now.Add(time.Minute)
	if rep = f.in.Refresh(t.Context(), f.src, false); rep.New != 0 || rep.Updated != 1 {
		t.Errorf("edited upstream = %+v, want 0 new 1 updated", rep)
	}
	if got := f.stored(t, ""); len(got) != 2 {
		t.Errorf("store holds %d stories, want 2", len(got))
	}
}

func TestRefreshFailuresAreRecordedAndLoseNothing(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		header     http.Header
		wantStatus story.Status
		wantWait   time.Duration // NextFetch - now, within jitter
	}{
		{"server error backs off", 500, "oops", nil, "failing", time.Minute},
		{"malformed xml", 200, `<rss version="2.0"><channel><item><title>x`, nil, "failing", time.Minute},
		{"html instead of a feed", 200, "<!doctype html><html><body>hi</body></html>", nil, "failing", time.Minute},
		{"forbidden is blocked", 403, "no", nil, "blocked", time.Minute},
		{"challenge is blocked", 503, "", http.Header{"Cf-Mitigated": {"challenge"}}, "blocked", time.Minute},
		{"gone", 410, "", nil, "gone", time.Minute},
		{"retry-after honoured", 429, "", http.Header{"Retry-After": {"600"}}, "failing", 10 * time.Minute},
		{"retry-after capped", 503, "", http.Header{"Retry-After": {"86400"}}, "failing", time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := &upstream{}
			up.set(200, rss("Ice storm"), nil)
			f := newFixture(t, up)
			if rep := f.in.Refresh(t.Context(), f.src, false); rep.Status != "ok" {
				t.Fatalf("setup refresh = %+v", rep)
			}
			up.set(tt.status, tt.body, tt.header)
			f.now = f.now.Add(time.Minute)
			rep := f.in.Refresh(t.Context(), f.src, true)
			if rep.Status != tt.wantStatus || rep.Err == "" {
				t.Fatalf("refresh = %+v, want status %s with an error", rep, tt.wantStatus)
			}
			st, err := f.source(t)
			if err != nil {
				t.Fatal(err)
			}
			if st.Status != tt.wantStatus || st.Failures != 1 || st.LastError == "" {
				t.Errorf("state = %+v, want %s with 1 failure and the error", st, tt.wantStatus)
			}
			if wait := st.NextFetch.Sub(f.now); wait < tt.wantWait*8/10 || wait > tt.wantWait*12/10 {
				t.Errorf("next fetch in %v, want about %v", wait, tt.wantWait)
			}
			if got := f.stored(t, ""); len(got) != 1 {
				t.Errorf("store holds %q after the failure, want the story kept", got)
			}
			// Until NextFetch, an unforced refresh leaves the upstream alone.
			hits := up.hits.Load()
			if rep := f.in.Refresh(t.Context(), f.src, false); rep.Status != "deferred" && rep.Status != "gone" {
				t.Errorf("refresh during backoff = %+v, want deferred or gone", rep)
			}
			if up.hits.Load() != hits {
				t.Errorf("upstream was polled during backoff")
			}
		})
	}
}

func TestBackoffGrowsAndResets(t *testing.T) {
	up := &upstream{}
	up.set(500, "down", nil)
	f := newFixture(t, up)
	var waits []time.Duration
	for range 4 {
		f.in.Refresh(t.Context(), f.src, true)
		st, _ := f.source(t)
		waits = append(waits, st.NextFetch.Sub(f.now))
	}
	for i, want := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute} {
		if waits[i] < want*8/10 || waits[i] > want*12/10 {
			t.Errorf("wait after %d failures = %v, want about %v", i+1, waits[i], want)
		}
	}
	up.set(200, rss("Back"), nil)
	f.in.Refresh(t.Context(), f.src, true)
	if st, _ := f.source(t); st.Failures != 0 || st.Status != "ok" || st.LastError != "" {
		t.Errorf("after recovery state = %+v, want ok with failures reset", st)
	}
}

func TestSetTopicsReclassifiesStoredStories(t *testing.T) {
	up := &upstream{}
	up.set(200, rss("Ice storm", "Border talks"), nil)
	f := newFixture(t, up)
	f.in.Refresh(t.Context(), f.src, false)

	border, err := topic.New(topic.Definition{Slug: "border", Title: "Border", Rule: topic.Rule{Term: "border"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.in.SyncTopics(t.Context(), topic.NewSet(border), "v2"); err != nil {
		t.Fatal(err)
	}
	if got := f.stored(t, "border"); len(got) != 1 || got[0] != "Border talks" {
		t.Errorf("border after edit = %q, want [Border talks]", got)
	}
	if got := f.stored(t, "ice"); len(got) != 0 {
		t.Errorf("removed topic ice still lists %q", got)
	}
}

func TestRefreshAllRunsEverySourceOnce(t *testing.T) {
	up := &upstream{}
	up.set(200, rss("One"), nil)
	f := newFixture(t, up)
	var srcs []story.Source
	for i := range 5 {
		s := f.src
		s.Name = fmt.Sprintf("s%d", i)
		srcs = append(srcs, s)
	}
	var seen []string
	reports := f.in.RefreshAll(t.Context(), srcs, false, func(r ingest.Report) { seen = append(seen, r.Source) })
	if len(reports) != 5 || len(seen) != 5 {
		t.Fatalf("got %d reports, %d progress calls; want 5 and 5", len(reports), len(seen))
	}
	for i, r := range reports {
		if r.Source != srcs[i].Name || r.Status != "ok" {
			t.Errorf("report %d = %+v, want ok for %s", i, r, srcs[i].Name)
		}
	}
}

func TestPollingHonoursUpstreamAndMinInterval(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
		body   string
		want   time.Duration
	}{
		{"no hint: min interval", nil, rss("A"), time.Minute},
		{"cache-control max-age", http.Header{"Cache-Control": {"max-age=1800"}}, rss("A"), 30 * time.Minute},
		{"max-age capped by max interval", http.Header{"Cache-Control": {"max-age=86400"}}, rss("A"), time.Hour},
		{"rss ttl", nil, strings.Replace(rss("A"), "<channel>", "<channel><ttl>20</ttl>", 1), 20 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := &upstream{}
			up.set(200, tt.body, tt.header)
			f := newFixture(t, up)
			if rep := f.in.Refresh(t.Context(), f.src, false); rep.Status != "ok" {
				t.Fatalf("refresh = %+v", rep)
			}
			st, _ := f.source(t)
			if got := st.NextFetch.Sub(f.now); got != tt.want {
				t.Errorf("next fetch in %v, want %v", got, tt.want)
			}
			f.now = f.now.Add(tt.want - time.Second)
			hits := up.hits.Load()
			if rep := f.in.Refresh(t.Context(), f.src, false); rep.Status != "deferred" || up.hits.Load() != hits {
				t.Errorf("refresh before next fetch = %+v (hits %d→%d), want deferred without a request", rep, hits, up.hits.Load())
			}
			if rep := f.in.Refresh(t.Context(), f.src, true); rep.Status == "deferred" {
				t.Errorf("forced refresh was deferred")
			}
		})
	}
}

// TestTTLHonouredWithoutAParse checks that upstream's wait (RSS ttl,
// Cache-Control max-age) holds after a 304 and after the same bytes again,
// when nothing is parsed, not only after a full parse.
func TestTTLHonouredWithoutAParse(t *testing.T) {
	withTTL := strings.Replace(rss("A"), "<channel>", "<channel><ttl>30</ttl>", 1)
	maxAge := http.Header{"Cache-Control": {"max-age=1800"}}
	tests := []struct {
		name       string
		body       string
		header     http.Header
		sameBytes  bool // upstream ignores validators: 200 with the same body
		wantStatus story.Status
		want       time.Duration
	}{
		{"rss ttl after 304", withTTL, nil, false, story.StatusNotModified, 30 * time.Minute},
		{"rss ttl after the same bytes", withTTL, nil, true, story.StatusUnchanged, 30 * time.Minute},
		{"max-age after 304", rss("A"), maxAge, false, story.StatusNotModified, 30 * time.Minute},
		{"max-age after the same bytes", rss("A"), maxAge, true, story.StatusUnchanged, 30 * time.Minute},
		{"no hint after 304: min interval", rss("A"), nil, false, story.StatusNotModified, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := &upstream{ignoreValidators: tt.sameBytes}
			up.set(200, tt.body, tt.header)
			f := newFixture(t, up)
			if rep := f.in.Refresh(t.Context(), f.src, false); rep.Status != story.StatusOK {
				t.Fatalf("first refresh = %+v", rep)
			}
			for i := range 3 { // every later poll, not only the first after the parse
				f.now = f.now.Add(tt.want)
				rep := f.in.Refresh(t.Context(), f.src, false)
				if rep.Status != tt.wantStatus {
					t.Fatalf("poll %d = %+v, want %s", i+2, rep, tt.wantStatus)
				}
				if got := rep.Next.Sub(f.now); got != tt.want {
					t.Errorf("poll %d: next in %v, want %v", i+2, got, tt.want)
				}
			}
			f.now = f.now.Add(tt.want - time.Second)
			hits := up.hits.Load()
			if rep := f.in.Refresh(t.Context(), f.src, false); rep.Status != story.StatusDeferred || up.hits.Load() != hits {
				t.Errorf("refresh before next = %+v (hits %d→%d), want deferred without a request", rep, hits, up.hits.Load())
			}
		})
	}
}

// swapCheck is a store that checks, at every Put, that the feed was
// classified with the topic set of the latest re-classification and that no
// re-classification is running: what "classification and commit agree"
// means. A set is told by how it files an "alpha" story (a: x, b: y).
type swapCheck struct {
	*bolt.DB
	entered chan struct{} // a Reclassify began
	mu      sync.Mutex
	running int
	current string
	bad     []string
}

func setOf(topics []string) string {
	if slices.Contains(topics, "y") {
		return "b"
	}
	return "a"
}

func (c *swapCheck) Reclassify(ctx context.Context, classify func(story.Story) []string) ([]string, error) {
	c.mu.Lock()
	c.running++
	c.current = setOf(classify(story.Story{Title: "alpha"}))
	c.mu.Unlock()
	select {
	case c.entered <- struct{}{}:
	default:
	}
	defer func() {
		c.mu.Lock()
		c.running--
		c.mu.Unlock()
	}()
	return c.DB.Reclassify(ctx, classify)
}

func (c *swapCheck) Put(ctx context.Context, source string, st store.SourceState, stories []story.Story, now time.Time) (store.PutResult, error) {
	with := setOf(stories[0].Topics) // stories[0] is an alpha story
	c.mu.Lock()
	if c.running > 0 || with != c.current {
		c.bad = append(c.bad, fmt.Sprintf("%s classified with %s, committed while the set is %s (%d re-classifications running)",
			source, with, c.current, c.running))
	}
	c.mu.Unlock()
	return c.DB.Put(ctx, source, st, stories, now)
}

// TestTopicSwapsDuringIngest swaps between two topic sets many times while
// a first ingest runs. A feed classified with one set must never commit
// after the swap to the other: the store's fingerprint would match, and
// nothing would ever re-file it. Set a has topics x (alpha) and z (beta);
// set b has x (beta) and y (alpha).
//
// Swaps that merely race the refreshes fall where no worker is (they fall
// into step with the re-classifications), so every third feed starts a
// swap itself between its classification and its commit, and waits until
// the swap reaches the store, or at most a moment (with classification and
// commit under one lock the swap cannot start before the commit: the wait
// runs out, which the verdict does not depend on). The verdict is the
// invariant swapCheck records, and the final topic indexes.
func TestTopicSwapsDuringIngest(t *testing.T) {
	mk := func(defs ...[2]string) *topic.Set {
		var ts []*topic.Topic
		for _, d := range defs {
			tp, err := topic.New(topic.Definition{Slug: d[0], Title: d[0], Rule: topic.Rule{Term: d[1]}})
			if err != nil {
				t.Fatal(err)
			}
			ts = append(ts, tp)
		}
		return topic.NewSet(ts...)
	}
	a, b := mk([2]string{"x", "alpha"}, [2]string{"z", "beta"}), mk([2]string{"x", "beta"}, [2]string{"y", "alpha"})

	const feeds, items, workers = 60, 10, 8
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		for i := range items {
			word := "alpha"
			if i%2 == 1 {
				word = "beta"
			}
			fmt.Fprintf(&b, `<item><title>%s %s story %d</title><link>https://up.example%s/%d</link><guid>%d</guid></item>`,
				r.URL.Path[1:], word, i, r.URL.Path, i, i)
		}
		io.WriteString(w, strings.Replace(rss(), "</channel>", b.String()+"</channel>", 1))
	}))
	defer up.Close()
	var srcs []story.Source
	for i := range feeds {
		srcs = append(srcs, story.Source{Name: fmt.Sprintf("f%d", i), URL: fmt.Sprintf("%s/f%d", up.URL, i)})
	}
	bdb, err := bolt.Open(filepath.Join(t.TempDir(), "n.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	db := &swapCheck{DB: bdb, entered: make(chan struct{}, 1), current: "a"}
	in := ingest.New(fetch.New(fetch.Options{Allow: loopback, PerHost: workers}), db, a, slog.New(slog.DiscardHandler), ingest.Options{Workers: workers})

	var mu sync.Mutex // one swap at a time, alternating
	final, swaps := a, 0
	swap := func() {
		mu.Lock()
		defer mu.Unlock()
		next := a
		if final == a {
			next = b
		}
		if err := in.SetTopics(t.Context(), next); err != nil {
			t.Error(err)
			return
		}
		final = next
		swaps++
	}
	var n atomic.Int32
	in.BeforePut(func(string) {
		if n.Add(1)%3 != 0 {
			return
		}
		go swap()
		select {
		case <-db.entered:
		case <-time.After(50 * time.Millisecond):
		}
	})
	for _, r := range in.RefreshAll(t.Context(), srcs, false, nil) {
		if r.Status != story.StatusOK {
			t.Fatalf("refresh = %+v", r)
		}
	}
	mu.Lock() // the last swaps end
	defer mu.Unlock()
	for len(db.bad) > 0 {
		t.Errorf("%d of %d commits disagreed with the topics in force, e.g. %s", len(db.bad), feeds, db.bad[0])
		break
	}

	all := listed(t, db.DB, "")
	if len(all) != feeds*items {
		t.Fatalf("stored %d stories, want %d", len(all), feeds*items)
	}
	for _, slug := range []string{"x", "y", "z"} {
		want := map[string]bool{}
		for _, s := range all {
			if slices.Contains(final.Classify(s), slug) {
				want[s.ID] = true
			}
		}
		got := listed(t, db.DB, slug)
		wrong := 0
		for _, s := range got {
			if !want[s.ID] {
				wrong++
			}
		}
		if wrong > 0 || len(got) != len(want) {
			t.Errorf("topic %s lists %d stories, %d of them wrongly; want the %d the final set files there", slug, len(got), wrong, len(want))
		}
	}
	t.Logf("%d topic swaps during the ingest", swaps)
}

// listed returns every story listed under slug ("" for all).
func listed(t *testing.T, db *bolt.DB, slug string) []story.Story {
	t.Helper()
	var out []story.Story
	q := store.Query{Topic: slug, Limit: 200}
	for {
		page, err := db.Recent(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Stories...)
		if page.Next == "" {
			return out
		}
		q.Before = page.Next
	}
}

// cancelAfterReclassify ends a context the moment the store has committed a
// re-filing: a SIGTERM between the re-filing and the fingerprint's write.
type cancelAfterReclassify struct {
	*bolt.DB
	cancel *context.CancelFunc
}

func (c cancelAfterReclassify) Reclassify(ctx context.Context, classify func(story.Story) []string) ([]string, error) {
	changed, err := c.DB.Reclassify(ctx, classify)
	if *c.cancel != nil {
		(*c.cancel)()
	}
	return changed, err
}

// TestStopAfterRefilingRecordsIt: a stop that comes once the new filing is
// committed still records its fingerprint, so the store never says "filed
// under the old topics" while it holds the new filing (the crash test's
// SIGTERM phase saw a start with the old topics then skip the re-filing and
// serve the new topics' filing).
func TestStopAfterRefilingRecordsIt(t *testing.T) {
	up := &upstream{}
	up.set(200, rss("Ice storm", "Border talks"), nil)
	f := newFixture(t, up)
	var cancel context.CancelFunc
	db := cancelAfterReclassify{DB: f.db, cancel: &cancel}
	in := ingest.New(fetch.New(fetch.Options{Allow: loopback}), db, f.topic, slog.New(slog.DiscardHandler),
		ingest.Options{MinInterval: time.Minute, MaxInterval: time.Hour, Now: func() time.Time { return f.now }})
	in.Refresh(t.Context(), f.src, false)
	if err := in.SyncTopics(t.Context(), f.topic, "v1"); err != nil {
		t.Fatal(err)
	}
	border, err := topic.New(topic.Definition{Slug: "border", Title: "Border", Rule: topic.Rule{Term: "border"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	cancel = stop
	err = in.SyncTopics(ctx, topic.NewSet(border), "v2")
	got, merr := f.db.Meta(t.Context(), ingest.TopicsKey)
	if merr != nil {
		t.Fatal(merr)
	}
	if got != "v2" {
		t.Errorf("after a stop once the re-filing committed (SyncTopics: %v) the store says topics %q, want v2", err, got)
	}
	if titles := f.stored(t, "border"); len(titles) != 1 {
		t.Errorf("border lists %q, want the committed re-filing", titles)
	}
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
}
