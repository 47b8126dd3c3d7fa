package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

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
	// LastSuccess as ingest sets it: only a source's first Put is a backlog.
	res, err := db.Put(t.Context(), source, store.SourceState{Status: "ok", LastSuccess: now}, stories, now)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func get(t testing.TB, db store.Store, id string) story.Story {
	t.Helper()
	s, err := db.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func stats(t testing.TB, db store.Store) store.Stats {
	t.Helper()
	st, err := db.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func ids(stories []story.Story) []string {
	out := make([]string, len(stories))
	for i, s := range stories {
		out[i] = s.ID
	}
	return out
}

func recent(t testing.TB, db store.Store, q store.Query) []string {
	t.Helper()
	page, err := db.Recent(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	return ids(page.Stories)
}

func testReopenKeepsStoriesAndSources(t *testing.T, h harness) {
	open := h.durable(t)
	db := open()
	st := store.SourceState{ETag: `"abc"`, LastModified: "Sun, 01 Nov 2026 12:00:00 GMT", Status: "ok",
		LastSuccess: t0, NextFetch: t0.Add(time.Hour), Failures: 2, LastStatus: 200,
		MovedFrom: "http://old.example/feed", MovedTo: "https://new.example/feed",
		Warnings: []string{`item 2 (id "b-2"): "tags" is a string, not an array; field ignored`, "item 5 is a number, not an object; skipped"}}
	s := mk("wire", "a", t0, "politics")
	if _, err := db.Put(t.Context(), "wire", st, []story.Story{s}, t0); err != nil {
		t.Fatal(err)
	}
	if err := db.PutSource(t.Context(), "other", store.SourceState{Status: "failing", LastError: "timeout",
		Warnings: []string{"feed: \"title\" is a number, not a string; field ignored"}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = open()
	defer db.Close()
	defer check(t, db)
	got, err := db.Source(t.Context(), "wire")
	if err != nil {
		t.Fatal(err)
	}
	if got.ETag != st.ETag || got.LastModified != st.LastModified || !got.NextFetch.Equal(st.NextFetch) || got.Failures != 2 ||
		got.MovedFrom != st.MovedFrom || got.MovedTo != st.MovedTo || !slices.Equal(got.Warnings, st.Warnings) {
		t.Errorf("Source(wire) = %+v, want %+v", got, st)
	}
	all, err := db.Sources(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all["other"].LastError != "timeout" || len(all["other"].Warnings) != 1 ||
		!slices.Equal(all["wire"].Warnings, st.Warnings) {
		t.Errorf("Sources() = %+v", all)
	}
	if unknown, err := db.Source(t.Context(), "nope"); err != nil || !reflect.DeepEqual(unknown, store.SourceState{}) {
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

func testGetUnknown(t *testing.T, h harness) {
	db := h.open(t)
	if _, err := db.Get(t.Context(), "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(nope) err = %v, want ErrNotFound", err)
	}
}

func testStats(t *testing.T, h harness) {
	db := h.open(t)
	if st := stats(t, db); st.Stories != 0 || st.Tombstones != 0 {
		t.Errorf("Stats() of a new store = %+v", st)
	}
	var batch []story.Story
	for i := range 200 {
		batch = append(batch, mk("wire", fmt.Sprint(i), t0.Add(time.Duration(i)*time.Minute), "t"))
	}
	put(t, db, "wire", t0, batch...)
	dup := mk("agency", "dup", t0)
	dup.Link = batch[199].Link
	put(t, db, "agency", t0, dup)
	if st := stats(t, db); st.Stories != 201 || st.FileSize <= 0 {
		t.Errorf("Stats() = %+v, want 201 stories (the duplicate counted) and a size", st)
	}
	if _, err := db.Prune(t.Context(), store.Retention{MaxStories: 51}, t0); err != nil {
		t.Fatal(err)
	}
	if st := stats(t, db); st.Stories != 51 || st.Tombstones != 150 {
		t.Errorf("Stats() after Prune = %+v, want 51 stories, 150 tombstones", st)
	}
}

func testMetaSurvivesReopen(t *testing.T, h harness) {
	open := h.durable(t)
	db := open()
	if v, err := db.Meta(t.Context(), "topics"); err != nil || v != "" {
		t.Errorf("Meta of a new store = %q, %v; want empty", v, err)
	}
	// Keys an engine may use itself must not clash with the caller's.
	for _, key := range []string{"topics", "schema", "gen", "n", "version", "seq", ""} {
		if err := db.SetMeta(t.Context(), key, "v-"+key); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SetMeta(t.Context(), "topics", "v-topics"); err != nil {
		t.Fatal(err) // a second write replaces the first
	}
	check(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = open()
	defer db.Close()
	if v, _ := db.Meta(t.Context(), "topics"); v != "v-topics" {
		t.Errorf("Meta(topics) = %q after reopen", v)
	}
	if v, _ := db.Meta(t.Context(), "seq"); v != "v-seq" {
		t.Errorf("Meta(seq) = %q after reopen", v)
	}
	put(t, db, "wire", t0, mk("wire", "a", t0, "t"))
	if got := recent(t, db, store.Query{Topic: "t"}); len(got) != 1 {
		t.Errorf("store unusable after SetMeta of store-like keys: %v", got)
	}
	check(t, db)
}

func testBackup(t *testing.T, h harness) {
	db := h.open(t)
	var batch []story.Story
	for i := range 100 {
		batch = append(batch, mk("wire", fmt.Sprint(i), t0.Add(time.Duration(i)*time.Minute), "t"))
	}
	put(t, db, "wire", t0, batch...)
	// A backup runs while the store is in use: Puts go on beside it.
	done := make(chan error, 1)
	go func() {
		for i := range 20 {
			if _, err := db.Put(t.Context(), "agency", store.SourceState{}, []story.Story{mk("agency", fmt.Sprint(i), t0)}, t0); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	var buf bytes.Buffer
	if err := db.Backup(t.Context(), &buf); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if buf.Len() == 0 {
		t.Error("Backup wrote nothing")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := db.Backup(ctx, io.Discard); !errors.Is(err, context.Canceled) {
		t.Errorf("Backup with a cancelled context: err = %v, want context.Canceled", err)
	}
}
