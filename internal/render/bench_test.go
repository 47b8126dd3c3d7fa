package render_test

import (
	"bytes"
	"compress/gzip"
	"strconv"
	"testing"

	"github.com/gorilla/feeds"

	"github.com/newsdesk/newsdesk/internal/render"
	"github.com/newsdesk/newsdesk/internal/story"
)

// The serving budget for a cache fill of 50 stories (render + gzip at
// BestSpeed) is 2 ms for RSS and 3 ms for Atom and JSON.
const benchStories = 50

func BenchmarkWrite(b *testing.B) {
	stories := bigStories(benchStories)
	for _, f := range formats {
		b.Run(f.Ext(), func(b *testing.B) {
			ch := channelFor(f)
			var buf bytes.Buffer
			defer reportCPU(b)()
			for b.Loop() {
				buf.Reset()
				if err := render.Write(&buf, f, ch, stories); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(buf.Len()), "bytes/doc")
		})
	}
}

// BenchmarkWriteGzip measures what the server's cache fill costs: render,
// then compress at BestSpeed.
func BenchmarkWriteGzip(b *testing.B) {
	stories := bigStories(benchStories)
	for _, f := range formats {
		b.Run(f.Ext(), func(b *testing.B) {
			ch := channelFor(f)
			var buf, gz bytes.Buffer
			zw, err := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
			if err != nil {
				b.Fatal(err)
			}
			defer reportCPU(b)()
			for b.Loop() {
				buf.Reset()
				gz.Reset()
				if err := render.Write(&buf, f, ch, stories); err != nil {
					b.Fatal(err)
				}
				zw.Reset(&gz)
				if _, err := zw.Write(buf.Bytes()); err != nil {
					b.Fatal(err)
				}
				if err := zw.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(gz.Len()), "gzbytes/doc")
		})
	}
}

// BenchmarkGzip compresses an already rendered document, to show how much of
// the cache fill is compression rather than rendering.
func BenchmarkGzip(b *testing.B) {
	stories := bigStories(benchStories)
	for _, f := range formats {
		b.Run(f.Ext(), func(b *testing.B) {
			doc := write(b, f, channelFor(f), stories)
			var gz bytes.Buffer
			zw, err := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
			if err != nil {
				b.Fatal(err)
			}
			defer reportCPU(b)()
			for b.Loop() {
				gz.Reset()
				zw.Reset(&gz)
				if _, err := zw.Write(doc); err != nil {
					b.Fatal(err)
				}
				if err := zw.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGorilla renders the same stories with plain gorilla/feeds, the
// baseline for what the wrappers cost.
func BenchmarkGorilla(b *testing.B) {
	feed := gorillaFeed(channelFor(render.RSS), bigStories(benchStories))
	for _, tt := range []struct {
		name string
		to   func() (string, error)
	}{
		{"rss", feed.ToRss},
		{"atom", feed.ToAtom},
		{"json", feed.ToJSON},
	} {
		b.Run(tt.name, func(b *testing.B) {
			defer reportCPU(b)()
			for b.Loop() {
				if _, err := tt.to(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func gorillaFeed(ch render.Channel, stories []story.Story) *feeds.Feed {
	f := &feeds.Feed{Title: ch.Title, Link: &feeds.Link{Href: ch.HTMLURL}, Description: ch.Description,
		Author: &feeds.Author{Name: ch.Author}, Updated: ch.Updated, Id: ch.ID}
	for _, s := range stories {
		e := s.Enclosures[0]
		f.Items = append(f.Items, &feeds.Item{
			Id: ch.ItemIDPrefix + s.ID, IsPermaLink: "false", Title: s.Title, Link: &feeds.Link{Href: s.Link},
			Source: &feeds.Link{Href: s.SourceURL}, Author: &feeds.Author{Name: s.Authors[0].Name},
			Description: s.Summary, Content: s.Content, Created: s.Published, Updated: s.Updated,
			Enclosure: &feeds.Enclosure{Url: e.URL, Type: e.Type, Length: strconv.FormatInt(e.Length, 10)},
		})
	}
	return f
}

// reportCPU starts measuring CPU time; the function it returns reports
// cpu-ns/op, which stays meaningful when other processes load the machine.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
		}
	}
}
