package status

import (
	"fmt"
	"html"
	"html/template"
	"strings"
	"time"
)

// ChartSize is the shape of a Chart.
type ChartSize int

// The chart shapes.
const (
	Sparkline ChartSize = iota // 120×24, bars only: a table cell
	Wide                       // 360×72, with the peak and the first and last dates written in
)

// Chart draws counts (one per day, the first on from) as an inline SVG bar
// chart: no script, no external file, so it shows in any browser and in
// pages saved to disk. Each bar carries its date and count as a <title>,
// which browsers show as a tooltip; the chart as a whole has a role and an
// aria-label that say what it shows, for screen readers and text browsers.
// Colours come from the page's CSS (classes chart, bar, zero, base, label).
//
// It is exported for the other HTML pages (a topic page's activity, say).
func Chart(counts []int, from time.Time, size ChartSize) template.HTML {
	w, h, top, bottom := 120.0, 24.0, 0.0, 0.0
	if size == Wide {
		w, h, top, bottom = 360, 72, 12, 12
	}
	peak, total := 0, 0
	for _, n := range counts {
		peak, total = max(peak, n), total+n
	}
	var b strings.Builder
	label := fmt.Sprintf("New stories per day, %s to %s: %d in all, at most %d in a day",
		day(from), day(from.AddDate(0, 0, max(len(counts)-1, 0))), total, peak)
	fmt.Fprintf(&b, `<svg class="chart" role="img" aria-label="%s" viewBox="0 0 %g %g" width="%g" height="%g">`,
		html.EscapeString(label), w, h, w, h)
	fmt.Fprintf(&b, `<title>%s</title>`, html.EscapeString(label))
	if n := len(counts); n > 0 {
		const gap = 1.0
		bar := (w - gap*float64(n-1)) / float64(n)
		room := h - top - bottom - 1 // one pixel for the baseline
		for i, c := range counts {
			x := float64(i) * (bar + gap)
			bh, class := 1.0, "bar zero" // a zero day is a stub on the baseline, so the days stay countable
			if c > 0 && peak > 0 {
				bh, class = max(room*float64(c)/float64(peak), 2), "bar"
			}
			fmt.Fprintf(&b, `<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %d</title></rect>`,
				class, x, h-bottom-1-bh, bar, bh, day(from.AddDate(0, 0, i)), c)
		}
	}
	fmt.Fprintf(&b, `<line class="base" x1="0" y1="%g" x2="%g" y2="%g"/>`, h-bottom-0.5, w, h-bottom-0.5)
	if size == Wide {
		fmt.Fprintf(&b, `<text class="label" x="0" y="9">peak %d a day</text>`, peak)
		fmt.Fprintf(&b, `<text class="label" x="0" y="%g">%s</text>`, h-1, day(from))
		fmt.Fprintf(&b, `<text class="label" x="%g" y="%g" text-anchor="end">%s</text>`, w, h-1,
			day(from.AddDate(0, 0, max(len(counts)-1, 0))))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // every value in it is a number or escaped
}

func day(t time.Time) string { return t.UTC().Format("2 Jan") }
