package bolt_test

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/store/bolt"
	"github.com/newsdesk/newsdesk/internal/story"
)

// The 1M-story cases build a file of about a gigabyte, which takes minutes:
// they run only with NEWSDESK_BENCH_1M=1. NEWSDESK_BENCH_DIR keeps the built
// files in a directory across runs (they are reused when their story count
// matches), e.g.
//
//	NEWSDESK_BENCH_1M=1 NEWSDESK_BENCH_DIR=$TMPDIR/nd go test -run '^$' -bench Recent ./internal/store/bolt
//	NEWSDESK_BENCH_1M=1 NEWSDESK_BENCH_DIR=$TMPDIR/nd go test -run '^$' -bench Reclassify -benchtime 1x ./internal/store/bolt
const (
	bigEnv = "NEWSDESK_BENCH_1M"
	dirEnv = "NEWSDESK_BENCH_DIR"
)

const benchTopics = 20

var benchDBs struct {
	sync.Mutex
	dir   string
	paths map[int]string
}

// TestMain removes the benchmark files, which outlive any one benchmark.
func TestMain(m *testing.M) {
	code := m.Run()
	if benchDBs.dir != "" {
		os.RemoveAll(benchDBs.dir)
	}
	os.Exit(code)
}

// benchStory is story i of a wire: about 700 bytes stored, in one of
// benchTopics topics, which its title names so classify can find it.
func benchStory(i int) story.Story {
	s := mk("wire", fmt.Sprint(i), t0.Add(-time.Duration(i)*7*time.Second), fmt.Sprintf("t%02d", i%benchTopics))
	s.Title = fmt.Sprintf("Story %d about the economy and the border, in topic %s", i, s.Topics[0])
	s.Summary = strings.Repeat("A paragraph of summary text that a wire would send. ", 6)
	s.SummaryText = s.Summary
	s.Authors = []story.Author{{Name: "A. Reporter"}}
	s.Categories = []string{"news", "world"}
	return s
}

func benchClassify(s story.Story) []string { return []string{s.Title[len(s.Title)-3:]} }

// benchDB returns the path of a store of n stories, built once per process.
func benchDB(b *testing.B, n int) string {
	b.Helper()
	benchDBs.Lock()
	defer benchDBs.Unlock()
	if p, ok := benchDBs.paths[n]; ok {
		return p
	}
	if benchDBs.paths == nil {
		benchDBs.paths = make(map[int]string)
	}
	dir := os.Getenv(dirEnv)
	if dir == "" && benchDBs.dir == "" {
		var err error
		if benchDBs.dir, err = os.MkdirTemp("", "newsdesk-bench-"); err != nil {
			b.Fatal(err)
		}
	}
	dir = cmp.Or(dir, benchDBs.dir)
	path := filepath.Join(dir, fmt.Sprintf("%d.db", n))
	db, err := bolt.Open(path, bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if st, _ := db.Stats(b.Context()); st.Stories == n {
		benchDBs.paths[n] = path
		return path
	}
	start := time.Now()
	const chunk = 10_000
	batch := make([]story.Story, 0, chunk)
	for i := range n {
		batch = append(batch, benchStory(i))
		if len(batch) == chunk || i == n-1 {
			if _, err := db.Put(b.Context(), "wire", store.SourceState{}, batch, t0); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	st, _ := db.Stats(b.Context())
	b.Logf("built %d stories in %v: file %d MB", n, time.Since(start).Round(time.Millisecond), st.FileSize>>20)
	benchDBs.paths[n] = path
	return path
}

func benchSizes(b *testing.B) []int {
	if os.Getenv(bigEnv) == "" {
		return []int{10_000}
	}
	return []int{10_000, 1_000_000}
}

func BenchmarkRecent(b *testing.B) {
	for _, n := range benchSizes(b) {
		for _, topic := range []string{"", "t07"} {
			name := fmt.Sprintf("%dk/topic=%s", n/1000, cmp.Or(topic, "all"))
			b.Run(name, func(b *testing.B) {
				db, err := bolt.Open(benchDB(b, n), bolt.Options{})
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				for b.Loop() {
					page, err := db.Recent(b.Context(), store.Query{Topic: topic, Limit: 50})
					if err != nil || len(page.Stories) != 50 {
						b.Fatalf("Recent = %d stories, %v", len(page.Stories), err)
					}
				}
			})
		}
	}
}

func BenchmarkRecentSecondPage(b *testing.B) {
	db, err := bolt.Open(benchDB(b, 10_000), bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	first, err := db.Recent(b.Context(), store.Query{Topic: "t07"})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := db.Recent(b.Context(), store.Query{Topic: "t07", Before: first.Next}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPut stores one feed of 50 stories per transaction, with fsync on.
func BenchmarkPut(b *testing.B) {
	b.Run("new", func(b *testing.B) {
		db, err := bolt.Open(filepath.Join(b.TempDir(), "put.db"), bolt.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		next := 0
		for b.Loop() {
			feed := make([]story.Story, 50)
			for i := range feed {
				feed[i] = benchStory(next)
				next++
			}
			if res, err := db.Put(b.Context(), "wire", store.SourceState{}, feed, t0); err != nil || res.New != 50 {
				b.Fatalf("Put = %+v, %v", res, err)
			}
		}
	})
	b.Run("unchanged", func(b *testing.B) {
		db, err := bolt.Open(filepath.Join(b.TempDir(), "put.db"), bolt.Options{})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		feed := make([]story.Story, 50)
		for i := range feed {
			feed[i] = benchStory(i)
		}
		if _, err := db.Put(b.Context(), "wire", store.SourceState{}, feed, t0); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if res, err := db.Put(b.Context(), "wire", store.SourceState{}, feed, t0); err != nil || res.Unchanged != 50 {
				b.Fatalf("Put = %+v, %v", res, err)
			}
		}
	})
}

// BenchmarkPutSwap stores a feed of 50 undated stubs, then another source's
// full copies of them: 50 link groups whose representative swaps, with
// fsync on. Compare with BenchmarkPut/new, which is one such Put.
func BenchmarkPutSwap(b *testing.B) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "put.db"), bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	next := 0
	for b.Loop() {
		stubs, full := make([]story.Story, 50), make([]story.Story, 50)
		for i := range full {
			full[i] = benchStory(next)
			full[i].Source, full[i].ID = "zulu", story.NewID("zulu", fmt.Sprint(next))
			stubs[i] = benchStory(next)
			stubs[i].Source, stubs[i].ID = "alpha", story.NewID("alpha", fmt.Sprint(next))
			stubs[i].Published, stubs[i].Summary = time.Time{}, "Partner story"
			next++
		}
		if _, err := db.Put(b.Context(), "alpha", store.SourceState{}, stubs, t0); err != nil {
			b.Fatal(err)
		}
		if _, err := db.Put(b.Context(), "zulu", store.SourceState{}, full, t0); err != nil {
			b.Fatal(err)
		}
	}
	if g, err := db.Get(b.Context(), story.NewID("alpha", "0")); err != nil || g.DuplicateOf == "" {
		b.Fatalf("stub 0 = %+v, %v; want a duplicate", g.DuplicateOf, err)
	}
}

// BenchmarkReclassify re-runs a trivial classifier over every stored story,
// as after a topic edit: the cost is the store's, not the classifier's.
func BenchmarkReclassify(b *testing.B) {
	for _, n := range benchSizes(b) {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			db, err := bolt.Open(benchDB(b, n), bolt.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			for b.Loop() {
				if _, err := db.Reclassify(b.Context(), benchClassify); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
