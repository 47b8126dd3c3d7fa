package bolt_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/store/bolt"
	"github.com/newsdesk/newsdesk/internal/store/storetest"
	"github.com/newsdesk/newsdesk/internal/story"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// engine is storetest's way to open bbolt stores with opts.
func engine(opts bolt.Options) storetest.NewStore {
	return func(t *testing.T) func() (store.Store, error) {
		path := filepath.Join(t.TempDir(), "data", "newsdesk.db")
		return func() (store.Store, error) { return bolt.Open(path, opts) }
	}
}

func TestConformance(t *testing.T) {
	storetest.Run(t, engine(bolt.Options{NoSync: true}))
}

// TestConformanceSmallBatches runs the suite again with re-classification
// batches of 7 stories, so that every Reclassify in it crosses batch edges.
func TestConformanceSmallBatches(t *testing.T) {
	if testing.Short() {
		t.Skip("the suite with small batches; -short runs it once")
	}
	storetest.Run(t, engine(bolt.Options{NoSync: true, ReclassifyBatch: 7}))
}

func open(t testing.TB) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "data", "newsdesk.db"), bolt.Options{NoSync: true})
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

func put(t testing.TB, db store.Store, source string, now time.Time, stories ...story.Story) store.PutResult {
	t.Helper()
	res, err := db.Put(t.Context(), source, store.SourceState{Status: "ok"}, stories, now)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func recent(t testing.TB, db store.Store, q store.Query) []string {
	t.Helper()
	page, err := db.Recent(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range page.Stories {
		ids = append(ids, s.ID)
	}
	return ids
}

func TestOpenLockedByAnotherHandle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newsdesk.db")
	db, err := bolt.Open(path, bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = bolt.Open(path, bolt.Options{Timeout: 100 * time.Millisecond})
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second Open: err = %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "newsdesk serve") {
		t.Errorf("error %q should name the file and the likely holder", err)
	}
}

func TestCompact(t *testing.T) {
	db := open(t)
	var batch []story.Story
	for i := range 200 {
		batch = append(batch, mk("wire", fmt.Sprint(i), t0.Add(time.Duration(i)*time.Minute), "t"))
	}
	put(t, db, "wire", t0, batch...)
	if _, err := db.Prune(t.Context(), store.Retention{MaxStories: 50}, t0); err != nil {
		t.Fatal(err)
	}

	dst := filepath.Join(t.TempDir(), "compact.db")
	if err := db.Compact(dst); err != nil {
		t.Fatal(err)
	}
	if err := db.Compact(dst); err == nil {
		t.Error("Compact over an existing file succeeded")
	}
	cdb, err := bolt.Open(dst, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cdb.Close()
	if err := cdb.Check(t.Context()); err != nil {
		t.Error(err)
	}
	want := recent(t, db, store.Query{Topic: "t", Limit: 100})
	if got := recent(t, cdb, store.Query{Topic: "t", Limit: 100}); len(got) != 50 || !slices.Equal(got, want) {
		t.Errorf("compacted copy lists %d stories, want the same 50", len(got))
	}
	if got, _ := cdb.Stats(t.Context()); got.Stories != 50 || got.Tombstones != 150 {
		t.Errorf("compacted Stats() = %+v", got)
	}
	// The copy keeps the Seq counter, so new stories never reuse a Seq.
	res := put(t, cdb, "wire", t0, mk("wire", "new", t0))
	g, err := cdb.Get(t.Context(), story.NewID("wire", "new"))
	if err != nil || res.New != 1 || g.Seq != 201 {
		t.Errorf("Seq after compaction = %d (%v), want 201", g.Seq, err)
	}
}

// TestBackupOpens checks that a backup is a store file Open reads as it is,
// holding what the store held when the backup began.
func TestBackupOpens(t *testing.T) {
	db := open(t)
	var batch []story.Story
	for i := range 300 {
		batch = append(batch, mk("wire", fmt.Sprint(i), t0.Add(time.Duration(i)*time.Minute), "t", "u"))
	}
	put(t, db, "wire", t0, batch...)
	dst := filepath.Join(t.TempDir(), "backup.db")
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Backup(t.Context(), f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	bdb, err := bolt.Open(dst, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	if err := bdb.Check(t.Context()); err != nil {
		t.Error(err)
	}
	for _, slug := range []string{"", "t", "u"} {
		want := recent(t, db, store.Query{Topic: slug, Limit: 1000})
		if got := recent(t, bdb, store.Query{Topic: slug, Limit: 1000}); !slices.Equal(got, want) {
			t.Errorf("backup lists %d stories in %q, want the same %d", len(got), slug, len(want))
		}
	}
}
