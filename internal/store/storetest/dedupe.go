package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

const sharedLink = "https://news.example/2026/the-story"

// copyOf makes source's copy of the story at sharedLink, indexed under
// topic-<source>. A zero pub is a copy upstream gave no date.
func copyOf(source string, pub time.Time, content string) story.Story {
	s := mk(source, "k", pub, "topic-"+source)
	s.Link, s.Content = sharedLink, content
	return s
}

func ref(s story.Story) story.Ref {
	return story.Ref{Source: s.Source, Title: s.SourceTitle, ID: s.ID}
}

// view renders everything a reader can see of the stores' feeds, except
// change times (they follow the clock of each Put), so two stores can be
// compared as text.
func view(t *testing.T, db store.Store, copies []story.Story) string {
	t.Helper()
	var b strings.Builder
	slugs := []string{""}
	for _, c := range copies {
		slugs = append(slugs, c.Topics...)
	}
	for _, slug := range slugs {
		page, err := db.Recent(t.Context(), store.Query{Topic: slug})
		if err != nil {
			t.Fatal(err)
		}
		since, err := db.Since(t.Context(), slug, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		info, err := db.Topic(t.Context(), slug)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "topic %q: count %d newest %v\n  since %v\n", slug, info.Count, info.Newest, ids(since))
		for _, s := range page.Stories {
			fmt.Fprintf(&b, "  recent %s published %v undated %v alsoIn %v topics %v\n", s.ID, s.Published, s.Undated, s.AlsoIn, s.Topics)
		}
	}
	for _, c := range copies {
		g := get(t, db, c.ID)
		fmt.Fprintf(&b, "copy %s: duplicateOf %q topics %v\n", c.ID, g.DuplicateOf, g.Topics)
	}
	return b.String()
}

// checkGroup asserts that copies form one group that rep represents, seen
// once everywhere under the union of every copy's topics.
func checkGroup(t *testing.T, db store.Store, rep story.Story, copies []story.Story) {
	t.Helper()
	var want []story.Ref
	var topics []string
	for _, c := range copies {
		topics = append(topics, c.Topics...)
		if c.ID != rep.ID {
			want = append(want, ref(c))
		}
	}
	slices.SortFunc(want, func(a, b story.Ref) int { return strings.Compare(a.Source, b.Source) })
	slices.Sort(topics)
	only := []string{rep.ID}

	page, err := db.Recent(t.Context(), store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(page.Stories); !slices.Equal(got, only) {
		t.Fatalf("Recent(all) = %v, want only %s", got, rep.ID)
	}
	g := page.Stories[0]
	if !g.Published.Equal(rep.Published) && !rep.Published.IsZero() {
		t.Errorf("representative Published = %v, want %v", g.Published, rep.Published)
	}
	if !slices.Equal(g.AlsoIn, want) {
		t.Errorf("representative AlsoIn = %v, want %v", g.AlsoIn, want)
	}
	if !slices.Equal(g.Topics, topics) {
		t.Errorf("representative Topics = %v, want the union %v", g.Topics, topics)
	}
	for _, slug := range append([]string{""}, topics...) {
		if got := recent(t, db, store.Query{Topic: slug}); !slices.Equal(got, only) {
			t.Errorf("Recent(%q) = %v, want only the representative", slug, got)
		}
		since, err := db.Since(t.Context(), slug, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(since); !slices.Equal(got, only) {
			t.Errorf("Since(%q) = %v, want only the representative", slug, got)
		}
		// Limit 1 with a Next cursor would betray an index entry Recent
		// skipped (a duplicate still listed somewhere).
		if page, err := db.Recent(t.Context(), store.Query{Topic: slug, Limit: 1}); err != nil || page.Next != "" {
			t.Errorf("Recent(%q, limit 1) Next = %q, %v; want no further page", slug, page.Next, err)
		}
		if info, _ := db.Topic(t.Context(), slug); info.Count != 1 {
			t.Errorf("Topic(%q).Count = %d, want 1", slug, info.Count)
		}
	}
	for _, c := range copies {
		if c.ID == rep.ID {
			continue
		}
		d := get(t, db, c.ID)
		if d.DuplicateOf != rep.ID || d.AlsoIn != nil {
			t.Errorf("copy of %s: DuplicateOf %q AlsoIn %v, want a duplicate of %s", c.Source, d.DuplicateOf, d.AlsoIn, rep.ID)
		}
		if !slices.Equal(d.Topics, c.Topics) {
			t.Errorf("copy of %s: Topics %v, want its own %v", c.Source, d.Topics, c.Topics)
		}
	}
	if st := stats(t, db); st.Stories != len(copies) {
		t.Errorf("Stats().Stories = %d, want %d", st.Stories, len(copies))
	}
	check(t, db)
}

func testDedupeTwoCopiesOrderIndependent(t *testing.T, h harness) {
	january := time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)
	// The original: dated, full text, from a source whose name sorts last,
	// so the source tie-break cannot be what picks it.
	original := copyOf("zeta-wire", january, "<p>The full article, paragraph after paragraph.</p>")
	// An RSS 0.91 bulletin: no date, a partner-story stub.
	bulletin := copyOf("alpha-bulletin", time.Time{}, "")
	bulletin.Summary = "Partner story"

	orders := map[string][]story.Story{
		"original first": {original, bulletin},
		"bulletin first": {bulletin, original},
	}
	views := make(map[string]string)
	for name, order := range orders {
		t.Run(name, func(t *testing.T) {
			db := h.open(t)
			for i, s := range order {
				put(t, db, s.Source, t0.Add(time.Duration(i)*time.Hour), s)
			}
			checkGroup(t, db, original, order)
			views[name] = view(t, db, []story.Story{original, bulletin})
		})
	}
	if a, b := views["original first"], views["bulletin first"]; a != b {
		t.Errorf("feeds depend on Put order:\noriginal first:\n%s\nbulletin first:\n%s", a, b)
	}
}

// permutations returns every order of s.
func permutations(s []story.Story) [][]story.Story {
	if len(s) <= 1 {
		return [][]story.Story{slices.Clone(s)}
	}
	var out [][]story.Story
	for i := range s {
		rest := slices.Concat(s[:i], s[i+1:])
		for _, p := range permutations(rest) {
			out = append(out, append([]story.Story{s[i]}, p...))
		}
	}
	return out
}

func testDedupeThreeCopiesAnyOrder(t *testing.T, h harness) {
	jan, feb := time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC), time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
	long, longer := strings.Repeat("x", 100), strings.Repeat("x", 200)
	tests := []struct {
		name   string
		copies []story.Story
		want   int // index in copies of the representative
	}{
		{
			name: "a dated copy beats an undated one however long, and the earliest date beats a republication",
			copies: []story.Story{
				copyOf("mid", jan, "short"), copyOf("alpha", feb, long), copyOf("aaa", time.Time{}, longer),
			},
			want: 0,
		},
		{
			name: "equal dates: the full text beats stubs",
			copies: []story.Story{
				copyOf("alpha", jan, "stub"), copyOf("zulu", jan, longer), copyOf("mid", jan, long),
			},
			want: 1,
		},
		{
			name: "all undated: the longest text wins, whichever was fetched first",
			copies: []story.Story{
				copyOf("alpha", time.Time{}, ""), copyOf("mid", time.Time{}, long), copyOf("zulu", time.Time{}, longer),
			},
			want: 2,
		},
		{
			name: "otherwise equal: the smallest source name wins",
			copies: []story.Story{
				copyOf("mid", jan, long), copyOf("zulu", jan, long), copyOf("alpha", jan, long),
			},
			want: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := tt.copies[tt.want]
			var first string
			for _, order := range permutations(tt.copies) {
				db := h.open(t)
				var sources []string
				for i, s := range order {
					put(t, db, s.Source, t0.Add(time.Duration(i)*time.Hour), s)
					sources = append(sources, s.Source)
				}
				checkGroup(t, db, rep, tt.copies)
				v := view(t, db, tt.copies)
				// An undated representative's Published is its own fetch
				// time, which follows the order; everything else must not.
				if rep.Published.IsZero() {
					v = strings.ReplaceAll(v, get(t, db, rep.ID).Published.String(), "FETCHED")
				}
				if first == "" {
					first = v
				} else if v != first {
					t.Errorf("order %v gives other feeds:\n%s\nthan the first order:\n%s", sources, v, first)
				}
			}
		})
	}
}

func testDedupeSwapMovesTopicMembership(t *testing.T, h harness) {
	db := h.open(t)
	stub := copyOf("alpha", time.Time{}, "")
	full := copyOf("zulu", t0.Add(-24*time.Hour), "<p>full text</p>")
	put(t, db, "alpha", t0, stub)
	if got := recent(t, db, store.Query{Topic: stub.Topics[0]}); !slices.Equal(got, []string{stub.ID}) {
		t.Fatalf("before: Recent(%s) = %v", stub.Topics[0], got)
	}

	res := put(t, db, "zulu", t0.Add(time.Hour), full)
	if res.New != 1 || !slices.Equal(res.Topics, []string{"topic-alpha", "topic-zulu"}) {
		t.Errorf("Put of the better copy = %+v, want 1 new, both topics changed", res)
	}
	checkGroup(t, db, full, []story.Story{full, stub})
	// The stub's fetch time, a day after the full copy's date, is gone from
	// the topic index it used to head.
	if info, _ := db.Topic(t.Context(), "topic-alpha"); !info.Newest.Equal(full.Published) || !info.Changed.Equal(t0.Add(time.Hour)) {
		t.Errorf("Topic(topic-alpha) = %+v, want newest %v, changed by the swap", info, full.Published)
	}
	if g := get(t, db, stub.ID); g.DuplicateOf != full.ID {
		t.Errorf("Get(demoted).DuplicateOf = %q, want %q", g.DuplicateOf, full.ID)
	}

	// Re-fetching both, in either order, changes nothing and swaps nothing.
	for i, order := range [][]story.Story{{stub, full}, {full, stub}, {stub, full}} {
		now := t0.Add(time.Duration(2+i) * time.Hour)
		for _, s := range order {
			if res := put(t, db, s.Source, now, s); res.Unchanged != 1 || len(res.Topics) != 0 {
				t.Errorf("re-Put %d of %s = %+v, want unchanged, no topic changed", i, s.Source, res)
			}
		}
		checkGroup(t, db, full, []story.Story{full, stub})
	}
}

func testDedupeReelectsWhenContentChanges(t *testing.T, h harness) {
	db := h.open(t)
	jan, feb := time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC), time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
	a := copyOf("alpha", feb, "<p>a fairly long text</p>")
	b := copyOf("bravo", feb, "<p>short</p>")
	c := copyOf("charlie", time.Time{}, "")
	put(t, db, "alpha", t0, a)
	put(t, db, "bravo", t0, b)
	put(t, db, "charlie", t0, c)
	all := []story.Story{a, b, c}
	checkGroup(t, db, a, all)

	// A correction to the representative that keeps it the best copy.
	a.Title = "title k, corrected"
	if res := put(t, db, "alpha", t0.Add(time.Hour), a); res.Updated != 1 {
		t.Fatalf("re-Put corrected = %+v", res)
	}
	checkGroup(t, db, a, all)

	// bravo now carries the full text: it takes over, and charlie, which
	// duplicated alpha, follows it.
	b.Content = "<p>the whole article, much longer than before</p>"
	res := put(t, db, "bravo", t0.Add(2*time.Hour), b)
	if res.Updated != 1 || !slices.Equal(res.Topics, []string{"topic-alpha", "topic-bravo", "topic-charlie"}) {
		t.Errorf("Put of the improved duplicate = %+v, want updated and every topic changed", res)
	}
	checkGroup(t, db, b, all)

	// charlie, undated so far, turns out to be the January original.
	c.Published = jan
	put(t, db, "charlie", t0.Add(3*time.Hour), c)
	if get(t, db, c.ID).Undated {
		t.Error("charlie is still flagged undated after upstream dated it")
	}
	checkGroup(t, db, c, all)

	// Re-fetched without its date, it keeps the stored one and its place.
	c.Published = time.Time{}
	if res := put(t, db, "charlie", t0.Add(4*time.Hour), c); res.Unchanged != 1 {
		t.Errorf("re-Put without a date = %+v, want unchanged", res)
	}
	checkGroup(t, db, c, all)
}

func testDedupeSameSourceStaysAStory(t *testing.T, h harness) {
	db := h.open(t)
	stub := copyOf("alpha", time.Time{}, "")
	full := copyOf("zulu", t0.Add(-time.Hour), "<p>full text</p>")
	put(t, db, "alpha", t0, stub)
	put(t, db, "zulu", t0, full)

	// Each source's second entry for the link, whether its source
	// represents the group or is a duplicate in it, is a story of its own.
	for _, source := range []string{"alpha", "zulu"} {
		second := mk(source, "second", t0.Add(-30*time.Minute), "other")
		second.Link = sharedLink
		put(t, db, source, t0.Add(time.Hour), second)
		if g := get(t, db, second.ID); g.DuplicateOf != "" {
			t.Errorf("%s's second entry became a duplicate of %q", source, g.DuplicateOf)
		}
		if got := recent(t, db, store.Query{Topic: "other"}); !slices.Contains(got, second.ID) {
			t.Errorf("Recent(other) = %v, missing %s's second entry", got, source)
		}
	}
	g := get(t, db, full.ID)
	if !slices.Equal(g.AlsoIn, []story.Ref{ref(stub)}) || g.DuplicateOf != "" {
		t.Errorf("representative AlsoIn %v DuplicateOf %q, want the stub only", g.AlsoIn, g.DuplicateOf)
	}
	if got := recent(t, db, store.Query{}); len(got) != 3 {
		t.Errorf("Recent(all) = %v, want the group once and the two second entries", got)
	}
}

func testDedupePruneAfterSwap(t *testing.T, h harness) {
	db := h.open(t)
	stub := copyOf("alpha", time.Time{}, "")
	full := copyOf("zulu", t0.Add(-time.Hour), "<p>full text</p>")
	other := copyOf("mid", t0.Add(time.Hour), "")
	put(t, db, "alpha", t0, stub)
	put(t, db, "zulu", t0.Add(time.Hour), full)
	put(t, db, "mid", t0.Add(2*time.Hour), other)

	// The demoted stub is the oldest ingested: it goes alone.
	n, err := db.Prune(t.Context(), store.Retention{MaxAge: 90 * time.Minute}, t0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("Prune deleted %d, want the stub only", n)
	}
	checkGroup(t, db, full, []story.Story{full, other})
	if info, _ := db.Topic(t.Context(), "topic-alpha"); info.Count != 0 {
		t.Errorf("Topic(topic-alpha).Count = %d after its only story went", info.Count)
	}

	// The representative takes its younger duplicate with it.
	if n, err := db.Prune(t.Context(), store.Retention{MaxAge: 30 * time.Minute}, t0.Add(2*time.Hour)); err != nil || n != 2 {
		t.Errorf("Prune = %d, %v; want the representative and its duplicate", n, err)
	}
	if st := stats(t, db); st.Stories != 0 {
		t.Errorf("Stats().Stories = %d, want 0", st.Stories)
	}
}

func testDedupeReclassifyAfterSwap(t *testing.T, h harness) {
	db := h.open(t)
	stub := copyOf("alpha", time.Time{}, "")
	full := copyOf("zulu", t0.Add(-time.Hour), "<p>full text</p>")
	put(t, db, "alpha", t0, stub)
	put(t, db, "zulu", t0.Add(time.Hour), full)

	changed, err := db.Reclassify(t.Context(), func(s story.Story) []string { return []string{"re-" + s.Source} })
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"re-alpha", "re-zulu", "topic-alpha", "topic-zulu"}
	if !slices.Equal(changed, want) {
		t.Errorf("Reclassify changed %v, want %v", changed, want)
	}
	stub.Topics, full.Topics = []string{"re-alpha"}, []string{"re-zulu"}
	checkGroup(t, db, full, []story.Story{full, stub})
}

func testDedupeConcurrentPuts(t *testing.T, h harness) {
	db := h.open(t)
	original := copyOf("zulu", t0.Add(-time.Hour), "<p>full text</p>")
	bulletin := copyOf("alpha", time.Time{}, "")
	errs := make(chan error, 2)
	for _, s := range []story.Story{bulletin, original} {
		go func() {
			_, err := db.Put(t.Context(), s.Source, store.SourceState{Status: "ok"}, []story.Story{s}, t0)
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	checkGroup(t, db, original, []story.Story{original, bulletin})
}
