package parse

import (
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/newsdesk/newsdesk/internal/benchfeed"
	"github.com/newsdesk/newsdesk/internal/story"
)

// BenchmarkNormalize is issue 8's normalize/sanitize share of an ingest
// pass: everything Stories does after gofeed's decode (normalize: bodies
// sanitized, texts, titles, links, dates, IDs), over 20 documents of the
// ingest benchmark's shape (1,000 stories; ns/op ÷ 1,000 is the cost per
// story; cpu-ns/story is the process's CPU time per story, GC included,
// which other work on a shared machine disturbs less). decode runs once,
// outside the timing. Stories is the whole of parse.Stories on the same
// documents, for comparison.
func BenchmarkNormalize(b *testing.B) {
	at := time.Date(2026, 1, 30, 12, 0, 0, 0, time.UTC)
	type decoded struct {
		in  Input
		doc *document
	}
	var docs []decoded
	var inputs []Input
	var total int64
	for i := range 20 {
		in := Input{Source: story.Source{Name: "feed-" + strconv.Itoa(i), Title: "Feed"}, Body: benchfeed.Feed(i),
			ContentType: "application/xml", URL: "http://127.0.0.1:8080/feed/" + strconv.Itoa(i)}
		inputs = append(inputs, in)
		total += int64(len(in.Body))
		doc, err := prepare(in.Body, in.ContentType)
		if err != nil {
			b.Fatal(err)
		}
		docs = append(docs, decoded{in, doc})
	}
	b.Run("normalize", func(b *testing.B) {
		gfs := make([]*gofeed.Feed, len(docs))
		for i, d := range docs {
			gf, err := decode(d.doc)
			if err != nil {
				b.Fatal(err)
			}
			gfs[i] = gf
		}
		b.SetBytes(total)
		b.ReportAllocs()
		cpu := cpuTime(b)
		for b.Loop() {
			for i, d := range docs {
				if f := normalize(d.in, d.doc, gfs[i], at); len(f.Stories) != 50 {
					b.Fatalf("%d stories", len(f.Stories))
				}
			}
		}
		b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N)/1e3, "cpu-ns/story")
	})
	b.Run("stories", func(b *testing.B) {
		b.SetBytes(total)
		b.ReportAllocs()
		for b.Loop() {
			for _, in := range inputs {
				if _, err := Stories(in, at); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

// cpuTime is the CPU time the process has used (getrusage), every thread.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
