package storetest

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

// seed stores n stories of topic t, three per timestamp, and returns their
// ids newest first (ties broken by id, as the index sorts them).
func seed(t testing.TB, db store.Store, n int) []string {
	t.Helper()
	var batch []story.Story
	for i := range n {
		batch = append(batch, mk("wire", fmt.Sprint(i), t0.Add(time.Duration(i/3)*time.Minute), "t"))
	}
	put(t, db, "wire", t0, batch...)
	slices.SortFunc(batch, func(a, b story.Story) int {
		if c := b.Published.Compare(a.Published); c != 0 {
			return c
		}
		return -compareStrings(a.ID, b.ID)
	})
	return ids(batch)
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func testRecentPagesWithoutGapsOrRepeats(t *testing.T, h harness) {
	db := h.open(t)
	want := seed(t, db, 25)
	for _, limit := range []int{1, 3, 7, 25, 26} {
		t.Run(fmt.Sprint("limit ", limit), func(t *testing.T) {
			var got []string
			q := store.Query{Topic: "t", Limit: limit}
			for pages := 0; ; pages++ {
				if pages > 30 {
					t.Fatal("paging does not end")
				}
				page, err := db.Recent(t.Context(), q)
				if err != nil {
					t.Fatal(err)
				}
				if len(page.Stories) > limit {
					t.Fatalf("page of %d stories, limit %d", len(page.Stories), limit)
				}
				got = append(got, ids(page.Stories)...)
				if page.Next == "" {
					break
				}
				q.Before = page.Next
			}
			if !slices.Equal(got, want) {
				t.Errorf("pages joined = %v\nwant %v", got, want)
			}
		})
	}
	if got := recent(t, db, store.Query{}); !slices.Equal(got, want) {
		t.Errorf("Recent(all) = %v, want %v", got, want)
	}
}

func testRecentLastFullPageHasNoNext(t *testing.T, h harness) {
	db := h.open(t)
	seed(t, db, 6)
	page, err := db.Recent(t.Context(), store.Query{Topic: "t", Limit: 6})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Stories) != 6 || page.Next != "" {
		t.Errorf("got %d stories, Next %q; want 6 and no Next", len(page.Stories), page.Next)
	}
}

func testRecentNotBefore(t *testing.T, h harness) {
	db := h.open(t)
	want := seed(t, db, 12) // minutes 0..3, three stories each
	got := recent(t, db, store.Query{Topic: "t", NotBefore: t0.Add(2 * time.Minute)})
	if !slices.Equal(got, want[:6]) {
		t.Errorf("NotBefore minute 2 = %v, want the 6 stories of minutes 2 and 3", got)
	}
	page, err := db.Recent(t.Context(), store.Query{Topic: "t", Limit: 6, NotBefore: t0.Add(2 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if page.Next != "" {
		t.Errorf("Next = %q, want none: the rest is older than NotBefore", page.Next)
	}
}

func testRecentLimits(t *testing.T, h harness) {
	db := h.open(t)
	seed(t, db, 60)
	tests := []struct {
		name  string
		limit int
		want  int
	}{
		{"zero means the default", 0, store.DefaultLimit},
		{"negative means the default", -5, store.DefaultLimit},
		{"explicit", 10, 10},
		{"more than stored", 500, 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := recent(t, db, store.Query{Topic: "t", Limit: tt.limit}); len(got) != tt.want {
				t.Errorf("Limit %d gave %d stories, want %d", tt.limit, len(got), tt.want)
			}
		})
	}
	if got := recent(t, db, store.Query{Topic: "unknown"}); len(got) != 0 {
		t.Errorf("unknown topic lists %v", got)
	}
}

func testRecentBadCursor(t *testing.T, h harness) {
	db := h.open(t)
	seed(t, db, 3)
	tests := []struct{ name, cursor string }{
		{"not base64url", "@@@"},
		{"padding is not ours", "AAAAAAAAAAAA=="},
		{"too short for time and id", "AAAAAAAAAAA"},
		{"too long for an id", base64.RawURLEncoding.EncodeToString(make([]byte, 600))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := db.Recent(t.Context(), store.Query{Topic: "t", Before: tt.cursor})
			if !errors.Is(err, store.ErrBadCursor) {
				t.Errorf("Recent(Before %q) err = %v, want ErrBadCursor", tt.cursor, err)
			}
		})
	}
}

func testSinceAscendingSeq(t *testing.T, h harness) {
	db := h.open(t)
	// Published order is the reverse of ingest order: Since must follow Seq.
	var batch []story.Story
	for i := range 10 {
		topics := []string{"odd"}
		if i%2 == 0 {
			topics = []string{"even"}
		}
		batch = append(batch, mk("wire", fmt.Sprint(i), t0.Add(-time.Duration(i)*time.Minute), topics...))
	}
	put(t, db, "wire", t0, batch...)
	tests := []struct {
		name  string
		topic string
		after uint64
		limit int
		want  []uint64
	}{
		{"all from the start", "", 0, 0, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{"all after 7", "", 7, 0, []uint64{8, 9, 10}},
		{"limited", "", 2, 3, []uint64{3, 4, 5}},
		{"topic", "odd", 0, 0, []uint64{2, 4, 6, 8, 10}},
		{"topic after 4", "even", 4, 0, []uint64{5, 7, 9}},
		{"nothing newer", "", 10, 0, nil},
		{"unknown topic", "none", 0, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.Since(t.Context(), tt.topic, tt.after, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			var seqs []uint64
			for _, s := range got {
				seqs = append(seqs, s.Seq)
			}
			if !slices.Equal(seqs, tt.want) {
				t.Errorf("Since(%q, %d, %d) seqs = %v, want %v", tt.topic, tt.after, tt.limit, seqs, tt.want)
			}
		})
	}
}

func testTopicInfo(t *testing.T, h harness) {
	db := h.open(t)
	if info, err := db.Topic(t.Context(), "t"); err != nil || info != (store.TopicInfo{}) {
		t.Errorf("Topic of an empty store = %+v, %v", info, err)
	}
	put(t, db, "wire", t0, mk("wire", "a", t0, "t"), mk("wire", "b", t0.Add(time.Hour), "t", "u"))
	later := t0.Add(24 * time.Hour)
	put(t, db, "wire", later, mk("wire", "c", t0.Add(-time.Hour), "u"))

	tests := []struct {
		slug string
		want store.TopicInfo
	}{
		{"t", store.TopicInfo{Count: 2, Newest: t0.Add(time.Hour), Changed: t0}},
		{"u", store.TopicInfo{Count: 2, Newest: t0.Add(time.Hour), Changed: later}},
		{"", store.TopicInfo{Count: 3, Newest: t0.Add(time.Hour), Changed: later}},
	}
	for _, tt := range tests {
		got, err := db.Topic(t.Context(), tt.slug)
		if err != nil {
			t.Fatal(err)
		}
		if got.Count != tt.want.Count || !got.Newest.Equal(tt.want.Newest) || !got.Changed.Equal(tt.want.Changed) {
			t.Errorf("Topic(%q) = %+v, want %+v", tt.slug, got, tt.want)
		}
	}
}

// testRecentCursorOutlivesItsStory pages on after the story a cursor came
// from was pruned: a cursor names a position, not a story.
func testRecentCursorOutlivesItsStory(t *testing.T, h harness) {
	db := h.open(t)
	var batch []story.Story
	for i := range 10 {
		// Ingest order is the reverse of Published order, so Prune (oldest
		// Seq first) removes the newest stories.
		batch = append(batch, mk("wire", fmt.Sprint(i), t0.Add(-time.Duration(i)*time.Minute), "t"))
	}
	put(t, db, "wire", t0, batch...)
	page, err := db.Recent(t.Context(), store.Query{Topic: "t", Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(page.Stories); !slices.Equal(got, ids(batch[:3])) {
		t.Fatalf("first page = %v, want %v", got, ids(batch[:3]))
	}
	if n, err := db.Prune(t.Context(), store.Retention{MaxStories: 6}, t0); err != nil || n != 4 {
		t.Fatalf("Prune = %d, %v; want 4", n, err)
	}
	got := recent(t, db, store.Query{Topic: "t", Limit: 10, Before: page.Next})
	if want := ids(batch[4:]); !slices.Equal(got, want) {
		t.Errorf("page after a pruned cursor story = %v, want %v", got, want)
	}
}
