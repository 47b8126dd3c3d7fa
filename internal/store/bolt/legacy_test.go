package bolt

import (
	"bytes"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

// putInPlace stores v under stories/<id> itself, as files before bodies/
// held every story.
func putInPlace(b storyBucket, id, v []byte) error {
	if seq, ok := ref(b.ids.Get(id)); ok {
		if err := b.bodies.Delete(be64(seq)); err != nil {
			return err
		}
	}
	return b.ids.Put(id, v)
}

// makeLegacy turns db into a file of an older newsdesk: Story.Undated not in
// the JSON and, when noFlags, not even the seq/ flag (the oldest files).
func makeLegacy(t *testing.T, db *DB, noFlags bool) {
	t.Helper()
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
		seq, stories := tx.Bucket(bucketSeq), storiesOf(tx)
		var keys, vals [][]byte
		_ = seq.ForEach(func(k, v []byte) error {
			firstSeen, flags, id := splitSeqValue(v)
			s, err := decodeStory(stories.Get([]byte(id)))
			if err != nil {
				return err
			}
			if s.Undated && !noFlags {
				flags |= seqUndated
			}
			keys, vals = append(keys, bytes.Clone(k)), append(vals, seqValue(firstSeen, flags, id))
			s.Undated = false
			raw, err := encodeJSON(s) // such files held JSON
			if err != nil {
				return err
			}
			return putInPlace(stories, []byte(id), raw)
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

// served is everything readers get from db: each story by id, and the
// newest stories of every index, in order.
func served(t *testing.T, db *DB, ids []string, topics []string) map[string]any {
	t.Helper()
	out := map[string]any{}
	for _, id := range ids {
		s, err := db.Get(t.Context(), id)
		if err != nil {
			t.Fatalf("Get %s: %v", id, err)
		}
		out["get "+id] = s
	}
	for _, topic := range append([]string{""}, topics...) {
		p, err := db.Recent(t.Context(), store.Query{Topic: topic, Limit: 100})
		if err != nil {
			t.Fatalf("Recent %q: %v", topic, err)
		}
		out["recent "+topic] = p
		since, err := db.Since(t.Context(), topic, 0, 100)
		if err != nil {
			t.Fatalf("Since %q: %v", topic, err)
		}
		out["since "+topic] = since
	}
	return out
}

// TestOpenServesStoriesStoredAsJSON: a file whose stories are JSON, as
// every newsdesk before the binary form wrote them, serves the same
// stories; fetching them again unchanged writes nothing (they stay JSON),
// and a story that changes is rewritten in the binary form.
func TestOpenServesStoriesStoredAsJSON(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "newsdesk.db")
	db, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	shared := "https://news.example/shared"
	feeds := map[string][]story.Story{
		"alpha": {
			{ID: story.NewID("alpha", "1"), Source: "alpha", SourceTitle: "Alpha", Link: shared, Title: "Shared, undated",
				Content: "<p>a &amp; b</p>", ContentText: "a & b", Topics: []string{"border"}},
			{ID: story.NewID("alpha", "2"), Source: "alpha", Link: "https://alpha.example/2", Title: "Caf\u00e9 in Zurich",
				Authors: []story.Author{{Name: "A. Writer", Email: "a@alpha.example"}}, Categories: []string{"world", "europe"},
				Enclosures: []story.Enclosure{{URL: "https://alpha.example/2.mp3", Type: "audio/mpeg", Length: 1234, Duration: time.Minute}},
				Published:  t0.Add(-2 * time.Hour).In(time.FixedZone("", 3600)), Topics: []string{"economy", "border"}},
		},
		"zulu": {
			{ID: story.NewID("zulu", "1"), Source: "zulu", SourceTitle: "Zulu", Link: shared, Title: "Shared, dated",
				Enclosures: []story.Enclosure{{URL: "https://zulu.example/v.mp4", Type: "video/mp4"}},
				Categories: []string{"News"}, Image: "https://zulu.example/i.jpg", Published: t0.Add(-time.Hour), Topics: []string{"economy"}},
		},
	}
	var ids []string
	for _, src := range []string{"alpha", "zulu"} {
		for _, s := range feeds[src] {
			ids = append(ids, s.ID)
		}
		if _, err := db.Put(t.Context(), src, store.SourceState{Status: "ok"}, feeds[src], t0); err != nil {
			t.Fatal(err)
		}
	}
	topics := []string{"border", "economy"}
	want := served(t, db, ids, topics)
	if g := want["get "+feeds["alpha"][0].ID].(story.Story); g.DuplicateOf == "" && len(g.AlsoIn) == 0 {
		t.Fatal("the shared link made no link group: the test covers less than it says")
	}

	// Store every story as JSON, as the newsdesk before this one did.
	err = db.bolt.Update(func(tx *bbolt.Tx) error {
		b := storiesOf(tx)
		var keys, vals [][]byte
		if err := b.ForEach(func(k, v []byte) error {
			s, err := decodeStory(v)
			if err != nil {
				return err
			}
			j, err := encodeJSON(s)
			keys, vals = append(keys, bytes.Clone(k)), append(vals, j)
			return err
		}); err != nil {
			return err
		}
		for i := range keys {
			if err := putInPlace(b, keys[i], vals[i]); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(metaSchema, be64(schemaJSON))
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
	db.bolt.View(func(tx *bbolt.Tx) error {
		if got := uint64At(tx.Bucket(bucketMeta).Get(metaSchema)); got != schemaVersion {
			t.Errorf("a schema-%d file opened is schema %d, want %d (so an older newsdesk refuses its binary stories)", schemaJSON, got, schemaVersion)
		}
		return nil
	})
	if got := served(t, db, ids, topics); !reflect.DeepEqual(got, want) {
		t.Errorf("a file of JSON stories serves\n%+v\nwant\n%+v", got, want)
	}
	if err := db.Check(t.Context()); err != nil {
		t.Error(err)
	}

	jsonValues := func() (n int) {
		db.bolt.View(func(tx *bbolt.Tx) error {
			return tx.Bucket(bucketStories).ForEach(func(_, v []byte) error {
				if isJSON(v) {
					n++
				}
				return nil
			})
		})
		return n
	}
	for _, src := range []string{"alpha", "zulu"} {
		res, err := db.Put(t.Context(), src, store.SourceState{Status: "ok"}, feeds[src], t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if res.New+res.Updated != 0 || len(res.Topics) != 0 {
			t.Errorf("the same %s stories again, stored as JSON: %+v, want nothing changed", src, res)
		}
	}
	if n := jsonValues(); n != len(ids) {
		t.Errorf("%d of %d JSON stories left after an unchanged fetch, want all", n, len(ids))
	}

	edited := feeds["alpha"][1]
	edited.Title = "Café in Geneva"
	res, err := db.Put(t.Context(), "alpha", store.SourceState{Status: "ok"}, []story.Story{edited}, t0.Add(2*time.Hour))
	if err != nil || res.Updated != 1 {
		t.Fatalf("an edited story: %+v, %v; want 1 updated", res, err)
	}
	if n := jsonValues(); n != len(ids)-1 {
		t.Errorf("%d JSON stories after one was edited, want %d", n, len(ids)-1)
	}
	if g, err := db.Get(t.Context(), edited.ID); err != nil || g.Title != edited.Title || len(g.Enclosures) != 1 {
		t.Errorf("the edited story reads back as %+v, %v", g, err)
	}
	if err := db.Check(t.Context()); err != nil {
		t.Error(err)
	}
}

// TestOpenRefusesANewerSchema: a file a later newsdesk wrote, in a layout
// this one does not know, is refused with the reason, not misread.
func TestOpenRefusesANewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "newsdesk.db")
	db, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.bolt.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(metaSchema, be64(schemaVersion+1))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err := Open(path, Options{NoSync: true}); err == nil {
		db.Close()
		t.Fatal("Open of a newer schema: no error")
	} else if want := fmt.Sprintf("store schema %d", schemaVersion+1); !strings.Contains(err.Error(), want) {
		t.Errorf("Open of a newer schema: %v, want it to say %q", err, want)
	}
}

// TestCheckFindsALostBody: a story whose body is gone, or a body no story
// refers to, is damage Check reports.
func TestCheckFindsALostBody(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "newsdesk.db"), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := story.Story{ID: story.NewID("alpha", "1"), Source: "alpha", Link: "https://alpha.example/1", Title: "One"}
	if _, err := db.Put(t.Context(), "alpha", store.SourceState{}, []story.Story{s}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := db.Check(t.Context()); err != nil {
		t.Fatal(err)
	}
	var body []byte
	move := func(from, to uint64) {
		t.Helper()
		if err := db.bolt.Update(func(tx *bbolt.Tx) error {
			b := tx.Bucket(bucketBodies)
			body = bytes.Clone(b.Get(be64(from)))
			if err := b.Delete(be64(from)); err != nil {
				return err
			}
			if to == 0 {
				return nil
			}
			return b.Put(be64(to), body)
		}); err != nil {
			t.Fatal(err)
		}
	}
	move(1, 0)
	if err := db.Check(t.Context()); err == nil || !strings.Contains(err.Error(), "empty story value") {
		t.Errorf("Check with a story's body gone: %v", err)
	}
	db.bolt.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketBodies).Put(be64(1), body) })
	db.bolt.Update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketBodies).Put(be64(7), body) })
	if err := db.Check(t.Context()); err == nil || !strings.Contains(err.Error(), "2 story bodies stored, 1 stories refer to one") {
		t.Errorf("Check with a body no story refers to: %v", err)
	}
}

// TestStoryBodiesKeepTheirStory: storing a story under a Seq another story
// holds (an import that repeats one) fails, and the other still reads.
func TestStoryBodiesKeepTheirStory(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "newsdesk.db"), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a := story.Story{ID: story.NewID("alpha", "a"), Seq: 5, Title: "A"}
	b := story.Story{ID: story.NewID("alpha", "b"), Seq: 5, Title: "B"}
	err = db.bolt.Update(func(tx *bbolt.Tx) error {
		stories := storiesOf(tx)
		for i, s := range []story.Story{a, b} {
			v, err := encode(s)
			if err != nil {
				return err
			}
			err = stories.Put([]byte(s.ID), v)
			if i == 0 && err != nil {
				return err
			}
			if i == 1 && err == nil {
				t.Error("a second story under Seq 5: no error")
			}
		}
		got, err := decodeStory(stories.Get([]byte(a.ID)))
		if err != nil || got.Title != "A" {
			t.Errorf("story A reads as %+v, %v", got, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
