package preview_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/preview"
	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/store/bolt"
	"github.com/newsdesk/newsdesk/internal/story"
	"github.com/newsdesk/newsdesk/internal/topic"
)

func TestRunSelectsExplainsAndListsNearMisses(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "n.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 1, 28, 12, 0, 0, 0, time.UTC)
	titles := []string{
		"ICE agents stopped at Ecuador consulate",       // match
		"Ice storm knocks out power across Texas",       // near miss: "ice" but not the agency
		"Asylum backlog clears in Dover",                // match
		"Markets rally as rates hold",                   // unrelated
		"Visa rules for students tighten, ICE confirms", // match
	}
	var stories []story.Story
	for i, title := range titles {
		stories = append(stories, story.Story{ID: story.NewID("wire", title), Source: "wire", Title: title,
			Link: "https://wire.example/" + title[:3], Published: now.Add(time.Duration(i) * time.Hour)})
	}
	if _, err := db.Put(t.Context(), "wire", store.SourceState{}, stories, now); err != nil {
		t.Fatal(err)
	}
	// A topic that is only in an edited config: the preview reads stories,
	// not the topic index.
	tp, err := topic.New(topic.Definition{Slug: "immigration", Title: "Immigration", Rule: topic.Rule{Any: []topic.Rule{
		{Term: "ICE", Case: true}, {Term: "asylum"}, {All: []topic.Rule{{Term: "ice"}, {Term: "consulate"}}},
	}}})
	if err != nil {
		t.Fatal(err)
	}

	res, err := preview.Run(t.Context(), db, tp, preview.Options{Explain: true, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range res.Matches {
		got = append(got, it.Title)
		if it.Explanation == nil || !it.Explanation.Matched {
			t.Errorf("match %q has no explanation", it.Title)
		}
	}
	want := []string{titles[4], titles[2], titles[0]} // newest first
	if len(got) != len(want) {
		t.Fatalf("matches = %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("match %d = %q, want %q", i, got[i], want[i])
		}
	}
	if res.Scanned != len(titles) {
		t.Errorf("scanned %d, want %d", res.Scanned, len(titles))
	}
	if len(res.NearMisses) != 1 || res.NearMisses[0].Title != titles[1] {
		t.Errorf("near misses = %+v, want the ice storm", res.NearMisses)
	}

	res, err = preview.Run(t.Context(), db, tp, preview.Options{Limit: 1, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Matches) != 1 || res.Matches[0].Explanation != nil || len(res.NearMisses) != 0 {
		t.Errorf("limit 1 without explain = %+v", res)
	}
}

func TestRunSelectsThroughAnotherSourcesCopy(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "n.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 1, 28, 12, 0, 0, 0, time.UTC)
	link := "https://wire.example/talks"
	first := story.Story{ID: story.NewID("a", link), Source: "a", Title: "Border talks resume", Link: link, Published: now.Add(-2 * time.Hour)}
	copy := story.Story{ID: story.NewID("b", link), Source: "b", Title: "Border talks resume", Link: link,
		Summary: "Asylum caps are on the table.", SummaryText: "Asylum caps are on the table.", Published: now.Add(-time.Hour)}
	if _, err := db.Put(t.Context(), "a", store.SourceState{}, []story.Story{first}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Put(t.Context(), "b", store.SourceState{}, []story.Story{copy}, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	tp, err := topic.New(topic.Definition{Slug: "asylum", Title: "Asylum", Rule: topic.Rule{Term: "asylum"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := preview.Run(t.Context(), db, tp, preview.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Matches) != 1 || res.Matches[0].ID != first.ID || res.Matches[0].Via != "b" {
		t.Errorf("matches = %+v, want the article once, as listed (source a), selected via b's copy", res.Matches)
	}
}
