package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

func testReclassify(t *testing.T, h harness) {
	db := h.open(t)
	var batch []story.Story
	for i := range 6 {
		batch = append(batch, mk("wire", fmt.Sprint(i), t0.Add(time.Duration(i)*time.Minute), "old"))
	}
	batch[0].Topics = []string{"old", "kept"}
	put(t, db, "wire", t0, batch...)
	dup := mk("agency", "x", t0, "old")
	dup.Link = batch[1].Link
	dup.Title = "dup title"
	dup.Published = batch[1].Published.Add(time.Hour) // a later republication: batch[1] represents the group
	put(t, db, "agency", t0, dup)

	before := recent(t, db, store.Query{Topic: "old"})
	var during []string
	classify := func(s story.Story) []string {
		if during == nil {
			// A reader in another goroutine while the rebuild is under way
			// sees the old indexes.
			done := make(chan []string)
			go func() { done <- recent(t, db, store.Query{Topic: "old"}) }()
			during = <-done
		}
		var out []string
		if s.ID == batch[0].ID {
			out = append(out, "kept")
		}
		if strings.HasSuffix(s.Title, "title 3") || s.Title == "dup title" {
			out = append(out, "new")
		}
		return out
	}
	changed, err := db.Reclassify(t.Context(), classify)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(during, before) {
		t.Errorf("reader during Reclassify saw %v, want the old index %v", during, before)
	}
	if !slices.Equal(changed, []string{"new", "old"}) {
		t.Errorf("changed = %v, want [new old] (kept did not change)", changed)
	}
	if got := recent(t, db, store.Query{Topic: "old"}); len(got) != 0 {
		t.Errorf("old topic still lists %v", got)
	}
	if since, _ := db.Since(t.Context(), "old", 0, 0); len(since) != 0 {
		t.Errorf("old topic's seq index still lists %d stories", len(since))
	}
	// The duplicate's topic is indexed on the story it duplicates.
	want := []string{batch[3].ID, batch[1].ID}
	if got := recent(t, db, store.Query{Topic: "new"}); !slices.Equal(got, want) {
		t.Errorf("new topic = %v, want %v", got, want)
	}
	tests := []struct {
		slug  string
		count int
	}{{"old", 0}, {"new", 2}, {"kept", 1}}
	for _, tt := range tests {
		if info, _ := db.Topic(t.Context(), tt.slug); info.Count != tt.count {
			t.Errorf("Topic(%q).Count = %d, want %d", tt.slug, info.Count, tt.count)
		}
	}
	if got := get(t, db, batch[1].ID).Topics; !slices.Equal(got, []string{"new"}) {
		t.Errorf("Get(first).Topics = %v, want [new] from its duplicate", got)
	}

	// Put keeps working on the new generation, and a second run with the
	// same classifier changes nothing.
	res := put(t, db, "wire", t0, mk("wire", "late", t0.Add(time.Hour), "new"))
	if res.New != 1 || !slices.Equal(res.Topics, []string{"new"}) {
		t.Errorf("Put after Reclassify = %+v", res)
	}
	changed, err = db.Reclassify(t.Context(), func(s story.Story) []string {
		if s.Title == "title late" {
			return []string{"new"}
		}
		during = nil
		return classify(s)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != 0 {
		t.Errorf("idempotent Reclassify changed %v", changed)
	}
	if info, _ := db.Topic(t.Context(), "new"); info.Count != 3 {
		t.Errorf("Topic(new).Count = %d, want 3", info.Count)
	}
}

func testReclassifyManyStories(t *testing.T, h harness) {
	const n = 250 // several rebuild batches, where an engine has them (bolt's tests run the suite with small ones)
	db := h.open(t)
	var batch []story.Story
	for i := range n {
		batch = append(batch, mk("wire", fmt.Sprint(i), t0.Add(time.Duration(i)*time.Second), "all"))
	}
	for chunk := range slices.Chunk(batch, 100) {
		put(t, db, "wire", t0, chunk...)
	}
	changed, err := db.Reclassify(t.Context(), func(s story.Story) []string { return []string{"all", "again"} })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(changed, []string{"again"}) {
		t.Errorf("changed = %v", changed)
	}
	for _, slug := range []string{"all", "again"} {
		if info, _ := db.Topic(t.Context(), slug); info.Count != n {
			t.Errorf("Topic(%q).Count = %d", slug, info.Count)
		}
	}
	page, err := db.Recent(t.Context(), store.Query{Topic: "again", Limit: 1})
	if err != nil || len(page.Stories) != 1 || page.Stories[0].ID != batch[len(batch)-1].ID {
		t.Errorf("newest in again = %+v, %v", page.Stories, err)
	}
}

// TestReclassifyWithConcurrentPut runs Put while Reclassify rebuilds: the
// writers take turns, and every index agrees with its count afterwards.
func testReclassifyWithConcurrentPut(t *testing.T, h harness) {
	db := h.open(t)
	var batch []story.Story
	for i := range 200 {
		batch = append(batch, mk("wire", fmt.Sprint(i), t0.Add(time.Duration(i)*time.Second), "a"))
	}
	put(t, db, "wire", t0, batch...)

	done := make(chan error)
	go func() {
		_, err := db.Reclassify(t.Context(), func(s story.Story) []string { return []string{"b"} })
		done <- err
	}()
	for i := range 20 {
		put(t, db, "agency", t0, mk("agency", fmt.Sprint(i), t0.Add(time.Hour), "a"))
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, slug := range []string{"a", "b"} {
		info, err := db.Topic(t.Context(), slug)
		if err != nil {
			t.Fatal(err)
		}
		listed := recent(t, db, store.Query{Topic: slug, Limit: 1000})
		since, err := db.Since(t.Context(), slug, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if info.Count != len(listed) || len(since) != len(listed) {
			t.Errorf("topic %s: count %d, Recent lists %d, Since lists %d", slug, info.Count, len(listed), len(since))
		}
		total += len(listed)
	}
	if total != 220 {
		t.Errorf("topics hold %d stories, want each of 220 in exactly one", total)
	}
}

// testReclassifyCancelled cancels a rebuild half-way: the old indexes stay
// whole and in use, and the next Reclassify starts afresh.
func testReclassifyCancelled(t *testing.T, h harness) {
	db := h.open(t)
	var batch []story.Story
	for i := range 100 {
		batch = append(batch, mk("wire", fmt.Sprint(i), t0.Add(time.Duration(i)*time.Second), "old"))
	}
	put(t, db, "wire", t0, batch...)
	ctx, cancel := context.WithCancel(t.Context())
	calls := 0
	_, err := db.Reclassify(ctx, func(s story.Story) []string {
		if calls++; calls == 50 {
			cancel()
		}
		return []string{"new"}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Reclassify: err = %v, want context.Canceled", err)
	}
	if calls > 60 {
		t.Errorf("classify ran %d times after the cancel at 50", calls-50)
	}
	if info, _ := db.Topic(t.Context(), "old"); info.Count != 100 {
		t.Errorf("Topic(old).Count = %d after a cancelled Reclassify, want 100", info.Count)
	}
	if got := recent(t, db, store.Query{Topic: "new"}); len(got) != 0 {
		t.Errorf("a cancelled Reclassify left %d stories in its topic", len(got))
	}
	res := put(t, db, "wire", t0, mk("wire", "late", t0.Add(time.Hour), "old"))
	if res.New != 1 || !slices.Equal(res.Topics, []string{"old"}) {
		t.Errorf("Put after a cancelled Reclassify = %+v", res)
	}
	changed, err := db.Reclassify(t.Context(), func(s story.Story) []string { return []string{"new"} })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(changed, []string{"new", "old"}) {
		t.Errorf("Reclassify after a cancelled one changed %v", changed)
	}
	if info, _ := db.Topic(t.Context(), "new"); info.Count != 101 {
		t.Errorf("Topic(new).Count = %d, want 101", info.Count)
	}
}
