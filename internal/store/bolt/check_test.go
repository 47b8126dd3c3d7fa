package bolt

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

// TestCheckFindsBrokenIndexes breaks one invariant at a time and expects
// Check to name it: a check that cannot fail proves nothing.
func TestCheckFindsBrokenIndexes(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		corrupt func(tx *bbolt.Tx, s story.Story) error
		want    string
	}{
		{"topic time entry lost", func(tx *bbolt.Tx, s story.Story) error {
			return activeGen(tx).Bucket(bucketTopTime).Bucket([]byte("t")).Delete(timeKey(s.Published, s.ID))
		}, "missing from topic t's time index"},
		{"stray topic entry", func(tx *bbolt.Tx, s story.Story) error {
			b, err := activeGen(tx).Bucket(bucketTopTime).CreateBucketIfNotExists([]byte("u"))
			if err != nil {
				return err
			}
			return b.Put(timeKey(s.Published, s.ID), nil)
		}, "does not belong there"},
		{"counter off", func(tx *bbolt.Tx, s story.Story) error {
			return addCounter(tx.Bucket(bucketMeta), metaStories, 1)
		}, "story counter"},
		{"all-stories entry lost", func(tx *bbolt.Tx, s story.Story) error {
			return tx.Bucket(bucketTime).Delete(timeKey(s.Published, s.ID))
		}, "not in the time index"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := Open(filepath.Join(t.TempDir(), "n.db"), Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var batch []story.Story
			for i := range 5 {
				batch = append(batch, story.Story{ID: fmt.Sprint("id", i), Source: "wire", Link: fmt.Sprint("https://x.example/", i),
					Title: "x", Published: t0.Add(time.Duration(i) * time.Minute), Topics: []string{"t"}})
			}
			if _, err := db.Put(t.Context(), "wire", store.SourceState{}, batch, t0); err != nil {
				t.Fatal(err)
			}
			if err := db.Check(t.Context()); err != nil {
				t.Fatalf("Check of a sound file: %v", err)
			}
			s, err := db.Get(t.Context(), "id2")
			if err != nil {
				t.Fatal(err)
			}
			if err := db.bolt.Update(func(tx *bbolt.Tx) error { return tt.corrupt(tx, s) }); err != nil {
				t.Fatal(err)
			}
			err = db.Check(t.Context())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Check = %v, want a problem saying %q", err, tt.want)
			}
		})
	}
}
