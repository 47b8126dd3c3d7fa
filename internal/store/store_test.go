package store_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func open(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "data", "newsdesk.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// mk makes a story of source with a stable id from key.
func mk(source, key string, pub time.Time, topics ...string) story.Story {
	return story.Story{
		ID:          story.NewID(source, key),
		Source:      source,
		SourceTitle: strings.ToUpper(source),
		Link:        "https://" + source + ".example/" + key,
		Title:       "title " + key,
		Summary:     "summary " + key,
		Published:   pub,
		Topics:      topics,
	}
}

func put(t testing.TB, db *store.DB, source string, now time.Time, stories ...story.Story) store.PutResult {
	t.Helper()
	res, err := db.Put(source, store.SourceState{Status: "ok"}, stories, now)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func get(t testing.TB, db *store.DB, id string) story.Story {
	t.Helper()
	s, err := db.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func ids(stories []story.Story) []string {
	out := make([]string, len(stories))
	for i, s := range stories {
		out[i] = s.ID
	}
	return out
}

func recent(t testing.TB, db *store.DB, q store.Query) []string {
	t.Helper()
	page, err := db.Recent(q)
	if err != nil {
		t.Fatal(err)
	}
	return ids(page.Stories)
}

func TestOpenLockedByAnotherHandle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newsdesk.db")
	db, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = store.Open(path, store.Options{Timeout: 100 * time.Millisecond})
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second Open: err = %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "newsdesk serve") {
		t.Errorf("error %q should name the file and the likely holder", err)
	}
}

func TestReopenKeepsStoriesAndSources(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newsdesk.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := store.SourceState{ETag: `"abc"`, LastModified: "Sun, 01 Nov 2026 12:00:00 GMT", Status: "ok",
		LastSuccess: t0, NextFetch: t0.Add(time.Hour), Failures: 2, LastStatus: 200}
	s := mk("wire", "a", t0, "politics")
	if _, err := db.Put("wire", st, []story.Story{s}, t0); err != nil {
		t.Fatal(err)
	}
	if err := db.PutSource("other", store.SourceState{Status: "failing", LastError: "timeout"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Source("wire")
	if err != nil {
		t.Fatal(err)
	}
	if got.ETag != st.ETag || got.LastModified != st.LastModified || !got.NextFetch.Equal(st.NextFetch) || got.Failures != 2 {
		t.Errorf("Source(wire) = %+v, want %+v", got, st)
	}
	all, err := db.Sources()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all["other"].LastError != "timeout" {
		t.Errorf("Sources() = %+v", all)
	}
	if unknown, err := db.Source("nope"); err != nil || unknown != (store.SourceState{}) {
		t.Errorf("Source(nope) = %+v, %v; want zero state", unknown, err)
	}
	gs := get(t, db, s.ID)
	if gs.Title != s.Title || gs.Seq != 1 || !slices.Equal(gs.Topics, []string{"politics"}) {
		t.Errorf("story after reopen = %+v", gs)
	}
	if got := recent(t, db, store.Query{Topic: "politics"}); !slices.Equal(got, []string{s.ID}) {
		t.Errorf("topic index after reopen = %v", got)
	}
}

func TestGetUnknown(t *testing.T) {
	db := open(t)
	if _, err := db.Get("nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(nope) err = %v, want ErrNotFound", err)
	}
}

func TestStatsAndCompact(t *testing.T) {
	db := open(t)
	var batch []story.Story
	for i := range 200 {
		batch = append(batch, mk("wire", fmt.Sprint(i), t0.Add(time.Duration(i)*time.Minute), "t"))
	}
	put(t, db, "wire", t0, batch...)
	if _, err := db.Prune(0, 50, t0); err != nil {
		t.Fatal(err)
	}
	st := db.Stats()
	if st.Stories != 50 || st.Tombstones != 150 || st.FileSize <= 0 {
		t.Errorf("Stats() = %+v, want 50 stories, 150 tombstones", st)
	}

	dst := filepath.Join(t.TempDir(), "compact.db")
	if err := db.Compact(dst); err != nil {
		t.Fatal(err)
	}
	if err := db.Compact(dst); err == nil {
		t.Error("Compact over an existing file succeeded")
	}
	cdb, err := store.Open(dst, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cdb.Close()
	want := recent(t, db, store.Query{Topic: "t", Limit: 100})
	if got := recent(t, cdb, store.Query{Topic: "t", Limit: 100}); len(got) != 50 || !slices.Equal(got, want) {
		t.Errorf("compacted copy lists %d stories, want the same 50", len(got))
	}
	if got := cdb.Stats(); got.Stories != 50 || got.Tombstones != 150 {
		t.Errorf("compacted Stats() = %+v", got)
	}
	// The copy keeps the Seq counter, so new stories never reuse a Seq.
	res := put(t, cdb, "wire", t0, mk("wire", "new", t0))
	if res.New != 1 || get(t, cdb, story.NewID("wire", "new")).Seq != 201 {
		t.Errorf("Seq after compaction = %d, want 201", get(t, cdb, story.NewID("wire", "new")).Seq)
	}
}

func TestMetaSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newsdesk.db")
	db, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := db.Meta("topics"); err != nil || v != "" {
		t.Errorf("Meta of a new store = %q, %v; want empty", v, err)
	}
	// Keys the store uses itself must not clash with the caller's.
	for _, key := range []string{"topics", "schema", "gen", "n"} {
		if err := db.SetMeta(key, "v-"+key); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	db, err = store.Open(path, store.Options{NoSync: true})
	if err != nil {
		t.Fatalf("reopen after SetMeta(schema): %v", err)
	}
	defer db.Close()
	if v, _ := db.Meta("topics"); v != "v-topics" {
		t.Errorf("Meta(topics) = %q after reopen", v)
	}
	put(t, db, "wire", t0, mk("wire", "a", t0, "t"))
	if got := recent(t, db, store.Query{Topic: "t"}); len(got) != 1 {
		t.Errorf("store unusable after SetMeta of store-like keys: %v", got)
	}
}
