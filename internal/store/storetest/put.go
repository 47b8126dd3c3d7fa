package storetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

func testPutNewUpdatedUnchanged(t *testing.T, h harness) {
	db := h.open(t)
	a, b := mk("wire", "a", t0, "politics"), mk("wire", "b", time.Time{}, "sport")
	res := put(t, db, "wire", t0, a, b)
	if res.New != 2 || res.Updated+res.Unchanged+res.Skipped != 0 {
		t.Fatalf("first Put = %+v, want 2 new", res)
	}
	if !slices.Equal(res.Topics, []string{"politics", "sport"}) {
		t.Errorf("first Put topics = %v", res.Topics)
	}
	ga, gb := get(t, db, a.ID), get(t, db, b.ID)
	if ga.Seq != 1 || gb.Seq != 2 {
		t.Errorf("seqs = %d, %d; want 1, 2", ga.Seq, gb.Seq)
	}
	if !ga.FirstSeen.Equal(t0) || !ga.Published.Equal(t0) || !ga.Updated.Equal(t0) {
		t.Errorf("a times = %v %v %v, want all %v", ga.FirstSeen, ga.Published, ga.Updated, t0)
	}
	// b comes after the dated a in the feed: it is placed one step below it.
	undatedAt := t0.Add(-store.UndatedStep)
	if !gb.Published.Equal(undatedAt) || !gb.Undated || ga.Undated {
		t.Errorf("b without a date: Published = %v (undated %v), want %v, undated", gb.Published, gb.Undated, undatedAt)
	}

	later := t0.Add(time.Hour)
	a2 := a
	a2.Title = "title a, corrected"
	a2.FirstSeen = later // what parse sets: the store must keep the first one
	res = put(t, db, "wire", later, a2, b)
	if res.Updated != 1 || res.Unchanged != 1 || res.New != 0 {
		t.Fatalf("second Put = %+v, want 1 updated, 1 unchanged", res)
	}
	if !slices.Equal(res.Topics, []string{"politics"}) {
		t.Errorf("second Put topics = %v, want the updated story's topic only", res.Topics)
	}
	ga, gb = get(t, db, a.ID), get(t, db, b.ID)
	if ga.Title != a2.Title || ga.Seq != 1 || !ga.FirstSeen.Equal(t0) {
		t.Errorf("updated a = seq %d first seen %v title %q", ga.Seq, ga.FirstSeen, ga.Title)
	}
	if !gb.Published.Equal(undatedAt) {
		t.Errorf("b re-fetched without a date: Published = %v, want the stored %v", gb.Published, undatedAt)
	}

	res = put(t, db, "wire", later.Add(time.Hour), a2, b)
	if res.Unchanged != 2 || len(res.Topics) != 0 {
		t.Errorf("third Put of the same content = %+v, want 2 unchanged and no topic change", res)
	}
}

func testPutMovesIndexKeys(t *testing.T, h harness) {
	db := h.open(t)
	a, b := mk("wire", "a", t0, "t"), mk("wire", "b", t0.Add(time.Minute), "t")
	put(t, db, "wire", t0, a, b)
	if got := recent(t, db, store.Query{Topic: "t"}); !slices.Equal(got, []string{b.ID, a.ID}) {
		t.Fatalf("before = %v", got)
	}
	a.Published = t0.Add(time.Hour) // upstream re-dated a
	put(t, db, "wire", t0, a)
	for _, topic := range []string{"t", ""} {
		if got := recent(t, db, store.Query{Topic: topic}); !slices.Equal(got, []string{a.ID, b.ID}) {
			t.Errorf("Recent(%q) after re-date = %v, want a then b, once each", topic, got)
		}
	}
	if info, _ := db.Topic(t.Context(), "t"); info.Count != 2 || !info.Newest.Equal(a.Published) {
		t.Errorf("Topic(t) = %+v, want count 2, newest %v", info, a.Published)
	}
}

func testPutTopicChangeOnUnchangedStory(t *testing.T, h harness) {
	db := h.open(t)
	a := mk("wire", "a", t0, "old")
	put(t, db, "wire", t0, a)
	a.Topics = []string{"new"}
	res := put(t, db, "wire", t0, a)
	if res.Unchanged != 1 || !slices.Equal(res.Topics, []string{"new", "old"}) {
		t.Errorf("Put = %+v, want unchanged with topics [new old]", res)
	}
	if got := recent(t, db, store.Query{Topic: "old"}); len(got) != 0 {
		t.Errorf("old topic still lists %v", got)
	}
	if got := recent(t, db, store.Query{Topic: "new"}); !slices.Equal(got, []string{a.ID}) {
		t.Errorf("new topic lists %v", got)
	}
	if info, _ := db.Topic(t.Context(), "old"); info.Count != 0 {
		t.Errorf("Topic(old).Count = %d, want 0", info.Count)
	}
	if got := get(t, db, a.ID).Topics; !slices.Equal(got, []string{"new"}) {
		t.Errorf("Get().Topics = %v", got)
	}
}

func testPutRejectsBadID(t *testing.T, h harness) {
	db := h.open(t)
	good := mk("wire", "good", t0, "t")
	for _, bad := range []story.Story{{Title: "no id"}, {ID: strings.Repeat("x", store.MaxIDLen+1), Title: "long id"}} {
		if _, err := db.Put(t.Context(), "wire", store.SourceState{Status: "ok"}, []story.Story{good, bad}, t0); err == nil {
			t.Errorf("Put of a story with id %q succeeded", bad.ID)
		}
	}
	// One bad story fails the whole Put: nothing of it is stored.
	if got := recent(t, db, store.Query{}); len(got) != 0 {
		t.Errorf("a failed Put stored %v", got)
	}
	if st, _ := db.Source(t.Context(), "wire"); st.Status != "" {
		t.Errorf("a failed Put stored the source state %+v", st)
	}
	if _, err := db.Get(t.Context(), good.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(good) after a failed Put: err = %v, want ErrNotFound", err)
	}
	// An id of exactly MaxIDLen bytes is fine.
	edge := mk("wire", "edge", t0)
	edge.ID = strings.Repeat("y", store.MaxIDLen)
	if res := put(t, db, "wire", t0, edge); res.New != 1 {
		t.Errorf("Put of a %d-byte id = %+v", store.MaxIDLen, res)
	}
}

func testPutAfterCancel(t *testing.T, h harness) {
	db := h.open(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := db.Put(ctx, "wire", store.SourceState{Status: "ok"}, []story.Story{mk("wire", "a", t0)}, t0); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with a cancelled context: err = %v, want context.Canceled", err)
	}
	if got := recent(t, db, store.Query{}); len(got) != 0 {
		t.Errorf("a cancelled Put stored %v", got)
	}
}

func testCrossSourceDedupe(t *testing.T, h harness) {
	db := h.open(t)
	first := mk("wire", "a", t0, "politics")
	first.Link = "https://news.example/story"
	put(t, db, "wire", t0, first)

	dup := mk("agency", "x", t0.Add(time.Minute), "economy")
	dup.Link = first.Link
	sameSource := mk("wire", "b", t0.Add(2*time.Minute))
	sameSource.Link = first.Link
	res := put(t, db, "agency", t0.Add(time.Hour), dup)
	if res.New != 1 || !slices.Equal(res.Topics, []string{"economy", "politics"}) {
		t.Errorf("Put dup = %+v, want 1 new and both topics changed", res)
	}
	put(t, db, "wire", t0.Add(time.Hour), sameSource)

	gd := get(t, db, dup.ID)
	if gd.DuplicateOf != first.ID {
		t.Errorf("dup.DuplicateOf = %q, want %q", gd.DuplicateOf, first.ID)
	}
	gf := get(t, db, first.ID)
	want := []story.Ref{{Source: "agency", Title: "AGENCY", ID: dup.ID}}
	if !slices.Equal(gf.AlsoIn, want) {
		t.Errorf("first.AlsoIn = %+v, want %+v", gf.AlsoIn, want)
	}
	if !slices.Equal(gf.Topics, []string{"economy", "politics"}) {
		t.Errorf("first.Topics = %v, want the union", gf.Topics)
	}
	if gs := get(t, db, sameSource.ID); gs.DuplicateOf != "" {
		t.Errorf("same-source story with the same link became a duplicate of %q", gs.DuplicateOf)
	}

	if got := recent(t, db, store.Query{}); !slices.Equal(got, []string{sameSource.ID, first.ID}) {
		t.Errorf("Recent(all) = %v, want the same-source story and the first story, no duplicate", got)
	}
	if got := recent(t, db, store.Query{Topic: "economy"}); !slices.Equal(got, []string{first.ID}) {
		t.Errorf("Recent(economy) = %v, want the first story standing in for the dup", got)
	}
	since, err := db.Since(t.Context(), "", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(since); !slices.Equal(got, []string{first.ID, sameSource.ID}) {
		t.Errorf("Since(all) = %v, want no duplicate", got)
	}

	// Re-fetching the duplicate neither adds a second Ref nor moves it.
	dup.Topics = []string{"sport"}
	res = put(t, db, "agency", t0.Add(2*time.Hour), dup)
	if res.Unchanged != 1 || !slices.Equal(res.Topics, []string{"economy", "sport"}) {
		t.Errorf("re-Put dup with new topics = %+v", res)
	}
	gf = get(t, db, first.ID)
	if len(gf.AlsoIn) != 1 || !slices.Equal(gf.Topics, []string{"politics", "sport"}) {
		t.Errorf("first after dup re-classified: AlsoIn %+v, Topics %v", gf.AlsoIn, gf.Topics)
	}
	if info, _ := db.Topic(t.Context(), ""); info.Count != 2 {
		t.Errorf("Topic(\"\").Count = %d, want 2 (duplicates not counted)", info.Count)
	}
}
