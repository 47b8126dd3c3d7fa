// Package storebench is the load benchmark of the storage contract: one
// workload, run through ingest's real write path against any engine, so
// that engines compare like with like. Each engine's benchmarks call Run
// with a constructor of fresh stores (store/bolt and store/postgres do).
//
// The workload is the first fetch of S sources of P stories each (RSS 2.0
// from a loopback upstream: fetch, parse, sanitize, classify against 20
// topics, one Put per feed), then the two read queries a feed server and a
// poller make (newest 50 of a topic, and Since of a topic), then a topic
// edit re-classifying every stored story. -short runs 200 sources of 10
// stories; NEWSDESK_BENCH_SOURCES sets S (10000 for the issue's
// million-story figure), P is 100 otherwise.
package storebench

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/fetch"
	"github.com/newsdesk/newsdesk/internal/ingest"
	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
	"github.com/newsdesk/newsdesk/internal/topic"
)

// Store is what the workload needs of an engine: the write path's methods
// and the queries.
type Store interface {
	ingest.Store
	Recent(ctx context.Context, q store.Query) (store.Page, error)
	Since(ctx context.Context, topic string, afterSeq uint64, limit int) ([]story.Story, error)
	Topic(ctx context.Context, slug string) (store.TopicInfo, error)
	Stats(ctx context.Context) (store.Stats, error)
	Close() error
}

// Open returns a fresh, empty store for one run of the workload; the engine
// removes it when b ends.
type Open func(b *testing.B) Store

// Size is the workload's size: Sources feeds of PerSource stories each.
type Size struct{ Sources, PerSource int }

// SizeFromEnv is the size Run uses: 200×10 under -short, else
// NEWSDESK_BENCH_SOURCES (default 1000) sources of 100 stories.
func SizeFromEnv() Size {
	if testing.Short() {
		return Size{Sources: 200, PerSource: 10}
	}
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("NEWSDESK_BENCH_SOURCES")); err == nil && v > 0 {
		n = v
	}
	return Size{Sources: n, PerSource: 100}
}

// Topics is how many topics the stories are classified under; each takes
// about one story in Topics (a story names one topic's tag in its title).
const Topics = 20

// reads is how many times each query is timed; the median is reported.
const reads = 201

// Run runs the workload once per b.N and reports, as metrics, the first
// fetch's time (first-fetch-s) and rate (stories/s), the median newest-50
// of a topic (recent50-ms) and of all stories (recent50-all-ms), the
// median Since page of a topic (since50-ms), the re-classification after a
// topic edit (reclassify-s) and the store's size (MB).
func Run(b *testing.B, open Open) {
	size := SizeFromEnv()
	up := httptest.NewServer(upstream(size))
	defer up.Close()
	srcs := make([]story.Source, size.Sources)
	for i := range srcs {
		srcs[i] = story.Source{Name: fmt.Sprintf("src-%05d", i), Title: fmt.Sprintf("Source %d", i),
			URL: fmt.Sprintf("%s/feed/%d", up.URL, i)}
	}
	log := slog.New(slog.DiscardHandler)
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	want := size.Sources * size.PerSource
	b.Logf("%d sources × %d stories = %d stories", size.Sources, size.PerSource, want)

	var fetchS, reclassS, recent, recentAll, since, mb []float64
	for b.Loop() {
		db := open(b)
		in := ingest.New(fetch.New(fetch.Options{PerHost: 8, Allow: loopback}), db, Classes(0), log,
			ingest.Options{Workers: 8, MinInterval: time.Hour})
		start := time.Now()
		var stored int
		for _, r := range in.RefreshAll(b.Context(), srcs, true, nil) {
			if r.Status != story.StatusOK || r.New != size.PerSource {
				b.Fatalf("first fetch of %s: %s, %d new (want %d): %s", r.Source, r.Status, r.New, size.PerSource, r.Err)
			}
			stored += r.New
		}
		took := time.Since(start)
		fetchS = append(fetchS, took.Seconds())
		if err := in.Close(); err != nil {
			b.Fatal(err)
		}
		st, err := db.Stats(b.Context())
		if err != nil || st.Stories != want {
			b.Fatalf("Stats = %+v, %v; want %d stories", st, err, want)
		}
		b.Logf("first fetch: %d stories in %v (%.0f stories/s)", stored, took.Round(time.Millisecond), float64(stored)/took.Seconds())

		recent = append(recent, timeReads(b, func(i int) {
			slug := fmt.Sprintf("t%02d", i%Topics)
			page, err := db.Recent(b.Context(), store.Query{Topic: slug, Limit: 50})
			if err != nil || len(page.Stories) != min(50, want/Topics) {
				b.Fatalf("Recent(%s) = %d stories, %v", slug, len(page.Stories), err)
			}
		}))
		recentAll = append(recentAll, timeReads(b, func(int) {
			page, err := db.Recent(b.Context(), store.Query{Limit: 50})
			if err != nil || len(page.Stories) != 50 {
				b.Fatalf("Recent(all) = %d stories, %v", len(page.Stories), err)
			}
		}))
		// A poller some way behind: Seq numbers run 1…want in commit order,
		// so the tenth of the stories most recently stored is ahead of it.
		after := uint64(want - want/10)
		since = append(since, timeReads(b, func(i int) {
			slug := fmt.Sprintf("t%02d", i%Topics)
			got, err := db.Since(b.Context(), slug, after, 50)
			if err != nil || len(got) == 0 || got[0].Seq <= after {
				b.Fatalf("Since(%s, %d) = %d stories, %v", slug, after, len(got), err)
			}
		}))

		// A topic edit: every topic takes its neighbour's tag too, so a
		// tenth of the memberships change.
		in = ingest.New(fetch.New(fetch.Options{Allow: loopback}), db, Classes(0), log, ingest.Options{})
		start = time.Now()
		if err := in.SetTopics(b.Context(), Classes(1)); err != nil {
			b.Fatal(err)
		}
		took = time.Since(start)
		reclassS = append(reclassS, took.Seconds())
		b.Logf("re-classification of %d stories: %v", want, took.Round(time.Millisecond))
		if info, err := db.Topic(b.Context(), "t00"); err != nil || info.Count < 2*want/Topics*9/10 {
			b.Fatalf("after the edit t00 lists %d stories (%v); want about %d", info.Count, err, 2*want/Topics)
		}
		st, err = db.Stats(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		mb = append(mb, float64(st.FileSize)/(1<<20))
		if err := in.Close(); err != nil {
			b.Fatal(err)
		}
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(median(fetchS), "first-fetch-s")
	b.ReportMetric(float64(want)/median(fetchS), "stories/s")
	b.ReportMetric(median(recent)*1e3, "recent50-ms")
	b.ReportMetric(median(recentAll)*1e3, "recent50-all-ms")
	b.ReportMetric(median(since)*1e3, "since50-ms")
	b.ReportMetric(median(reclassS), "reclassify-s")
	b.ReportMetric(median(mb), "MB")
}

// timeReads runs read reads times (after a few untimed warm-up calls) and
// returns the median seconds of one.
func timeReads(b *testing.B, read func(i int)) float64 {
	b.Helper()
	for i := range 5 {
		read(i)
	}
	ts := make([]float64, reads)
	for i := range ts {
		start := time.Now()
		read(i)
		ts[i] = time.Since(start).Seconds()
	}
	return median(ts)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// Classes is the workload's topic set: topic tNN matches stories whose
// title carries the tag "zetaNN"; after edit e > 0 it also matches the tag
// of topic NN+e.
func Classes(edit int) *topic.Set {
	ts := make([]*topic.Topic, 0, Topics)
	for k := range Topics {
		rule := topic.Rule{Term: tag(k), In: []topic.Field{topic.Title}}
		if edit > 0 {
			rule = topic.Rule{Any: []topic.Rule{rule, {Term: tag((k + edit) % Topics), In: []topic.Field{topic.Title}}}}
		}
		t, err := topic.New(topic.Definition{Slug: fmt.Sprintf("t%02d", k), Title: fmt.Sprintf("Topic %d", k), Rule: rule})
		if err != nil {
			panic(err) // the rules above are fixed and valid
		}
		ts = append(ts, t)
	}
	return topic.NewSet(ts...)
}

func tag(k int) string { return fmt.Sprintf("zeta%02d", k) }

var words = strings.Fields(`the minister said on tuesday that border agents would expand patrols along the
coast while talks with regional partners continue officials in tokyo and seoul described the drills as
routine but analysts warned that tensions over fishing grounds and shipping lanes could escalate quickly
housing costs rose again as mortgage rates stayed high and utilities asked regulators for new transmission
lines to meet data center demand in the coming decade according to the report released this week`)

// prose returns n deterministic words starting at seed.
func prose(b *bytes.Buffer, seed, n int) {
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[(seed*7+i*13)%len(words)])
	}
}

// base is the newest story's date; every story is older.
var base = time.Date(2026, 1, 28, 12, 0, 0, 0, time.UTC)

// upstream serves /feed/N: source N's feed, an RSS 2.0 document of
// size.PerSource items (about 600 bytes each: a title carrying one topic's
// tag, a link, a guid, a date, a category and a paragraph of HTML), with an
// ETag. The sources' stories interleave in time, as a real wire's do: item
// i of source n was published (i·Sources + n)·3 s before base.
func upstream(size Size) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/feed/"))
		if err != nil || n < 0 || n >= size.Sources {
			http.NotFound(w, r)
			return
		}
		etag := fmt.Sprintf(`"f%d"`, n)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write(feed(size, n))
	})
}

func feed(size Size, n int) []byte {
	var b bytes.Buffer
	host := fmt.Sprintf("https://pub%d.example", n)
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Source %d</title><link>%s/</link><description>Source %d</description>`, n, host, n)
	for i := range size.PerSource {
		k := (n*size.PerSource + i) % Topics
		date := base.Add(-time.Duration(i*size.Sources+n) * 3 * time.Second)
		b.WriteString(`<item><title>`)
		prose(&b, n+i, 7)
		fmt.Fprintf(&b, ` %s</title><link>%s/story/%d</link><guid>%s/story/%d</guid><pubDate>%s</pubDate><category>world</category><description>&lt;p&gt;`,
			tag(k), host, i, host, i, date.Format(time.RFC1123Z))
		prose(&b, n*i+3, 60)
		b.WriteString(`&lt;/p&gt;</description></item>`)
	}
	b.WriteString(`</channel></rss>`)
	return b.Bytes()
}
