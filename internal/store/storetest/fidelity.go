package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

// listed returns the stories Recent lists for slug, as readers get them.
func listed(t *testing.T, db store.Store, slug string) []story.Story {
	t.Helper()
	page, err := db.Recent(t.Context(), store.Query{Topic: slug, Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	return page.Stories
}

// testServedIDNeverChanges lists an undated stub first, then better copies
// from other sources: the listed item's FeedID stays the stub's, in Recent,
// Since and Get, whichever copy represents the group.
func testServedIDNeverChanges(t *testing.T, h harness) {
	db := h.open(t)
	stub := copyOf("alpha", time.Time{}, "")
	put(t, db, "alpha", t0, stub)
	first := listed(t, db, "")
	if len(first) != 1 || first[0].FeedID() != stub.ID {
		t.Fatalf("first listing = %v, want the stub under its own id", ids(first))
	}

	later := t0.Add(time.Hour)
	full := copyOf("zulu", t0.Add(-24*time.Hour), "<p>the full text</p>")
	put(t, db, "zulu", later, full)
	orig := copyOf("mid", t0.Add(-48*time.Hour), "<p>the original, full text</p>")
	even := t0.Add(2 * time.Hour)
	put(t, db, "mid", even, orig)

	for _, slug := range []string{"", "topic-alpha", "topic-zulu", "topic-mid"} {
		got := listed(t, db, slug)
		if len(got) != 1 || got[0].ID != orig.ID || got[0].FeedID() != stub.ID {
			t.Errorf("Recent(%q) = %v, want the original serving the stub's id %s", slug, ids(got), stub.ID)
			continue
		}
		if !got[0].Updated.Equal(even) {
			t.Errorf("Recent(%q): Updated = %v, want the take-over time %v", slug, got[0].Updated, even)
		}
		since, err := db.Since(t.Context(), slug, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(since) != 1 || since[0].FeedID() != stub.ID {
			t.Errorf("Since(%q) = %v, want the stub's id served", slug, ids(since))
		}
	}
	if g := get(t, db, orig.ID); g.FeedID() != stub.ID {
		t.Errorf("Get(representative).FeedID() = %s, want %s", g.FeedID(), stub.ID)
	}
	// Re-fetching every copy, in any order, moves nothing.
	for _, s := range []story.Story{full, stub, orig} {
		if res := put(t, db, s.Source, even.Add(time.Hour), s); res.Unchanged != 1 || len(res.Topics) != 0 {
			t.Errorf("re-Put of %s = %+v, want unchanged", s.Source, res)
		}
	}
	if got := listed(t, db, ""); len(got) != 1 || got[0].FeedID() != stub.ID || !got[0].Updated.Equal(even) {
		t.Errorf("after re-Puts: %v", got)
	}
	// The copy that was served first pruned: the group keeps its id.
	if n, err := db.Prune(t.Context(), store.Retention{MaxAge: 90 * time.Minute}, even.Add(time.Minute)); err != nil || n != 1 {
		t.Fatalf("Prune = %d, %v; want the stub alone", n, err)
	}
	if got := listed(t, db, ""); len(got) != 1 || got[0].FeedID() != stub.ID {
		t.Errorf("after the stub was pruned: %v serving %s", ids(got), got[0].FeedID())
	}
}

// testMergedCopiesLoseNothing checks that the listed item carries every
// copy's enclosures (once per URL) and categories.
func testMergedCopiesLoseNothing(t *testing.T, h harness) {
	db := h.open(t)
	mp3 := story.Enclosure{URL: "https://cdn.example/ep1.mp3", Type: "audio/mpeg", Length: 1000}
	ogg := story.Enclosure{URL: "https://cdn.example/ep1.ogg", Type: "audio/ogg"}
	pdf := story.Enclosure{URL: "https://cdn.example/transcript.pdf", Type: "application/pdf"}
	a := copyOf("alpha", t0.Add(-time.Hour), "<p>full</p>")
	a.Enclosures, a.Categories = []story.Enclosure{mp3}, []string{"World"}
	b := copyOf("bravo", t0, "")
	b.Enclosures, b.Categories, b.Image = []story.Enclosure{mp3, ogg}, []string{"world", "Podcasts"}, "https://cdn.example/cover.jpg"
	c := copyOf("charlie", t0, "")
	c.Enclosures, c.Categories = []story.Enclosure{pdf}, []string{"Europe"}
	put(t, db, "bravo", t0, b)
	put(t, db, "alpha", t0, a)
	res := put(t, db, "charlie", t0, c)
	if !slices.Contains(res.Topics, "topic-alpha") {
		t.Errorf("a copy bringing an enclosure did not change the group's feeds: %v", res.Topics)
	}
	wantEncs := []string{mp3.URL, ogg.URL, pdf.URL}
	wantCats := []string{"World", "Podcasts", "Europe"}
	check := func(where string, s story.Story) {
		t.Helper()
		var urls []string
		for _, e := range s.Enclosures {
			urls = append(urls, e.URL)
		}
		if s.ID != a.ID || !slices.Equal(urls, wantEncs) || !slices.Equal(s.Categories, wantCats) ||
			s.Image != b.Image || s.Merged != nil {
			t.Errorf("%s: %s enclosures %v categories %v image %q merged %v; want %v, %v, %q", where, s.ID, urls,
				s.Categories, s.Image, s.Merged, wantEncs, wantCats, b.Image)
		}
	}
	got := listed(t, db, "topic-charlie")
	if len(got) != 1 {
		t.Fatalf("Recent = %v", ids(got))
	}
	check("Recent", got[0])
	since, _ := db.Since(t.Context(), "", 0, 0)
	if len(since) != 1 {
		t.Fatalf("Since = %v", ids(since))
	}
	check("Since", since[0])
	check("Get", get(t, db, a.ID))
	// A duplicate is read back with what it carries itself.
	if g := get(t, db, c.ID); len(g.Enclosures) != 1 || !slices.Equal(g.Categories, []string{"Europe"}) {
		t.Errorf("Get(duplicate) = %v %v", g.Enclosures, g.Categories)
	}
	// Re-fetching the representative with its own enclosures only changes
	// nothing: what it carries for the others is kept apart.
	if res := put(t, db, "alpha", t0, a); res.Unchanged != 1 {
		t.Errorf("re-Put of the representative = %+v, want unchanged", res)
	}
	check("after re-Put", get(t, db, a.ID))
}

// testFragments keeps two posts of one page apart, groups another source's
// copy with the right one, and serves links with their fragments.
func testFragments(t *testing.T, h harness) {
	db := h.open(t)
	page := "https://blog.example/2026/11/day.html"
	post := func(source, frag string, pub time.Time) story.Story {
		s := mk(source, source+frag, pub, "t")
		s.Link, s.Summary = page+frag, "the same text" // Prefer must not tell the copies apart by length
		return s
	}
	a1, a2 := post("alpha", "#a1", t0), post("alpha", "#a2", t0.Add(-time.Minute))
	put(t, db, "alpha", t0, a1, a2)
	b2 := post("bravo", "#a2", t0.Add(-time.Minute))
	put(t, db, "bravo", t0, b2)
	c1 := post("charlie", "#a1", t0)
	put(t, db, "charlie", t0, c1)
	whole := post("delta", "", t0.Add(time.Minute)) // later: it does not take over
	put(t, db, "delta", t0, whole)

	got := listed(t, db, "")
	if want := []string{a1.ID, a2.ID}; !slices.Equal(ids(got), want) {
		t.Fatalf("Recent = %v, want alpha's two posts, each once: %v", ids(got), want)
	}
	for _, s := range got {
		if s.ID == a1.ID && s.Link != page+"#a1" || s.ID == a2.ID && s.Link != page+"#a2" {
			t.Errorf("story %s served with link %q, want its fragment kept", s.ID, s.Link)
		}
	}
	if g := get(t, db, b2.ID); g.DuplicateOf != a2.ID {
		t.Errorf("bravo's #a2 is a duplicate of %q, want alpha's #a2 %s", g.DuplicateOf, a2.ID)
	}
	if g := get(t, db, c1.ID); g.DuplicateOf != a1.ID {
		t.Errorf("charlie's #a1 is a duplicate of %q, want alpha's #a1", g.DuplicateOf)
	}
	// A link to the page itself is the page's first post, by the duplicate key.
	if g := get(t, db, whole.ID); g.DuplicateOf != a1.ID {
		t.Errorf("delta's link to the page is a duplicate of %q, want %s (the page's first holder)", g.DuplicateOf, a1.ID)
	}
}

// testUndatedKeepsUpstreamOrder stores undated feeds: each story its own
// time, in the document's order, and a new source's undated backlog never
// above the dated news already stored.
func testUndatedKeepsUpstreamOrder(t *testing.T, h harness) {
	db := h.open(t)
	news := mk("wire", "news", t0.Add(-time.Hour), "t")
	put(t, db, "wire", t0, news)

	var feed []story.Story
	for i := range 5 {
		feed = append(feed, mk("bulletin", fmt.Sprint(i), time.Time{}, "t"))
	}
	later := t0.Add(2 * time.Hour)
	put(t, db, "bulletin", later, feed...) // the bulletin's first fetch: a backlog
	got := listed(t, db, "t")
	if want := append([]string{news.ID}, ids(feed)...); !slices.Equal(ids(got), want) {
		t.Fatalf("Recent(t) = %v, want the dated story, then the backlog in feed order %v", ids(got), want)
	}
	seen := map[int64]bool{}
	for _, s := range got[1:] {
		if !s.Undated || !s.Published.Before(news.Published) || seen[s.Published.Unix()] {
			t.Errorf("backlog story %s: published %v undated %v; want undated, own second, before %v", s.ID, s.Published, s.Undated, news.Published)
		}
		seen[s.Published.Unix()] = true
	}
	if info, _ := db.Topic(t.Context(), "t"); !info.Newest.Equal(news.Published) {
		t.Errorf("Topic(t).Newest = %v, want the dated story's %v", info.Newest, news.Published)
	}

	// Its next fetch brings a new item at the top: that one was published
	// since the first fetch, so it is placed when it was first seen.
	fresh := mk("bulletin", "fresh", time.Time{}, "t")
	latest := later.Add(time.Hour)
	put(t, db, "bulletin", latest, append([]story.Story{fresh}, feed...)...)
	got = listed(t, db, "t")
	if got[0].ID != fresh.ID || !got[0].Published.Equal(latest) || !got[0].Undated {
		t.Errorf("Recent(t)[0] = %s published %v, want the fresh item at %v", got[0].ID, got[0].Published, latest)
	}
	if want := append([]string{fresh.ID, news.ID}, ids(feed)...); !slices.Equal(ids(got), want) {
		t.Errorf("after the second fetch: %v, want %v (the backlog did not move)", ids(got), want)
	}

	// A mixed feed: an undated item below a dated one stays below it.
	dated := mk("mixed", "dated", t0.Add(-3*time.Hour), "m")
	below := mk("mixed", "below", time.Time{}, "m")
	put(t, db, "mixed", latest, dated, below)
	if g := get(t, db, below.ID); !g.Published.Equal(dated.Published.Add(-store.UndatedStep)) {
		t.Errorf("undated item below a dated one: published %v, want one step below %v", g.Published, dated.Published)
	}
}

// testEditsAreSignalled re-fetches a story with a corrected title: Updated
// moves, the ID and Published do not.
func testEditsAreSignalled(t *testing.T, h harness) {
	db := h.open(t)
	s := mk("wire", "a", t0.Add(-24*time.Hour), "t")
	put(t, db, "wire", t0, s)
	edited := s
	edited.Title = "title a, corrected"
	later := t0.Add(time.Hour)
	res := put(t, db, "wire", later, edited)
	if res.Updated != 1 || !slices.Equal(res.Topics, []string{"t"}) {
		t.Errorf("Put of the edit = %+v, want updated with its topic changed", res)
	}
	g := get(t, db, s.ID)
	if !g.Updated.Equal(later) || !g.Published.Equal(s.Published) || g.Title != edited.Title {
		t.Errorf("edited story: updated %v published %v; want updated %v, published %v", g.Updated, g.Published, later, s.Published)
	}
	if res := put(t, db, "wire", later.Add(time.Hour), edited); res.Unchanged != 1 {
		t.Errorf("re-Put of the edit = %+v, want unchanged", res)
	}
	if g := get(t, db, s.ID); !g.Updated.Equal(later) {
		t.Errorf("Updated moved again to %v on an unchanged re-fetch", g.Updated)
	}
}

// testLinkKeysFollowTheGroup moves a group's link keys through a take-over
// and two prunes: a later copy with a pruned member's link still finds the
// group, and once the group is gone no key is left held by a story that is
// gone (the engine's check, where it has one, looks).
func testLinkKeysFollowTheGroup(t *testing.T, h harness) {
	db := h.open(t)
	stub := copyOf("alpha", time.Time{}, "")
	stub.Link = sharedLink + "#top"
	put(t, db, "alpha", t0, stub)
	full := copyOf("zulu", t0.Add(-time.Hour), "<p>full text</p>")
	put(t, db, "zulu", t0.Add(time.Hour), full)
	if g := get(t, db, stub.ID); g.DuplicateOf != full.ID {
		t.Fatalf("stub is a duplicate of %q, want %s", g.DuplicateOf, full.ID)
	}
	// The stub, ingested first, goes alone.
	if n, err := db.Prune(t.Context(), store.Retention{MaxStories: 1}, t0.Add(2*time.Hour)); err != nil || n != 1 {
		t.Fatalf("Prune = %d, %v; want the stub", n, err)
	}
	check(t, db)
	// Then the representative.
	if n, err := db.Prune(t.Context(), store.Retention{MaxAge: time.Minute}, t0.Add(3*time.Hour)); err != nil || n != 1 {
		t.Fatalf("Prune = %d, %v; want the representative", n, err)
	}
	check(t, db)
	again := copyOf("other", t0, "")
	again.Link = sharedLink + "#top"
	if res := put(t, db, "other", t0.Add(5*time.Hour), again); res.New != 1 {
		t.Fatalf("Put after the group went = %+v", res)
	}
	if g := get(t, db, again.ID); g.DuplicateOf != "" {
		t.Errorf("a copy after the group was pruned joined %q", g.DuplicateOf)
	}
}
