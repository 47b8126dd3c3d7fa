package bolt

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

// makeLegacy turns db into a file of an older newsdesk: Story.Undated not in
// the JSON and, when noFlags, not even the seq/ flag (the oldest files).
func makeLegacy(t *testing.T, db *DB, noFlags bool) {
	t.Helper()
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
		seq, stories := tx.Bucket(bucketSeq), tx.Bucket(bucketStories)
		var keys, vals [][]byte
		_ = seq.ForEach(func(k, v []byte) error {
			firstSeen, flags, id := splitSeqValue(v)
			var s story.Story
			if err := json.Unmarshal(stories.Get([]byte(id)), &s); err != nil {
				return err
			}
			if s.Undated && !noFlags {
				flags |= seqUndated
			}
			keys, vals = append(keys, bytes.Clone(k)), append(vals, seqValue(firstSeen, flags, id))
			s.Undated = false
			raw, err := encode(s)
			if err != nil {
				return err
			}
			return stories.Put([]byte(id), raw)
		})
		for i := range keys {
			if err := seq.Put(keys[i], vals[i]); err != nil {
				return err
			}
		}
		if noFlags {
			if err := tx.Bucket(bucketMeta).Delete(metaUndated); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Delete(metaUndatedStory)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOpenMarksUndatedInOlderFiles(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name    string
		noFlags bool
	}{{"seq flags", false}, {"nothing recorded", true}} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "newsdesk.db")
			db, err := Open(path, Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			link := "https://news.example/story"
			stub := story.Story{ID: story.NewID("alpha", "k"), Source: "alpha", Link: link, Title: "stub"}
			dated := story.Story{ID: story.NewID("zulu", "other"), Source: "zulu", Link: "https://zulu.example/x", Title: "x", Published: t0.Add(-time.Hour)}
			for _, s := range []story.Story{stub, dated} {
				if _, err := db.Put(t.Context(), s.Source, store.SourceState{}, []story.Story{s}, t0); err != nil {
					t.Fatal(err)
				}
			}
			makeLegacy(t, db, tt.noFlags)
			if g, _ := db.Get(t.Context(), stub.ID); g.Undated {
				t.Fatal("makeLegacy left Undated in the story")
			}
			db.Close()

			db, err = Open(path, Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if g, _ := db.Get(t.Context(), stub.ID); !g.Undated {
				t.Error("Open of an older file did not mark the undated story")
			}
			if g, _ := db.Get(t.Context(), dated.ID); g.Undated {
				t.Error("Open of an older file marked a dated story undated")
			}
			// The flag now decides: a dated copy from a later-sorting source wins.
			full := story.Story{ID: story.NewID("zulu", "k"), Source: "zulu", Link: link, Title: "full", Published: t0.Add(-time.Hour)}
			if _, err := db.Put(t.Context(), "zulu", store.SourceState{}, []story.Story{full}, t0.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if g, _ := db.Get(t.Context(), stub.ID); g.DuplicateOf != full.ID {
				t.Errorf("stub DuplicateOf = %q, want the dated copy %s", g.DuplicateOf, full.ID)
			}
			if err := db.Check(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
}
