package ingest_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/fetch"
	"github.com/newsdesk/newsdesk/internal/ingest"
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
