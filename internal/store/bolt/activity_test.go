package bolt

import (
	"path/filepath"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

// A file written before the per-source counters existed is counted once
// when it is opened.
func TestOpenCountsStoriesOfOlderFiles(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "newsdesk.db")
	db, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, src := range []string{"alpha", "alpha", "beta"} {
		s := story.Story{ID: story.NewID(src, string(rune('a'+i))), Source: src, Title: "t", Published: t0}
		if _, err := db.Put(t.Context(), src, store.SourceState{}, []story.Story{s}, t0.Add(time.Duration(i)*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	err = db.bolt.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketSourceDays, bucketSourceCount} {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Delete(metaActivity)
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	db, err = Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, err := db.Activity(t.Context(), t0.Add(48*time.Hour), 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Sources["alpha"]; got.Stored != 2 || got.Days[0] != 1 || got.Days[1] != 1 {
		t.Errorf("alpha = %+v, want 2 stored, one on each of the first two days", got)
	}
	if got := a.Sources["beta"]; got.Stored != 1 || got.Days[2] != 1 {
		t.Errorf("beta = %+v, want 1 stored on the third day", got)
	}
	if err := db.Check(t.Context()); err != nil {
		t.Error(err)
	}
}
