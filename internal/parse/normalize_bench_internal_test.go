package parse

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/newsdesk/newsdesk/internal/story"
)

// benchWords, benchProse and benchFeed make the documents of the ingest
// benchmark (internal/ingest's benchFeed, which a package test cannot
// import): 50 stories of full HTML content, about 90 KB, RSS 2.0 for even n
// and Atom for odd n, with relative <a href> and an <img>.
var benchWords = strings.Fields(`the minister said on tuesday that border agents would expand patrols along the
coast while talks with regional partners continue officials in tokyo and seoul described the drills as
routine but analysts warned that tensions over fishing grounds and shipping lanes could escalate quickly
housing costs rose again as mortgage rates stayed high and utilities asked regulators for new transmission
lines to meet data center demand in the coming decade according to the report released this week`)

func benchProse(seed, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(benchWords[(seed*7+i*13)%len(benchWords)])
	}
	return b.String()
}

func benchFeed(n int) []byte {
	var b bytes.Buffer
	atom := n%2 == 1
	host := fmt.Sprintf("https://pub%d.example", n%40)
	if atom {
		fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Feed %d</title><id>%s/feed/%d</id><updated>2026-01-28T12:00:00Z</updated><link href="%s/"/>`, n, host, n, host)
	} else {
		fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Feed %d</title><link>%s/</link><description>Feed %d</description>`, n, host, n)
	}
	for i := range 50 {
		var content strings.Builder
		for p := range 9 {
			fmt.Fprintf(&content, `<p>%s <a href="/story/%d-%d">%s</a> %s.</p>`, benchProse(n+i+p, 14), n, i, benchProse(i, 3), benchProse(n*i+p, 12))
		}
		fmt.Fprintf(&content, `<p><img src="/img/%d-%d.jpg" alt="%s"></p>`, n, i, benchProse(i, 4))
		title := benchProse(n*50+i, 9)
		date := time.Date(2026, 1, 28, 12, 0, 0, 0, time.UTC).Add(-time.Duration(i) * time.Hour)
		if atom {
			fmt.Fprintf(&b, `<entry><title>%s</title><id>%s/story/%d-%d</id><link href="%s/story/%d-%d"/><updated>%s</updated><author><name>Desk %d</name></author><summary>%s</summary><content type="html"><![CDATA[%s]]></content></entry>`,
				title, host, n, i, host, n, i, date.Format(time.RFC3339), i%5, benchProse(i, 25), content.String())
		} else {
			fmt.Fprintf(&b, `<item><title>%s</title><link>%s/story/%d-%d</link><guid>%s/story/%d-%d</guid><pubDate>%s</pubDate><category>world</category><description>%s</description><content:encoded><![CDATA[%s]]></content:encoded></item>`,
				title, host, n, i, host, n, i, date.Format(time.RFC1123Z), benchProse(i, 25), content.String())
		}
	}
	if atom {
		b.WriteString(`</feed>`)
	} else {
		b.WriteString(`</channel></rss>`)
	}
	return b.Bytes()
}

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
		in := Input{Source: story.Source{Name: "feed-" + strconv.Itoa(i), Title: "Feed"}, Body: benchFeed(i),
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
