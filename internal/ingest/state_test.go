package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/newsdesk/newsdesk/internal/fetch"
	"github.com/newsdesk/newsdesk/internal/ingest"
	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/store/bolt"
	"github.com/newsdesk/newsdesk/internal/story"
	"github.com/newsdesk/newsdesk/internal/topic"
)

// syncBuffer is a log destination a test can read while refreshes write.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) count(s string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.buf.String(), s)
}

// movingUpstream serves the feed at /new, 301s /old to it, 302s /temp to
// it, and counts requests per path.
type movingUpstream struct {
	mu   sync.Mutex
	hits map[string]int
}

func (m *movingUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	m.hits[r.URL.Path]++
	m.mu.Unlock()
	switch r.URL.Path {
	case "/old":
		http.Redirect(w, r, "/new", http.StatusMovedPermanently)
	case "/temp":
		http.Redirect(w, r, "/new", http.StatusFound)
	case "/new":
		fmt.Fprint(w, rss("Ice storm"))
	default:
		http.NotFound(w, r)
	}
}

func (m *movingUpstream) count(path string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.hits[path]
}

func TestPermanentRedirectIsFollowedFromThenOn(t *testing.T) {
	up := &movingUpstream{hits: map[string]int{}}
	srv := httptest.NewServer(up)
	t.Cleanup(srv.Close)
	dbPath := filepath.Join(t.TempDir(), "n.db")
	db, err := bolt.Open(dbPath, bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 28, 12, 0, 0, 0, time.UTC)
	var logs syncBuffer
	newIngester := func() *ingest.Ingester {
		return ingest.New(fetch.New(fetch.Options{Allow: loopback}), db, topic.NewSet(), slog.New(slog.NewTextHandler(&logs, nil)),
			ingest.Options{MinInterval: time.Minute, Now: func() time.Time { return now }})
	}
	in := newIngester()
	src := story.Source{Name: "up", Title: "Up", URL: srv.URL + "/old"}
	const warning = "source moved permanently"

	rep := in.Refresh(t.Context(), src, false)
	if rep.Status != story.StatusOK || rep.MovedTo != srv.URL+"/new" {
		t.Fatalf("first refresh = %+v, want ok with MovedTo %s/new", rep, srv.URL)
	}
	in.Flush()
	st, err := db.Source(t.Context(), "up")
	if err != nil {
		t.Fatal(err)
	}
	if st.MovedFrom != src.URL || st.MovedTo != srv.URL+"/new" {
		t.Errorf("state MovedFrom %q, MovedTo %q; want %s and %s/new", st.MovedFrom, st.MovedTo, src.URL, srv.URL)
	}

	// From now on the new URL is polled, and the log said so once.
	for range 2 {
		now = now.Add(time.Hour)
		if rep := in.Refresh(t.Context(), src, false); rep.Err != "" || rep.MovedTo != srv.URL+"/new" {
			t.Fatalf("later refresh = %+v, want success still reporting the move", rep)
		}
	}
	if up.count("/old") != 1 || up.count("/new") != 3 {
		t.Errorf("upstream saw /old %d and /new %d times, want 1 and 3", up.count("/old"), up.count("/new"))
	}
	if n := logs.count(warning); n != 1 {
		t.Errorf("logged %q %d times, want once:\n%s", warning, n, logs.buf.String())
	}

	// A restart remembers the move, and does not repeat the warning.
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	in = newIngester()
	now = now.Add(time.Hour)
	in.Refresh(t.Context(), src, false)
	if up.count("/old") != 1 || logs.count(warning) != 1 {
		t.Errorf("after a restart: /old polled %d times, warning logged %d times; want 1 and 1", up.count("/old"), logs.count(warning))
	}

	// The admin updates the config: the move is done with.
	src.URL = srv.URL + "/new"
	now = now.Add(time.Hour)
	if rep := in.Refresh(t.Context(), src, false); rep.Err != "" || rep.MovedTo != "" {
		t.Errorf("refresh after the config took the new URL = %+v, want no MovedTo", rep)
	}
	in.Flush()
	if st, _ := db.Source(t.Context(), "up"); st.MovedFrom != "" || st.MovedTo != "" {
		t.Errorf("state still records a move: %+v", st)
	}

	// A different URL in the config wins over a remembered move.
	src.URL = srv.URL + "/old"
	now = now.Add(time.Hour)
	in.Refresh(t.Context(), src, false) // moved again
	src.URL = srv.URL + "/temp"
	now = now.Add(time.Hour)
	in.Refresh(t.Context(), src, false)
	if up.count("/temp") != 1 {
		t.Errorf("a new configured URL was polled %d times, want 1 (not the old move's target)", up.count("/temp"))
	}
	// A temporary redirect is not remembered: /temp is polled again.
	now = now.Add(time.Hour)
	if rep := in.Refresh(t.Context(), src, false); rep.MovedTo != "" || up.count("/temp") != 2 {
		t.Errorf("302: report %+v, /temp polled %d times; want no MovedTo and 2", rep, up.count("/temp"))
	}
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	db.Close()
}

func TestRefusedAddressIsItsOwnStatus(t *testing.T) {
	up := &upstream{}
	up.set(200, rss("Ice storm"), nil)
	f := newFixture(t, up)
	if rep := f.in.Refresh(t.Context(), f.src, false); rep.Status != story.StatusOK {
		t.Fatalf("setup refresh = %+v", rep)
	}
	// The same store and source, fetched by a client that does not allow
	// loopback: the upstream is refused, and what is stored stays.
	var hits atomic.Int32
	hits.Store(up.hits.Load())
	strict := ingest.New(fetch.New(fetch.Options{}), f.db, f.topic, slog.New(slog.DiscardHandler),
		ingest.Options{MinInterval: time.Minute, Now: func() time.Time { return f.now }})
	rep := strict.Refresh(t.Context(), f.src, true)
	if rep.Status != story.StatusRefused || !strings.Contains(rep.Err, "refused: 127.0.0.1 is a loopback address; allow it with fetch.allow_networks") {
		t.Fatalf("refresh = %+v, want status refused with the guard's message", rep)
	}
	if err := strict.Flush(); err != nil {
		t.Fatal(err)
	}
	st, err := f.db.Source(t.Context(), f.src.Name)
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != story.StatusRefused || st.Failures != 1 || !strings.Contains(st.LastError, "fetch.allow_networks") {
		t.Errorf("state = %+v, want refused with 1 failure and the guard's message", st)
	}
	if up.hits.Load() != hits.Load() {
		t.Errorf("the refused upstream was contacted")
	}
	if got := f.stored(t, ""); len(got) != 1 {
		t.Errorf("store holds %q after the refusal, want the story kept", got)
	}
}

// countingStore counts the writes that reach the store: Puts, the stories
// they hand it, and source-state writes.
type countingStore struct {
	*bolt.DB
	puts, sourcePuts atomic.Int32
	stories          atomic.Int64
}

func (c *countingStore) Put(ctx context.Context, source string, st store.SourceState, stories []story.Story, now time.Time) (store.PutResult, error) {
	c.puts.Add(1)
	c.stories.Add(int64(len(stories)))
	return c.DB.Put(ctx, source, st, stories, now)
}

func (c *countingStore) PutSource(ctx context.Context, source string, st store.SourceState) error {
	c.sourcePuts.Add(1)
	return c.DB.PutSource(ctx, source, st)
}

// TestStateSurvivesAKill abandons an ingester without Close, as kill -9
// does, and starts another on the same store: upstream's max-age,
// Retry-After and the backoff must still hold (to within one min_interval),
// while a pass over unchanged upstreams that ask for no more than
// min_interval costs no write at all.
func TestStateSurvivesAKill(t *testing.T) {
	const minInterval = time.Minute
	t0 := time.Date(2026, 1, 28, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		// answers are the upstream's answers to the polls before the kill,
		// one per poll, each poll at the NextFetch the previous one set.
		answers []func(*upstream)
		// wantWrites is how many state-only writes the polls after the
		// first (which stores stories) may make at most; 0 means none, and
		// more than 0 at least one (the writer may fold two into one).
		wantWrites int32
		// deferred: a poll right after the restart must not reach upstream.
		deferred bool
	}{
		{"max-age after a 304", []func(*upstream){
			func(u *upstream) { u.set(200, rss("A"), http.Header{"Cache-Control": {"max-age=3600"}}) },
			func(u *upstream) {},
		}, 1, true},
		{"retry-after", []func(*upstream){
			func(u *upstream) { u.set(200, rss("A"), nil) },
			func(u *upstream) { u.set(503, "", http.Header{"Retry-After": {"1800"}}) },
		}, 1, true},
		{"backoff after three failures", []func(*upstream){
			func(u *upstream) { u.set(200, rss("A"), nil) },
			func(u *upstream) { u.set(500, "down", nil) },
			func(u *upstream) {},
			func(u *upstream) {},
		}, 3, true},
		{"unchanged, no hint: no writes", []func(*upstream){
			func(u *upstream) { u.set(200, rss("A"), nil) },
			func(u *upstream) {},
			func(u *upstream) {},
			func(u *upstream) {},
		}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := &upstream{}
			srv := httptest.NewServer(up)
			defer srv.Close()
			bdb, err := bolt.Open(filepath.Join(t.TempDir(), "n.db"), bolt.Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			defer bdb.Close()
			db := &countingStore{DB: bdb}
			src := story.Source{Name: "up", URL: srv.URL + "/feed"}
			now := t0
			newIngester := func() *ingest.Ingester {
				return ingest.New(fetch.New(fetch.Options{Allow: loopback}), db, topic.NewSet(), slog.New(slog.DiscardHandler),
					ingest.Options{MinInterval: minInterval, MaxInterval: 6 * time.Hour, Now: func() time.Time { return now }})
			}
			in := newIngester()
			var last ingest.Report
			var lastPoll time.Time
			for i, answer := range tt.answers {
				answer(up)
				lastPoll = now
				last = in.Refresh(t.Context(), src, false)
				if last.Status == story.StatusDeferred {
					t.Fatalf("poll %d deferred: %+v", i+1, last)
				}
				if i == 0 {
					db.sourcePuts.Store(0)
				}
				now = last.Next
			}
			in.WaitWrites() // what an urgent write leaves; the kill comes after it
			if got := db.sourcePuts.Load(); (got == 0) != (tt.wantWrites == 0) || got > tt.wantWrites {
				t.Errorf("state writes after the first poll = %d, want %d at most, and 0 only if %d is", got, tt.wantWrites, tt.wantWrites)
			}
			if db.puts.Load() != 1 {
				t.Errorf("story writes = %d, want 1 (the first poll)", db.puts.Load())
			}

			// kill -9: in is dropped without Close. The restart comes one
			// second after the last poll.
			if !tt.deferred {
				return
			}
			wantNext := last.Next
			now = lastPoll.Add(time.Second)
			in = newIngester()
			hits := up.hits.Load()
			rep := in.Refresh(t.Context(), src, false)
			if rep.Status != story.StatusDeferred || up.hits.Load() != hits {
				t.Fatalf("after the restart: %+v (upstream hits %d→%d), want deferred without a request", rep, hits, up.hits.Load())
			}
			if early := wantNext.Sub(rep.Next); early > minInterval {
				t.Errorf("after the restart not before %v, want %v (at most %v early)", rep.Next, wantNext, minInterval)
			}
			if want := len(tt.answers) - 1; tt.name == "backoff after three failures" && rep.Failures != want {
				t.Errorf("failures after the restart = %d, want %d", rep.Failures, want)
			}
		})
	}
}

// fullStore fails every PutSource while full is set, as a full disk does.
type fullStore struct {
	*bolt.DB
	full atomic.Bool
}

func (f *fullStore) PutSource(ctx context.Context, source string, st store.SourceState) error {
	if f.full.Load() {
		return errors.New("write n.db: no space left on device")
	}
	return f.DB.PutSource(ctx, source, st)
}

// TestStateWriteFailureRetries fails the state writes for a while: the
// fetch still returns (with the failure in its report), the writer says so
// and retries on its own, and once writes succeed again the state lands.
func TestStateWriteFailureRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src, bdb := localFeed(t)
		db := &fullStore{DB: bdb}
		var logs syncBuffer
		in := ingest.New(fetch.New(fetch.Options{}), db, topic.NewSet(), slog.New(slog.NewTextHandler(&logs, nil)), ingest.Options{})
		if r := in.RefreshAll(t.Context(), []story.Source{src}, false, nil); r[0].Status != story.StatusOK {
			t.Fatalf("first refresh = %+v", r[0])
		}
		// The feed goes away while the disk is full.
		if err := os.Remove(strings.TrimPrefix(src.URL, "file://")); err != nil {
			t.Fatal(err)
		}
		db.full.Store(true)
		// The writer's failed round comes before RefreshAll waits for it (the
		// order a loaded machine gave): progress runs before that wait, and
		// synctest.Wait returns once the writer has failed and sleeps.
		r := in.RefreshAll(t.Context(), []story.Source{src}, true, func(ingest.Report) { synctest.Wait() })
		if r[0].Status != story.StatusFailing {
			t.Fatalf("refresh of a removed file = %+v, want failing", r[0])
		}
		if n := logs.count("save source state; retrying"); n != 1 {
			t.Errorf("logged the failed state write %d times, want once:\n%s", n, logs.buf.String())
		}
		if st, _ := bdb.Source(t.Context(), src.Name); st.Failures != 0 {
			t.Fatalf("state written while the disk is full: %+v", st)
		}
		db.full.Store(false)
		time.Sleep(2 * time.Second) // past the writer's first retry
		synctest.Wait()
		if st, _ := bdb.Source(t.Context(), src.Name); st.Failures != 1 || st.Status != story.StatusFailing {
			t.Errorf("after the disk has room again: state = %+v, want the failure written", st)
		}
		if err := in.Close(); err != nil {
			t.Fatal(err)
		}
	})
}
