package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

func activity(t *testing.T, db store.Store, now time.Time, days int) store.Activity {
	t.Helper()
	a, err := db.Activity(t.Context(), now, days)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// wantActivity compares a with the stored counts and day counts per source
// and the day counts per topic; a source or topic not named must be absent
// (or, for a topic, all zero).
func wantActivity(t *testing.T, what string, a store.Activity, sources map[string]store.SourceActivity, topics map[string][]int) {
	t.Helper()
	for name, want := range sources {
		got, ok := a.Sources[name]
		if !ok || got.Stored != want.Stored || !slices.Equal(got.Days, want.Days) {
			t.Errorf("%s: source %s = %+v (present %v), want %+v", what, name, got, ok, want)
		}
	}
	for name, got := range a.Sources {
		if _, ok := sources[name]; !ok {
			t.Errorf("%s: source %s reported (%+v), but it has no stored story", what, name, got)
		}
	}
	for slug, want := range topics {
		if got := a.Topics[slug]; !slices.Equal(got, want) {
			t.Errorf("%s: topic %q days = %v, want %v", what, slug, got, want)
		}
	}
	for slug, got := range a.Topics {
		if _, ok := topics[slug]; !ok && slices.ContainsFunc(got, func(n int) bool { return n != 0 }) {
			t.Errorf("%s: topic %q days = %v, want it absent", what, slug, got)
		}
	}
}

func testActivity(t *testing.T, h harness) {
	open := h.durable(t)
	db := open()
	day := 24 * time.Hour
	// An old story, before any window below; then one day each of a, b, c.
	put(t, db, "a", t0.Add(-20*day), mk("a", "ancient", t0.Add(-20*day), "x"))
	put(t, db, "a", t0, mk("a", "1", t0, "x"), mk("a", "2", t0, "x"), mk("a", "3", t0.Add(-time.Hour), "x"))
	put(t, db, "b", t0.Add(day), mk("b", "1", t0, "y"), mk("b", "2", t0, "other"))
	// c carries a's story "1" (same link, later date): a duplicate, stored
	// under c but listed nowhere; a's copy is now also listed under z.
	dup := mk("c", "1", t0.Add(time.Hour), "z")
	dup.Link = mk("a", "1", t0).Link
	put(t, db, "c", t0.Add(2*day), dup)
	if g := get(t, db, dup.ID); g.DuplicateOf == "" {
		t.Fatalf("c's copy is not a duplicate (%+v): the test needs it to be one", g)
	}
	now := t0.Add(2*day + 3*time.Hour)

	a := activity(t, db, now, 3)
	if want := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC); !a.From.Equal(want) || a.Days != 3 {
		t.Fatalf("window = %v + %d days, want %v + 3", a.From, a.Days, want)
	}
	wantActivity(t, "3 days", a, map[string]store.SourceActivity{
		"a": {Stored: 4, Days: []int{3, 0, 0}},
		"b": {Stored: 2, Days: []int{0, 2, 0}},
		"c": {Stored: 1, Days: []int{0, 0, 1}},
	}, map[string][]int{
		"":      {3, 2, 0},
		"x":     {3, 0, 0},
		"y":     {0, 1, 0},
		"other": {0, 1, 0},
		"z":     {1, 0, 0},
	})

	// The window's last day is now's, in UTC, whatever now's zone.
	a = activity(t, db, now.In(time.FixedZone("UTC-10", -10*3600)), 1)
	wantActivity(t, "1 day", a, map[string]store.SourceActivity{
		"a": {Stored: 4, Days: []int{0}},
		"b": {Stored: 2, Days: []int{0}},
		"c": {Stored: 1, Days: []int{1}},
	}, nil)

	// Limits.
	if a := activity(t, db, now, 0); a.Days != 1 {
		t.Errorf("Activity(days 0) has %d days, want 1", a.Days)
	}
	if a := activity(t, db, now, 100_000); a.Days != store.MaxActivityDays || len(a.Sources["a"].Days) != store.MaxActivityDays {
		t.Errorf("Activity(days 100000) has %d days, want %d", a.Days, store.MaxActivityDays)
	}
	a = activity(t, db, now, 30)
	if got := a.Sources["a"].Days; got[27] != 3 || got[7] != 1 {
		t.Errorf("30 days of a = %v, want 1 on day 7 and 3 on day 27", got)
	}

	// A re-Put of the same stories counts nothing twice.
	put(t, db, "b", t0.Add(2*day), mk("b", "1", t0, "y"), mk("b", "2", t0.Add(time.Minute), "other"))
	if got := activity(t, db, now, 3).Sources["b"]; got.Stored != 2 || !slices.Equal(got.Days, []int{0, 2, 0}) {
		t.Errorf("after a re-Put, b = %+v, want 2 stored on day 1", got)
	}

	// A re-classification moves the topic counts, not the sources'.
	if _, err := db.Reclassify(t.Context(), func(story.Story) []string { return []string{"w"} }); err != nil {
		t.Fatal(err)
	}
	wantActivity(t, "after reclassify", activity(t, db, now, 3), map[string]store.SourceActivity{
		"a": {Stored: 4, Days: []int{3, 0, 0}},
		"b": {Stored: 2, Days: []int{0, 2, 0}},
		"c": {Stored: 1, Days: []int{0, 0, 1}},
	}, map[string][]int{"": {3, 2, 0}, "w": {3, 2, 0}})

	// Counters survive a reopen.
	db.Close()
	db = open()
	defer func() {
		check(t, db)
		db.Close()
	}()
	if got := activity(t, db, now, 3).Sources["a"]; got.Stored != 4 {
		t.Errorf("after reopen, a stores %d, want 4", got.Stored)
	}

	// Pruning a's day takes its stories, and c's duplicate with its
	// representative, out of every count.
	if _, err := db.Prune(t.Context(), store.Retention{MaxAge: 36 * time.Hour}, now); err != nil {
		t.Fatal(err)
	}
	wantActivity(t, "after prune", activity(t, db, now, 3), map[string]store.SourceActivity{
		"b": {Stored: 2, Days: []int{0, 2, 0}},
	}, map[string][]int{"": {0, 2, 0}, "w": {0, 2, 0}})
}
