// Package benchfeed generates the documents of the ingest benchmark: feed n
// of 50 stories of full HTML articles (about 90 KB), so that the pipeline's
// benchmark (internal/ingest) and its parts' benchmarks (internal/parse,
// internal/topic) measure the same input. Only benchmarks and tests use it.
package benchfeed

import (
	"bytes"
	"fmt"
	"strings"
	"time"
)

// Words are the vocabulary of Prose.
var Words = strings.Fields(`the minister said on tuesday that border agents would expand patrols along the
coast while talks with regional partners continue officials in tokyo and seoul described the drills as
routine but analysts warned that tensions over fishing grounds and shipping lanes could escalate quickly
housing costs rose again as mortgage rates stayed high and utilities asked regulators for new transmission
lines to meet data center demand in the coming decade according to the report released this week`)

// Prose returns n deterministic words starting at seed.
func Prose(seed, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(Words[(seed*7+i*13)%len(Words)])
	}
	return b.String()
}

// Feed returns feed n: 50 stories of full HTML content, about 90 KB,
// RSS 2.0 for even n and Atom for odd n.
func Feed(n int) []byte {
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
			fmt.Fprintf(&content, `<p>%s <a href="/story/%d-%d">%s</a> %s.</p>`, Prose(n+i+p, 14), n, i, Prose(i, 3), Prose(n*i+p, 12))
		}
		fmt.Fprintf(&content, `<p><img src="/img/%d-%d.jpg" alt="%s"></p>`, n, i, Prose(i, 4))
		title := Prose(n*50+i, 9)
		date := time.Date(2026, 1, 28, 12, 0, 0, 0, time.UTC).Add(-time.Duration(i) * time.Hour)
		if atom {
			fmt.Fprintf(&b, `<entry><title>%s</title><id>%s/story/%d-%d</id><link href="%s/story/%d-%d"/><updated>%s</updated><author><name>Desk %d</name></author><summary>%s</summary><content type="html"><![CDATA[%s]]></content></entry>`,
				title, host, n, i, host, n, i, date.Format(time.RFC3339), i%5, Prose(i, 25), content.String())
		} else {
			fmt.Fprintf(&b, `<item><title>%s</title><link>%s/story/%d-%d</link><guid>%s/story/%d-%d</guid><pubDate>%s</pubDate><category>world</category><description>%s</description><content:encoded><![CDATA[%s]]></content:encoded></item>`,
				title, host, n, i, host, n, i, date.Format(time.RFC1123Z), Prose(i, 25), content.String())
		}
	}
	if atom {
		b.WriteString(`</feed>`)
	} else {
		b.WriteString(`</channel></rss>`)
	}
	return b.Bytes()
}
