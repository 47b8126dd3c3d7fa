package ingest_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/internal/benchfeed"
	"github.com/newsdesk/newsdesk/internal/fetch"
	"github.com/newsdesk/newsdesk/internal/ingest"
	"github.com/newsdesk/newsdesk/internal/store/bolt"
	"github.com/newsdesk/newsdesk/internal/story"
)

// TestSecondPassParsesAndWritesNothing is issue 8's second pass in counts:
// after a first pass over feeds of BenchmarkIngest's kind (with the default
// topics), a forced pass over the unchanged upstreams parses no document
// and hands the store no story, whether upstream answers 304 (ETag or
// Last-Modified) or sends the same bytes again without validators, and
// whether the second pass is the same ingester's (the daemon) or a new
// one's reading the state from the store (a second `newsdesk fetch`).
func TestSecondPassParsesAndWritesNothing(t *testing.T) {
	const nfeeds = 12
	bodies := make([][]byte, nfeeds)
	for i := range bodies {
		bodies[i] = benchfeed.Feed(i)
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/feed/"))
		w.Header().Set("Content-Type", "application/xml")
		switch n % 3 {
		case 0: // strong ETag
			etag := fmt.Sprintf(`"f%d"`, n)
			if r.Header.Get("If-None-Match") == etag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("ETag", etag)
		case 1: // Last-Modified only
			const lm = "Wed, 28 Jan 2026 12:00:00 GMT"
			if r.Header.Get("If-Modified-Since") == lm {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("Last-Modified", lm)
		case 2: // no validators: the same bytes every time
		}
		w.Write(bodies[n])
	}))
	defer up.Close()
	srcs := make([]story.Source, nfeeds)
	for i := range srcs {
		srcs[i] = story.Source{Name: fmt.Sprintf("feed-%d", i), Title: "Feed", URL: fmt.Sprintf("%s/feed/%d", up.URL, i)}
	}
	db, err := bolt.Open(filepath.Join(t.TempDir(), "n.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	set := defaultTopics(t)
	fc := fetch.New(fetch.Options{Allow: loopback})
	log := slog.New(slog.DiscardHandler)
	newIngester := func(counted *countingStore, runs *[]ingest.Run) *ingest.Ingester {
		return ingest.New(fc, counted, set, log, ingest.Options{ObserveRun: func(r ingest.Run) { *runs = append(*runs, r) }})
	}
	// pass runs a forced RefreshAll and returns the documents it parsed (by
	// its reports, and by its Run) and the Puts and stories the store got.
	pass := func(in *ingest.Ingester, counted *countingStore, runs *[]ingest.Run, wantStatus ...story.Status) (parsed, runParsed, puts, stories int) {
		t.Helper()
		p0, s0 := counted.puts.Load(), counted.stories.Load()
		for i, r := range in.RefreshAll(t.Context(), srcs, true, nil) {
			if want := wantStatus[min(i%3, len(wantStatus)-1)]; r.Status != want || r.Err != "" {
				t.Errorf("%s: %+v, want %s", r.Source, r, want)
			}
			if r.Parsed {
				parsed++
			}
		}
		if len(*runs) == 0 {
			t.Fatal("no run observed")
		}
		return parsed, (*runs)[len(*runs)-1].Parsed, int(counted.puts.Load() - p0), int(counted.stories.Load() - s0)
	}

	var runs []ingest.Run
	counted := &countingStore{DB: db}
	in := newIngester(counted, &runs)
	parsed, runParsed, puts, stories := pass(in, counted, &runs, story.StatusOK)
	if parsed != nfeeds || runParsed != nfeeds || puts != nfeeds || stories != nfeeds*50 {
		t.Fatalf("first pass: %d parsed (run says %d), %d puts of %d stories; want %d, %d, %d of %d",
			parsed, runParsed, puts, stories, nfeeds, nfeeds, nfeeds, nfeeds*50)
	}

	unchanged := []story.Status{story.StatusNotModified, story.StatusNotModified, story.StatusUnchanged}
	parsed, runParsed, puts, stories = pass(in, counted, &runs, unchanged...)
	if parsed+runParsed+puts+stories != 0 {
		t.Errorf("second pass, same ingester: %d parsed (run says %d), %d puts of %d stories; want none",
			parsed, runParsed, puts, stories)
	}
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}

	runs = nil
	counted = &countingStore{DB: db}
	again := newIngester(counted, &runs)
	defer again.Close()
	parsed, runParsed, puts, stories = pass(again, counted, &runs, unchanged...)
	if parsed+runParsed+puts+stories != 0 {
		t.Errorf("second pass, new ingester: %d parsed (run says %d), %d puts of %d stories; want none",
			parsed, runParsed, puts, stories)
	}
}
