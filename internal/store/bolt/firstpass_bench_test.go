package bolt_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/store/bolt"
	"github.com/newsdesk/newsdesk/internal/story"
)

// passStory is story i of feed n as parse makes it from the ingest
// benchmark's feeds: about 5.5 KB stored (2.5 KB of HTML, its text, a
// summary), dated one of 50 hours every feed shares, in 3 of 5 topics.
func passStory(n, i int) story.Story {
	host := fmt.Sprintf("https://pub%d.example", n%40)
	link := fmt.Sprintf("%s/story/%d-%d", host, n, i)
	var html, text strings.Builder
	for p := range 9 {
		words := fmt.Sprintf("paragraph %d of story %d in feed %d, with the words a reader reads and then some more of them", p, i, n)
		fmt.Fprintf(&html, `<p>%s <a href="%s" rel="nofollow noreferrer">a link</a> %s.</p>`, words, link, words)
		fmt.Fprintf(&text, "%s a link %s. ", words, words)
	}
	summary := fmt.Sprintf("The summary of story %d in feed %d, a sentence or two long, as a wire sends it with its lead.", i, n)
	return story.Story{
		ID: story.NewID(fmt.Sprintf("feed-%d", n), link), Source: fmt.Sprintf("feed-%d", n), SourceTitle: "Feed",
		SourceURL: fmt.Sprintf("http://127.0.0.1:1234/feed/%d", n), SourceLink: host + "/", GUID: link, Link: link,
		Title:   fmt.Sprintf("Story %d of feed %d about the border and the coast", i, n),
		Summary: summary, SummaryText: summary, Content: html.String(), ContentText: text.String(),
		Categories: []string{"world"},
		Published:  time.Date(2026, 1, 28, 12, 0, 0, 0, time.UTC).Add(-time.Duration(i) * time.Hour),
		Topics:     []string{fmt.Sprintf("t%d", (n+i)%5), fmt.Sprintf("t%d", (n+i+1)%5), fmt.Sprintf("t%d", (n+i+3)%5)},
	}
}

// BenchmarkPutFirstPass is the store's part of a first pass over 1,000
// feeds of 50 new stories each: 8 writers Put one feed at a time, as the
// ingest workers do, with fsync on. cpu-s is the process's CPU time
// (getrusage), most of it the commits; -short uses 100 feeds.
func BenchmarkPutFirstPass(b *testing.B) {
	nfeeds := 1000
	if testing.Short() {
		nfeeds = 100
	}
	feeds := make([][]story.Story, nfeeds)
	for n := range feeds {
		feeds[n] = make([]story.Story, 50)
		for i := range feeds[n] {
			feeds[n][i] = passStory(n, i)
		}
	}
	var cpu time.Duration
	for b.Loop() {
		db, err := bolt.Open(filepath.Join(b.TempDir(), "pass.db"), bolt.Options{NoSync: os.Getenv("NOSYNC") != ""})
		if err != nil {
			b.Fatal(err)
		}
		cpu0 := cpuTime(b)
		next := make(chan int)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for n := range next {
					src := fmt.Sprintf("feed-%d", n)
					res, err := db.Put(b.Context(), src, store.SourceState{Status: "ok"}, feeds[n], t0)
					if err != nil || res.New != 50 {
						panic(fmt.Sprintf("Put %s = %+v, %v", src, res, err))
					}
				}
			})
		}
		for n := range feeds {
			next <- n
		}
		close(next)
		wg.Wait()
		cpu += cpuTime(b) - cpu0
		st, _ := db.Stats(b.Context())
		b.ReportMetric(float64(st.FileSize)/(1<<20), "file-MB")
		txs, weight := bolt.CommitStats(db)
		b.ReportMetric(float64(weight)/float64(txs), "weight/commit")
		b.ReportMetric(float64(bolt.PageAlloc(db))/(1<<20), "written-MB")
		db.Close()
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPutCommitSize is BenchmarkPutFirstPass with the size of every
// commit fixed: feeds-per-commit Puts start together and wait for each
// other, so each commit holds exactly that many feeds. It shows what a
// commit costs apart from its stories, which decides how large the
// committer should let commits grow. -short uses 100 feeds.
func BenchmarkPutCommitSize(b *testing.B) {
	nfeeds := 1000
	if testing.Short() {
		nfeeds = 100
	}
	feeds := make([][]story.Story, nfeeds)
	for n := range feeds {
		feeds[n] = make([]story.Story, 50)
		for i := range feeds[n] {
			feeds[n][i] = passStory(n, i)
		}
	}
	for _, per := range []int{1, 2, 5, 10, 20, 40} {
		b.Run(fmt.Sprintf("feeds-per-commit=%d", per), func(b *testing.B) {
			var cpu time.Duration
			for b.Loop() {
				db, err := bolt.Open(filepath.Join(b.TempDir(), "pass.db"), bolt.Options{NoSync: os.Getenv("NOSYNC") != ""})
				if err != nil {
					b.Fatal(err)
				}
				cpu0 := cpuTime(b)
				for first := 0; first < nfeeds; first += per {
					var wg sync.WaitGroup
					for n := first; n < min(first+per, nfeeds); n++ {
						wg.Go(func() {
							src := fmt.Sprintf("feed-%d", n)
							res, err := db.Put(b.Context(), src, store.SourceState{Status: "ok"}, feeds[n], t0)
							if err != nil || res.New != 50 {
								panic(fmt.Sprintf("Put %s = %+v, %v", src, res, err))
							}
						})
					}
					wg.Wait()
				}
				cpu += cpuTime(b) - cpu0
				db.Close()
			}
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}
