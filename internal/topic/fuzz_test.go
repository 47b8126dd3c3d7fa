package topic_test

import (
	"html"
	"slices"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/newsdesk/newsdesk/internal/story"
	"github.com/newsdesk/newsdesk/internal/topic"
)

// FuzzMatchSelf checks the promise behind every term: a run of words taken
// from a title matches that title, whatever the title holds (odd spaces,
// accents, punctuation, invalid UTF-8). Seeds: testdata/fuzz/FuzzMatchSelf.
func FuzzMatchSelf(f *testing.F) {
	f.Add("ICE agent blocked from Ecuador consulate", uint8(0), uint8(1))
	f.Add("South Korea\u2019s nuclear-powered submarine", uint8(1), uint8(2))
	f.Add("ａｓｙｌｕｍ\u00a0seekers (U.S.) C++ #MeToo", uint8(2), uint8(3))
	f.Fuzz(func(t *testing.T, title string, from, n uint8) {
		if strings.Contains(title, "*") {
			return // a wildcard in a term is syntax, not text
		}
		fields := strings.Fields(title)
		if len(fields) == 0 {
			return
		}
		i := int(from) % len(fields)
		j := i + int(n)%(len(fields)-i)
		term := strings.Join(fields[i:j+1], " ")
		tp, err := topic.New(topic.Definition{Slug: "self", Title: "Self", Rule: topic.Rule{Term: term}})
		if err != nil {
			return // no letters or digits left after normalization
		}
		if !tp.Match(story.Story{Title: title}) {
			t.Errorf("term %q does not match its title %q", term, title)
		}
		// Markup and entities in a title are text; as HTML content they
		// are markup, so the title is escaped into it.
		if content := "<p>" + html.EscapeString(title) + "</p>"; !tp.Match(story.Story{Content: content}) {
			t.Errorf("term %q does not match its title as HTML %q", term, content)
		}
		ct, err := topic.New(topic.Definition{Slug: "self", Title: "Self", Rule: topic.Rule{Term: term, Case: true}})
		if err != nil {
			t.Fatalf("case-sensitive term %q refused: %v", term, err)
		}
		// A title without case information cannot confirm a
		// case-sensitive term: there it is left to near clauses.
		if got, cased := ct.Match(story.Story{Title: title}), hasCase(title); got != cased {
			t.Errorf("case-sensitive term %q in its title %q: Match = %v, want %v (the title has case information: %v)",
				term, title, got, cased, cased)
		}
	})
}

// hasCase reports whether s, read as the matcher reads it (invalid UTF-8
// replaced, then NFKC), holds both an upper-case and a lower-case letter.
// NFKC alone leaves a letter after an invalid byte as it is: "\xf3ǅ" stayed
// one title-case letter where the matcher reads "\uFFFDDž", upper and lower.
func hasCase(s string) bool {
	s = norm.NFKC.String(strings.ToValidUTF8(s, "\uFFFD"))
	upper := func(r rune) bool { return unicode.IsUpper(r) || unicode.IsTitle(r) }
	return strings.IndexFunc(s, upper) >= 0 && strings.IndexFunc(s, unicode.IsLower) >= 0
}

// FuzzRule feeds arbitrary terms, regexes and rule shapes to New: it may
// refuse them, but never panic, and an accepted rule must evaluate without
// panicking and with Match agreeing with Explain and with the walk
// without shortcuts. Seeds: testdata/fuzz/FuzzRule.
func FuzzRule(f *testing.F) {
	f.Add("border patrol", `deport(ed|ation)`, false, uint8(0), "Border Patrol deported")
	f.Add("ICE", `(i?)visa`, true, uint8(7), "ICE storm")
	f.Add("", `(?=x)`, false, uint8(255), "")
	f.Add("ICE", `x`, true, uint8(5), "ice agents detain")
	f.Add("Japan", `x`, false, uint8(6), "Japanese navy Japanese")
	f.Add("bbc", `x`, false, uint8(7), "bbc.co.uk")
	f.Add("deport", `x`, false, uint8(8), "尖閣 deportees")
	f.Add("border crossings", `x`, false, uint8(0), "border agents at the border crossings")
	f.Add("US border", `x`, false, uint8(6), "us border US-border")
	f.Fuzz(func(t *testing.T, term, regex string, caseSens bool, shape uint8, title string) {
		fields := []topic.Field{topic.Title, topic.Summary, topic.Content, topic.Categories, topic.Author, topic.SourceName, topic.LinkHost}
		leafT := topic.Rule{Term: term, Case: caseSens}
		leafR := topic.Rule{Regex: regex, In: []topic.Field{fields[int(shape)%len(fields)]}}
		var rule topic.Rule
		switch shape % 9 {
		case 0:
			rule = leafT
		case 1:
			rule = topic.Rule{Any: []topic.Rule{leafT, leafR}, MinScore: float64(shape % 3)}
		case 2:
			rule = topic.Rule{All: []topic.Rule{leafT, {Not: &leafR}}}
		case 3:
			rule = topic.Rule{Not: &topic.Rule{Any: []topic.Rule{{All: []topic.Rule{leafR}}, leafT}}}
		case 4:
			rule = topic.Rule{Term: term, Regex: regex} // always refused
		case 5:
			rule = topic.Rule{Near: []topic.Rule{leafT}, With: []topic.Rule{{Term: title}, {Term: term + "*"}}, Within: int(shape % 4)}
		case 6:
			rule = topic.Rule{Term: term, Exact: shape&16 != 0, NoDemonyms: shape&32 != 0, MinCount: int(shape % 3)}
		case 7:
			rule = topic.Rule{Term: term, In: []topic.Field{topic.LinkHost, topic.Title}}
		case 8:
			rule = topic.Rule{Any: []topic.Rule{{Term: term + "*"}, {Not: &topic.Rule{Term: title, Case: caseSens}}}}
		}
		tp, err := topic.New(topic.Definition{Slug: "fuzz", Title: "Fuzz", Rule: rule})
		if err != nil {
			if tp != nil {
				t.Fatal("New returned a topic and an error")
			}
			return
		}
		s := story.Story{Title: title, Summary: "<p>" + title + "</p>", ContentText: term + " " + title,
			Categories: []string{title, term}, Authors: []story.Author{{Name: title}}, Source: title,
			Link: "https://www." + title + ".example/"}
		m := tp.Match(s)
		if ex := tp.Explain(s); ex.Matched != m {
			t.Fatalf("Match = %v, Explain.Matched = %v for %+v", m, ex.Matched, rule)
		}
		if full := topic.MatchExhaustive(tp, s); full != m {
			t.Fatalf("Match = %v, without shortcuts %v for %+v", m, full, rule)
		}
		// A set shares one doc and one merged lexicon among its topics:
		// it must agree with each topic on its own.
		other, err := topic.New(topic.Definition{Slug: "test", Title: "Test", Rule: topic.Rule{Any: []topic.Rule{{Term: "asylum"}, {Term: title + "*"}}}})
		if err != nil {
			other = mustNew(t, topic.Rule{Any: []topic.Rule{{Term: "asylum"}, {Term: "deport*"}}})
		}
		got := topic.NewSet(other, tp).Classify(s)
		if want := m; slices.Contains(got, "fuzz") != want || slices.Contains(got, "test") != other.Match(s) {
			t.Fatalf("Classify = %q, but Match says fuzz %v, test %v", got, m, other.Match(s))
		}
	})
}
