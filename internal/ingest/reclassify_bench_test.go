package ingest_test

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/benchfeed"
	"github.com/newsdesk/newsdesk/internal/fetch"
	"github.com/newsdesk/newsdesk/internal/ingest"
	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/store/bolt"
	"github.com/newsdesk/newsdesk/internal/story"
	"github.com/newsdesk/newsdesk/internal/topic"
)

// fiftyTopics returns 50 topics of mixed terms, phrases and nesting, each
// taking a few percent of the stories, as real topics do. edit shifts the
// rules so that every call is a real edit.
func fiftyTopics(b *testing.B, edit int) *topic.Set {
	var ts []*topic.Topic
	for i := range 50 {
		tag := func(k int) string { return fmt.Sprintf("zeta%d", (i+k*50+edit)%200) }
		rule := topic.Rule{Any: []topic.Rule{
			{Term: tag(0)},
			{All: []topic.Rule{{Term: tag(1)}, {Not: &topic.Rule{Term: tag(2)}}}},
			{Term: benchfeed.Words[i%len(benchfeed.Words)] + " " + tag(3)},
			{Term: tag(3), In: []topic.Field{topic.Title}},
		}}
		t, err := topic.New(topic.Definition{Slug: "t" + strconv.Itoa(i), Title: "T", Rule: rule})
		if err != nil {
			b.Fatal(err)
		}
		ts = append(ts, t)
	}
	return topic.NewSet(ts...)
}

// BenchmarkReclassify measures re-filing every stored story after a topic
// edit: 50 topics, stories of ~1 KB of text. NEWSDESK_BENCH_STORIES sets the
// count (default 10,000; 1000000 for the figure).
func BenchmarkReclassify(b *testing.B) {
	n := 10_000
	if v := os.Getenv("NEWSDESK_BENCH_STORIES"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	if testing.Short() {
		n = 1000
	}
	db, err := bolt.Open(filepath.Join(b.TempDir(), "n.db"), bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 1, 28, 12, 0, 0, 0, time.UTC)
	start := time.Now()
	for lo := 0; lo < n; lo += 5000 {
		var batch []story.Story
		for i := lo; i < min(lo+5000, n); i++ {
			text := fmt.Sprintf("%s zeta%d %s zeta%d", benchfeed.Prose(i, 80), (i*7)%200, benchfeed.Prose(i+1, 80), (i*13)%200)
			batch = append(batch, story.Story{ID: story.NewID("s", strconv.Itoa(i)), Source: "s",
				Title: benchfeed.Prose(i*3, 9), Link: fmt.Sprintf("https://pub.example/%d", i), SummaryText: benchfeed.Prose(i*5, 25),
				Content: "<p>" + text + "</p>", ContentText: text, Published: published(now, i)})
		}
		if _, err := db.Put(b.Context(), "s", store.SourceState{}, batch, now); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("stored %d stories in %v", n, time.Since(start))
	in := ingest.New(fetch.New(fetch.Options{}), db, fiftyTopics(b, 0), slog.New(slog.DiscardHandler), ingest.Options{})
	if err := in.SyncTopics(b.Context(), fiftyTopics(b, 0), "0"); err != nil {
		b.Fatal(err)
	}
	page, err := db.Recent(b.Context(), store.Query{Topic: "t0", Limit: 1000})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("topic t0 holds %d of the %d stories (first 1000 counted)", len(page.Stories), n)
	edit := 0
	for b.Loop() {
		edit++ // every round is an edit: the fingerprint and the rules change
		if err := in.SyncTopics(b.Context(), fiftyTopics(b, edit), strconv.Itoa(edit)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(n), "µs/story")
}

// published dates story i as ingest meets stories: feeds of 50, each listed
// newest first, fetched one after another as time goes on.
func published(base time.Time, i int) time.Time {
	feed, item := i/50, i%50
	return base.Add(time.Duration(feed)*time.Hour - time.Duration(item)*time.Minute)
}
