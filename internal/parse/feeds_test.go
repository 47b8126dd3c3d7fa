package parse_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mmcdole/gofeed"

	"github.com/newsdesk/newsdesk/internal/parse"
)

type sample struct {
	path string
	body []byte
}

// bundled returns the sample upstream feeds in the repository's feeds/
// directory, in name order; testdata/ stands in when there are none.
func bundled(t testing.TB) []sample {
	t.Helper()
	var out []sample
	for _, dir := range []string{filepath.Join("..", "..", "feeds"), "testdata"} {
		for _, pattern := range []string{"*.xml", "*.json", "*.rdf"} {
			paths, err := filepath.Glob(filepath.Join(dir, pattern))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range paths {
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, sample{p, b})
			}
		}
		if len(out) > 0 {
			break
		}
	}
	slices.SortFunc(out, func(a, b sample) int { return strings.Compare(a.path, b.path) })
	return out
}

func TestBundledFeeds(t *testing.T) {
	feeds := bundled(t)
	if len(feeds) == 0 {
		t.Skip("no feeds")
	}
	for _, f := range feeds {
		path, body := f.path, f.body
		t.Run(filepath.Base(path), func(t *testing.T) {
			ct := "application/xml"
			if strings.HasSuffix(path, ".json") {
				ct = "application/feed+json"
			}
			f := parseBytes(t, body, ct)
			if len(f.Stories) == 0 {
				t.Fatal("no stories")
			}
			if f.Title == "" {
				t.Error("feed has no title")
			}
			for _, s := range f.Stories {
				if s.ID == "" || s.Title == "" {
					t.Errorf("story without ID or title: %+v", s)
				}
				if strings.Contains(s.Title+s.SummaryText+s.ContentText, "Ã") {
					t.Errorf("%q: mojibake (decoded twice)", s.Title)
				}
			}
		})
	}
}

// BenchmarkStories measures Stories over each bundled feed; compare with
// BenchmarkGofeedParse on the same bytes for our overhead (pre-scan, charset,
// link resolution, sanitizing).
func BenchmarkStories(b *testing.B) {
	feeds := bundled(b)
	b.Run("all", func(b *testing.B) {
		var n int64
		for _, f := range feeds {
			n += int64(len(f.body))
		}
		b.SetBytes(n)
		b.ReportAllocs()
		for b.Loop() {
			for _, f := range feeds {
				if _, err := parse.Stories(parse.Input{Source: src, Body: f.body, URL: feedURL}, now); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	for _, f := range feeds {
		path, body := f.path, f.body
		b.Run(filepath.Base(path), func(b *testing.B) {
			in := parse.Input{Source: src, Body: body, URL: feedURL}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := parse.Stories(in, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGofeedParse is bare gofeed on the bytes BenchmarkStories reads.
func BenchmarkGofeedParse(b *testing.B) {
	p := gofeed.NewParser()
	feeds := bundled(b)
	b.Run("all", func(b *testing.B) {
		var n int64
		for _, f := range feeds {
			n += int64(len(f.body))
		}
		b.SetBytes(n)
		b.ReportAllocs()
		for b.Loop() {
			for _, f := range feeds {
				// Errors are ignored: gofeed alone cannot read some quirks.
				_, _ = p.Parse(bytes.NewReader(f.body))
			}
		}
	})
	for _, f := range feeds {
		path, body := f.path, f.body
		b.Run(filepath.Base(path), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Parse(bytes.NewReader(body)); err != nil {
					b.Skipf("gofeed alone cannot parse it: %v", err)
				}
			}
		})
	}
}
