package render_test

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/gorilla/feeds"

	"github.com/newsdesk/newsdesk/internal/render"
	"github.com/newsdesk/newsdesk/internal/story"
)

// The render budget of a cache fill: 50 stories of ~6 KB HTML in 2 ms for
// RSS and 3 ms for Atom and JSON. The whole fill (render, hash, gzip) is
// measured in internal/server's BenchmarkFill.
const benchStories = 50

// BenchmarkWrite renders 50 stories and reports the document's size and its
// bytes per item (the 50-item document less the empty one, over 50): the
// figure to set beside BenchmarkGorilla's.
func BenchmarkWrite(b *testing.B) {
	stories := bigStories(benchStories)
	for _, f := range formats {
		b.Run(f.Ext(), func(b *testing.B) {
			ch := channelFor(f)
			empty := write(b, f, ch, nil)
			var buf bytes.Buffer
			defer reportCPU(b)()
			for b.Loop() {
				buf.Reset()
				if err := render.Write(&buf, f, ch, stories); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(buf.Len()), "bytes/doc")
			b.ReportMetric(float64(buf.Len()-len(empty))/benchStories, "bytes/item")
		})
	}
}

// BenchmarkGorilla renders the same stories with plain gorilla/feeds, the
// baseline for what the wrappers cost, in time and in bytes per item.
func BenchmarkGorilla(b *testing.B) {
	ch := channelFor(render.RSS)
	feed, empty := gorillaFeed(ch, bigStories(benchStories)), gorillaFeed(ch, nil)
	for _, tt := range []struct {
		name string
		to   func(*feeds.Feed) (string, error)
	}{
		{"rss", (*feeds.Feed).ToRss},
		{"atom", (*feeds.Feed).ToAtom},
		{"json", (*feeds.Feed).ToJSON},
	} {
		b.Run(tt.name, func(b *testing.B) {
			e, err := tt.to(empty)
			if err != nil {
				b.Fatal(err)
			}
			var doc string
			defer reportCPU(b)()
			for b.Loop() {
				if doc, err = tt.to(feed); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(doc)), "bytes/doc")
			b.ReportMetric(float64(len(doc)-len(e))/benchStories, "bytes/item")
		})
	}
}

// gorillaFeed is the stories as gorilla/feeds' own model takes them, with
// the fields it has: id, title, link, source, author, summary, content,
// dates and the one enclosure.
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
