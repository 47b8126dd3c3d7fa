package topic

import (
	"regexp"
	"strings"
	"sync"
	"time"
)

// MaxRegexCost is the most a regex may cost on one long story, on a
// machine where a plain word regex costs 0.1 ms there. Ordinary regexes
// cost well under a millisecond; one of a few hundred alternatives with no
// fixed text costs tens of milliseconds, which on a million stored stories
// is hours of re-classification after each edit.
const MaxRegexCost = 2 * time.Millisecond

// costFactor is how many times a plain word regex's cost a regex may cost:
// MaxRegexCost on the reference machine. The limit follows the machine (a
// slow one, or a test binary built with -race, runs every regex slower), so
// the same rule is accepted or refused wherever it is loaded.
const costFactor = 20

// regexCost measures re on a fixed synthetic story of about 5 KB, scanning
// it whole as Explain does, and returns the cost and the limit it is held
// to. A first run well under MaxRegexCost settles it (every ordinary regex
// on an ordinary machine); otherwise the limit is calibrated against a plain
// word regex measured now, and the cost is the fastest of up to five runs,
// stopping at the first run within the limit: a regex is refused only when
// every run is over, so a busy moment (a preempted run on a loaded machine
// takes tens of milliseconds whatever it runs) never refuses an ordinary
// regex.
func regexCost(re *regexp.Regexp) (cost, limit time.Duration) {
	text := costStory()
	run := func(re *regexp.Regexp) time.Duration {
		start := time.Now()
		re.FindAllStringIndex(text, -1)
		return time.Since(start)
	}
	cost = run(re)
	if cost < MaxRegexCost/4 {
		return cost, MaxRegexCost
	}
	ref := referenceRegex()
	base := run(ref)
	for range 4 {
		base = min(base, run(ref))
	}
	limit = max(MaxRegexCost, costFactor*base)
	for i := 0; i < 4 && cost > limit; i++ {
		cost = min(cost, run(re))
	}
	return cost, limit
}

// referenceRegex is the plain word regex the cost limit is calibrated with.
var referenceRegex = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)\bvisa\b`) })

// roundCost prints a cost to two significant figures or so: "31ms", "2.4ms".
func roundCost(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Millisecond:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// costStory is the text regexCost measures on: news prose of about 5 KB,
// the length of a long article, with names, numbers, punctuation and a few
// non-ASCII words, built once.
var costStory = sync.OnceValue(func() string {
	para := "On Tuesday the ministers of the region met in the capital to discuss border security, " +
		"energy prices and the housing shortage, while 2,300 protesters gathered outside. " +
		"Officials said the talks had been \"constructive\" but that no agreement was expected before " +
		"the 14th of November; Zürich, São Paulo and Kraków sent observers. A spokesperson for the " +
		"coast guard told reporters that vessels had been tracked for 36 hours near the disputed islands. "
	var b strings.Builder
	for b.Len() < 5000 {
		b.WriteString(para)
	}
	return b.String()
})
