package ingest_test

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/fetch"
	"github.com/newsdesk/newsdesk/internal/ingest"
	"github.com/newsdesk/newsdesk/internal/store/bolt"
	"github.com/newsdesk/newsdesk/internal/story"
	"github.com/newsdesk/newsdesk/internal/topic"
)

// peekingStore runs peek before each story a Reclassify classifies.
type peekingStore struct {
	*bolt.DB
	peek func()
}

func (p peekingStore) Reclassify(ctx context.Context, classify func(story.Story) []string) ([]string, error) {
	return p.DB.Reclassify(ctx, func(s story.Story) []string {
		p.peek()
		return classify(s)
	})
}

// TestReclassifyingReportsProgress: while a re-classification runs,
// Reclassifying and Status say how many of the stored stories are
// classified; once it ends, nothing is reported, and the changed topics
// are told to Changed after the swap.
func TestReclassifyingReportsProgress(t *testing.T) {
	up := &upstream{}
	up.set(200, rss("Ice storm", "Border talks", "Border ice", "Harbour news"), nil)
	f := newFixture(t, up)
	if rep := f.in.Refresh(t.Context(), f.src, false); rep.New != 4 {
		t.Fatalf("refresh = %+v, want 4 new", rep)
	}
	var in *ingest.Ingester
	var seen []int
	var changed [][]string
	peek := func() {
		r, ok := in.Reclassifying()
		st, err := in.Status(t.Context())
		if !ok || err != nil || st.Reclassifying == nil || *st.Reclassifying != r || r.Stories != 4 || r.Started.IsZero() {
			t.Errorf("during the re-classification: Reclassifying = %+v, %v; Status = %+v, %v", r, ok, st.Reclassifying, err)
		}
		seen = append(seen, r.Done)
	}
	in = ingest.New(fetch.New(fetch.Options{Allow: loopback}), peekingStore{f.db, peek}, f.topic, slog.New(slog.DiscardHandler),
		ingest.Options{Now: func() time.Time { return f.now }, Changed: func(slugs []string) { changed = append(changed, slugs) }})
	border, err := topic.New(topic.Definition{Slug: "border", Title: "Border", Rule: topic.Rule{Term: "border"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := in.SetTopics(t.Context(), topic.NewSet(border)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seen, []int{0, 1, 2, 3}) {
		t.Errorf("progress seen before each story = %v, want 0 1 2 3", seen)
	}
	if r, ok := in.Reclassifying(); ok {
		t.Errorf("Reclassifying after the end = %+v", r)
	}
	if st, _ := in.Status(t.Context()); st.Reclassifying != nil {
		t.Errorf("Status after the end reports %+v", st.Reclassifying)
	}
	if len(changed) != 1 || !slices.Equal(changed[0], []string{"border", "ice"}) {
		t.Errorf("Changed was told %v, want [[border ice]] once", changed)
	}
}
