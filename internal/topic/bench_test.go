package topic_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/benchfeed"
	"github.com/newsdesk/newsdesk/internal/config"
	"github.com/newsdesk/newsdesk/internal/parse"
	"github.com/newsdesk/newsdesk/internal/story"
	"github.com/newsdesk/newsdesk/internal/topic"
)

// benchSubjects seed 50 topics: each topic takes a few of these phrases
// as terms, some as case-sensitive acronyms, some behind regexes and nesting.
var benchSubjects = []string{
	"immigration", "asylum", "border patrol", "deportation", "visa", "refugees", "climate change", "carbon tax",
	"heatwave", "wildfire", "flood", "hurricane", "interest rates", "inflation", "central bank", "stock market",
	"unemployment", "trade deal", "tariffs", "supply chain", "artificial intelligence", "chatbot", "semiconductor",
	"data breach", "ransomware", "election", "parliament", "prime minister", "supreme court", "minimum wage",
	"public health", "vaccine", "hospital", "school funding", "housing crisis", "rent control", "oil prices",
	"electric vehicles", "solar power", "nuclear-powered", "South China Sea", "Taiwan Strait", "ceasefire",
	"peace talks", "sanctions", "space station", "Mars rover", "world cup", "Olympic Games", "transfer window",
}

func benchTopics(b *testing.B) *topic.Set {
	b.Helper()
	var topics []*topic.Topic
	n := len(benchSubjects)
	for i := range 50 {
		kids := []topic.Rule{term(benchSubjects[i%n]), term(benchSubjects[(i+7)%n]), term(benchSubjects[(i+13)%n])}
		var rule topic.Rule
		switch i % 5 {
		case 0: // plain any
			rule = topic.Rule{Any: append(kids, topic.Rule{Term: "EU", Case: true})}
		case 1: // any with an exclusion, three levels deep
			rule = topic.Rule{All: []topic.Rule{{Any: kids},
				{Not: &topic.Rule{Any: []topic.Rule{term("football"), {All: []topic.Rule{term("film"), term("review")}}}}}}}
		case 2: // weighted
			rule = topic.Rule{MinScore: 2, Any: append(kids, topic.Rule{Term: benchSubjects[(i+21)%n], Weight: 2})}
		case 3: // a regex among terms
			rule = topic.Rule{Any: append(kids, topic.Rule{Regex: fmt.Sprintf(`\b%s(s|ed|ing)?\b`, strings.Fields(benchSubjects[(i+3)%n])[0])})}
		case 4: // title-only terms and a category
			rule = topic.Rule{Any: []topic.Rule{{Any: kids, In: []topic.Field{topic.Title}},
				{Term: benchSubjects[(i+5)%n], In: []topic.Field{topic.Categories}}}}
		}
		tp, err := topic.New(topic.Definition{Slug: fmt.Sprintf("topic-%d", i), Title: "Topic", Rule: rule})
		if err != nil {
			b.Fatal(err)
		}
		topics = append(topics, tp)
	}
	return topic.NewSet(topics...)
}

// benchStory is a long article (~5 KB of HTML content) that mentions a
// handful of the subjects.
func benchStory() story.Story {
	para := "<p>The minister said on Tuesday that the government would review its policy on <b>asylum</b> claims " +
		"after a week of debate in parliament, while economists warned that inflation and interest rates " +
		"could weigh on the housing market. Officials at the border said the new rules would take effect " +
		"next month. &ldquo;We are listening,&rdquo; a spokesperson told reporters&nbsp;outside the building.</p>\n"
	content := strings.Repeat(para, 5000/len(para)+1)
	return story.Story{
		Source: "wire", SourceTitle: "Sample Wire", Link: "https://www.example.org/news/2026/11/asylum-review",
		Title:      "Government to review asylum rules as parliament debates inflation",
		Summary:    "<p>Ministers promise a review of the asylum system amid rising prices.</p>",
		Content:    content,
		Categories: []string{"Politics", "Economy", "Immigration"},
		Authors:    []story.Author{{Name: "Ann Reporter"}},
	}
}

// BenchmarkClassify runs one story against 50 topics: "html" reads the
// content HTML (tags and entities to strip), "text" reads ContentText as
// parse provides it.
func BenchmarkClassify(b *testing.B) {
	set := benchTopics(b)
	html := benchStory()
	text := html
	text.SummaryText = "Ministers promise a review of the asylum system amid rising prices."
	text.ContentText = strings.NewReplacer("<p>", "", "</p>", "", "<b>", "", "</b>", "",
		"&ldquo;", "\u201c", "&rdquo;", "\u201d", "&nbsp;", "\u00a0").Replace(html.Content)
	for _, bc := range []struct {
		name string
		s    story.Story
	}{{"html", html}, {"text", text}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.s.Content)))
			b.ReportAllocs()
			var got []string
			for b.Loop() {
				got = set.Classify(bc.s)
			}
			if len(got) == 0 {
				b.Fatal("the benchmark story matched no topic")
			}
		})
	}
}

// richTopics are 50 topics written with the constructs of issue 7: place
// names with their demonyms, wildcards, near clauses and counted terms,
// beside the plain terms of benchTopics.
func richTopics(b *testing.B) *topic.Set {
	b.Helper()
	places := []string{"Japan", "Mexico", "Ukraine", "Philippines", "South Korea", "Taiwan", "Peru", "Latin America"}
	n := len(benchSubjects)
	var topics []*topic.Topic
	for i := range 50 {
		first := strings.Fields(benchSubjects[(i+3)%n])[0]
		prefix := first[:min(len(first), 5)] + "*"
		rule := topic.Rule{All: []topic.Rule{
			{Any: []topic.Rule{
				term(benchSubjects[i%n]),
				{Term: places[i%len(places)]},
				{Term: prefix, In: []topic.Field{topic.Title, topic.Summary}},
				{Near: []topic.Rule{term(benchSubjects[(i+7)%n])}, With: []topic.Rule{term(benchSubjects[(i+13)%n]), term("policy")}, Within: 8},
				{Term: benchSubjects[(i+21)%n], MinCount: 2, In: []topic.Field{topic.Content}},
				{Near: []topic.Rule{{Term: "EU", Case: true}}, With: []topic.Rule{term("minister*"), term("summit")}},
			}},
			{Not: &topic.Rule{Any: []topic.Rule{term("football"), {Term: "film review", Exact: true}}}},
		}}
		tp, err := topic.New(topic.Definition{Slug: fmt.Sprintf("rich-%d", i), Title: "Rich", Rule: rule})
		if err != nil {
			b.Fatal(err)
		}
		topics = append(topics, tp)
	}
	return topic.NewSet(topics...)
}

// BenchmarkClassifyRich is BenchmarkClassify's text story against
// richTopics: what richer rules cost beside the plain ones.
func BenchmarkClassifyRich(b *testing.B) {
	set := richTopics(b)
	s := benchStory()
	s.SummaryText = "Ministers promise a review of the asylum system amid rising prices."
	s.ContentText = normalizeForBench(s.Content)
	b.SetBytes(int64(len(s.Content)))
	b.ReportAllocs()
	var got []string
	for b.Loop() {
		got = set.Classify(s)
	}
	if len(got) == 0 {
		b.Fatal("the benchmark story matched no topic")
	}
}

func normalizeForBench(html string) string {
	return strings.NewReplacer("<p>", "", "</p>", "", "<b>", "", "</b>", "",
		"&ldquo;", "\u201c", "&rdquo;", "\u201d", "&nbsp;", "\u00a0").Replace(html)
}

// BenchmarkMatch is one topic on its own, as preview and Reclassify call it.
func BenchmarkMatch(b *testing.B) {
	tp := benchTopics(b).Topics()[1]
	s := benchStory()
	b.ReportAllocs()
	for b.Loop() {
		tp.Match(s)
	}
}

// ingestStories parses feeds ingest benchmark feeds as the pipeline does.
func ingestStories(tb testing.TB, feeds int) []story.Story {
	tb.Helper()
	var out []story.Story
	for n := range feeds {
		src := story.Source{Name: fmt.Sprintf("feed-%d", n), Title: "Feed", URL: fmt.Sprintf("http://127.0.0.1/feed/%d", n)}
		feed, err := parse.Stories(parse.Input{Source: src, Body: benchfeed.Feed(n), ContentType: "application/xml", URL: src.URL},
			time.Date(2026, 1, 30, 12, 0, 0, 0, time.UTC))
		if err != nil {
			tb.Fatal(err)
		}
		for _, s := range feed.Stories {
			s.Source, s.SourceTitle = src.Name, src.Title
			out = append(out, s)
		}
	}
	return out
}

func defaultSet(tb testing.TB) *topic.Set {
	tb.Helper()
	cfg, err := config.Load(filepath.Join("..", "..", "config", "newsdesk.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	return cfg.Set
}

// BenchmarkClassifyIngest is the default topics of config/newsdesk.yaml
// on the stories of the ingest benchmark (a 9-word title, a 25-word
// summary, ~250 words of HTML content, as parse gives them): ns/op is per
// story, the share of classification in issue 8's first pass.
func BenchmarkClassifyIngest(b *testing.B) {
	set := defaultSet(b)
	stories := ingestStories(b, 20)
	b.ReportAllocs()
	b.ResetTimer()
	n, cpu := 0, cpuTime()
	for b.Loop() {
		set.Classify(stories[n%len(stories)])
		n++
	}
	if end := cpuTime(); cpu >= 0 && end >= 0 && n > 0 {
		// The CPU time per story: on a shared machine, steadier than ns/op.
		b.ReportMetric(float64(end-cpu)/float64(n), "cpu-ns/op")
	}
}
