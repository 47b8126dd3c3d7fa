package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

func testPruneByAgeLeavesTombstones(t *testing.T, h harness) {
	db := h.open(t)
	old, young := mk("wire", "old", t0, "t"), mk("wire", "young", t0, "t")
	put(t, db, "wire", t0, old)
	put(t, db, "wire", t0.Add(48*time.Hour), young)

	n, err := db.Prune(t.Context(), store.Retention{MaxAge: 24 * time.Hour}, t0.Add(50*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("Prune deleted %d, want 1", n)
	}
	if _, err := db.Get(t.Context(), old.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(pruned) err = %v, want ErrNotFound", err)
	}
	for _, topic := range []string{"t", ""} {
		if got := recent(t, db, store.Query{Topic: topic}); !slices.Equal(got, []string{young.ID}) {
			t.Errorf("Recent(%q) after prune = %v, want only the young story", topic, got)
		}
		if info, _ := db.Topic(t.Context(), topic); info.Count != 1 {
			t.Errorf("Topic(%q).Count = %d, want 1", topic, info.Count)
		}
	}
	if since, _ := db.Since(t.Context(), "t", 0, 0); len(since) != 1 {
		t.Errorf("Since(t) lists %d stories, want 1", len(since))
	}

	// The upstream still lists the pruned story: it must not come back as new.
	res := put(t, db, "wire", t0.Add(51*time.Hour), old, young)
	if res.Skipped != 1 || res.New != 0 {
		t.Errorf("re-Put after prune = %+v, want the pruned story skipped", res)
	}

	// Long after, the tombstone expires and the id may be stored again.
	much := t0.Add(store.TombstoneTTL + 60*time.Hour)
	if _, err := db.Prune(t.Context(), store.Retention{}, much); err != nil {
		t.Fatal(err)
	}
	if st := stats(t, db); st.Tombstones != 0 {
		t.Errorf("Stats().Tombstones = %d after expiry, want 0", st.Tombstones)
	}
	if res := put(t, db, "wire", much, old); res.New != 1 {
		t.Errorf("Put after tombstone expiry = %+v, want new", res)
	}
}

func testPruneMaxStoriesKeepsNewestIngested(t *testing.T, h harness) {
	db := h.open(t)
	var batch []story.Story
	for i := range 2500 { // more than one prune batch
		batch = append(batch, mk("wire", fmt.Sprint(i), t0.Add(time.Duration(i)*time.Second), "t"))
	}
	put(t, db, "wire", t0, batch...)
	n, err := db.Prune(t.Context(), store.Retention{MaxStories: 100}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2400 {
		t.Errorf("Prune deleted %d, want 2400", n)
	}
	since, err := db.Since(t.Context(), "", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(since) != 100 || since[0].Seq != 2401 {
		t.Errorf("kept %d stories from seq %d, want 100 from 2401", len(since), since[0].Seq)
	}
	if st := stats(t, db); st.Stories != 100 || st.Tombstones != 2400 {
		t.Errorf("Stats() = %+v", st)
	}
	if n, _ := db.Prune(t.Context(), store.Retention{MaxStories: 100}, t0); n != 0 {
		t.Errorf("second Prune deleted %d, want 0", n)
	}
}

func testPruneDuplicates(t *testing.T, h harness) {
	db := h.open(t)
	first := mk("wire", "a", t0, "politics")
	first.Link = "https://news.example/story"
	first.Content = "the full text" // the better copy: it represents the group
	dup := mk("agency", "x", t0, "economy")
	dup.Link = first.Link
	put(t, db, "wire", t0, first)
	put(t, db, "agency", t0.Add(time.Hour), dup)

	// Pruning the first story takes its duplicate with it.
	n, err := db.Prune(t.Context(), store.Retention{MaxAge: 30 * time.Minute}, t0.Add(31*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("Prune deleted %d, want the first story and its duplicate", n)
	}
	if res := put(t, db, "agency", t0.Add(2*time.Hour), dup); res.Skipped != 1 {
		t.Errorf("re-Put of the pruned duplicate = %+v, want skipped", res)
	}

}
