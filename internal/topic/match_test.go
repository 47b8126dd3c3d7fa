package topic_test

import (
	"testing"

	"github.com/newsdesk/newsdesk/internal/story"
	"github.com/newsdesk/newsdesk/internal/topic"
)

// mustNew compiles a topic with a fixed slug and title around rule.
func mustNew(t testing.TB, rule topic.Rule) *topic.Topic {
	t.Helper()
	tp, err := topic.New(topic.Definition{Slug: "test", Title: "Test", Rule: rule})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return tp
}

func term(s string) topic.Rule { return topic.Rule{Term: s} }

func TestMatchTitle(t *testing.T) {
	tests := []struct {
		name  string
		rule  topic.Rule
		title string
		want  bool
	}{
		{"phrase", term("border patrol"), "Border Patrol expands checkpoints", true},
		{"phrase not inside longer words", term("border patrol"), "Borderline patrolling of the coast", false},
		{"phrase words must be adjacent", term("border patrol"), "Border officers patrol the coast", false},
		{"phrase across collapsed whitespace", term("border patrol"), "border \t\n  patrol", true},
		{"phrase does not span punctuation", term("border patrol"), "Across the border. Patrol boats wait", false},
		{"ignores case by default", term("visa"), "VISA backlog clears", true},
		{"whole words only", term("visa"), "Visakhapatnam port expands", false},
		{"short agency name inside a word", term("ice"), "A nice price for rice", false},
		{"case-sensitive agency", topic.Rule{Term: "ICE", Case: true}, "ICE agent detained", true},
		{"case-sensitive rejects the weather", topic.Rule{Term: "ICE", Case: true}, "Ice storm hits Texas", false},
		{"case-sensitive rejects lowercase", topic.Rule{Term: "ICE", Case: true}, "skating on the ice", false},
		{"possessive after a phrase", term("South Korea"), "South Korea's exports fall", true},
		{"curly possessive after a phrase", term("South Korea"), "South Korea\u2019s exports fall", true},
		{"hyphenated term matches hyphenated text", term("nuclear-powered"), "A nuclear-powered submarine", true},
		{"hyphen and space are one gap", term("nuclear-powered"), "nuclear powered engines", true},
		{"space and hyphen are one gap", term("Border Patrol"), "Border-Patrol agents", true},
		{"other punctuation is not a soft gap", term("nuclear-powered"), "nuclear/powered", false},
		{"hyphen is a word boundary", term("nuclear"), "A nuclear-powered submarine", true},
		{"unicode hyphen folds to ASCII", term("nuclear-powered"), "A nuclear\u2010powered submarine", true},
		{"non-ASCII letters are word characters", term("Zürich"), "Flights to Zürich resume", true},
		{"non-ASCII boundary", term("Zür"), "Flights to Zürich resume", false},
		{"non-ASCII case folding", term("ÉMIGRÉS"), "Les émigrés reviennent", true},
		{"cyrillic", term("мигранты"), "Мигранты на границе", true},
		{"decomposed accent matches composed term", term("café"), "Cafe\u0301 society", true},
		{"punctuation kept at the end of a term", term("C++"), "Why C++ still matters", true},
		{"punctuation at the end of a term is required", term("C++"), "Why C still matters", false},
		{"hashtag prefix", term("#MeToo"), "The #MeToo movement", true},
		{"hashtag prefix required", term("#MeToo"), "The MeToo movement", false},
		{"dotted abbreviation", term("U.S."), "U.S. border policy", true},
		{"digits are words", term("2026"), "Budget 2026 passes", true},
		{"digits inside a longer number", term("202"), "Budget 2026 passes", false},
		{"empty title", term("visa"), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := mustNew(t, tt.rule)
			if got := tp.Match(story.Story{Title: tt.title}); got != tt.want {
				t.Errorf("Match(%q) = %v, want %v", tt.title, got, tt.want)
			}
		})
	}
}

func TestMatchNormalizesText(t *testing.T) {
	tests := []struct {
		name string
		rule topic.Rule
		s    story.Story
		want bool
	}{
		{"entity nbsp between phrase words in HTML", term("border crossing"), story.Story{Summary: "<p>New border&nbsp;crossing opens</p>"}, true},
		{"raw nbsp between phrase words", term("border crossing"), story.Story{Title: "New border\u00a0crossing opens"}, true},
		{"narrow nbsp and ideographic space", term("border crossing"), story.Story{Title: "border\u202fcrossing and border\u3000crossing"}, true},
		{"zero-width space splits words", term("border crossing"), story.Story{Title: "border\u200bcrossing"}, true},
		{"soft hyphen inside a word vanishes", term("immigration"), story.Story{Title: "immi\u00adgration"}, true},
		{"tags around a word", term("asylum"), story.Story{Summary: "<p>New <b>asylum</b> rules</p>"}, true},
		{"inline tag inside a word keeps it whole", term("asylum"), story.Story{Content: "<p>asy<em>lum</em></p>"}, true},
		{"block tags separate words", term("borderpatrol"), story.Story{Content: "<p>border</p><p>patrol</p>"}, false},
		{"block tags do not glue a phrase", term("border patrol"), story.Story{Content: "<p>border</p><p>patrol</p>"}, true},
		{"attribute text is not content", term("asylum"), story.Story{Content: `<a href="/asylum">link</a>`}, false},
		{"comment is not content", term("asylum"), story.Story{Content: "<!-- asylum --> other"}, false},
		{"entity decoded in HTML", term("AT&T"), story.Story{Content: "<p>AT&amp;T merger</p>"}, true},
		{"numeric entity decoded in HTML", term("asylum"), story.Story{Summary: "&#97;sylum seekers"}, true},
		{"less-than that is not a tag", term("3"), story.Story{Title: "2 < 3 and 4 > 1"}, true},
		{"fullwidth letters fold by NFKC", term("asylum"), story.Story{Title: "ａｓｙｌｕｍ seekers"}, true},
		{"ligature fi", term("fiscal"), story.Story{Title: "The \ufb01scal year"}, true},
		{"curly quotes fold in terms too", term("don\u2019t"), story.Story{Title: "We don't know"}, true},
		{"summary text preferred over summary html", term("visa"), story.Story{Summary: "<p>other</p>", SummaryText: "visa rules"}, true},
		{"content text preferred over content html", term("visa"), story.Story{Content: "<p>visa</p>", ContentText: "other"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := mustNew(t, tt.rule)
			if got := tp.Match(tt.s); got != tt.want {
				t.Errorf("Match(%+v) = %v, want %v", tt.s, got, tt.want)
			}
		})
	}
}

func TestMatchFields(t *testing.T) {
	s := story.Story{
		Title:       "Ministers meet",
		SummaryText: "A summary about visas",
		ContentText: "Long article on asylum policy",
		Categories:  []string{"Politics", "Border", "Patrol"},
		Authors:     []story.Author{{Name: "Ann Reporter"}, {Name: "Bo Writer"}},
		Source:      "sample-wire",
		SourceTitle: "Sample Wire",
		Link:        "https://www.news.bbc.co.uk/world/1",
	}
	in := func(r topic.Rule, f ...topic.Field) topic.Rule { r.In = f; return r }
	tests := []struct {
		name string
		rule topic.Rule
		want bool
	}{
		{"default scope reads content", term("asylum"), true},
		{"default scope reads summary", term("visas"), true},
		{"default scope skips categories", term("politics"), false},
		{"title-only term ignores content", in(term("asylum"), topic.Title), false},
		{"content-only term", in(term("asylum"), topic.Content), true},
		{"category", in(term("politics"), topic.Categories), true},
		{"categories do not form phrases across values", in(term("border patrol"), topic.Categories), false},
		{"author name", in(term("Ann Reporter"), topic.Author), true},
		{"author names do not join", in(term("Reporter Bo"), topic.Author), false},
		{"source name", in(term("sample-wire"), topic.SourceName), true},
		{"source title", in(term("Sample Wire"), topic.SourceName), true},
		{"host without www", in(term("news.bbc.co.uk"), topic.LinkHost), true},
		{"host suffix matches subdomains", in(term("bbc.co.uk"), topic.LinkHost), true},
		{"host www is stripped", in(term("www"), topic.LinkHost), false},
		{"scope is inherited by children", in(topic.Rule{Any: []topic.Rule{term("asylum"), term("visas")}}, topic.Title), false},
		{"child scope overrides parent", in(topic.Rule{Any: []topic.Rule{in(term("asylum"), topic.Content)}}, topic.Title), true},
		{"regex scoped to host", in(topic.Rule{Regex: `bbc\.co\.uk$`}, topic.LinkHost), true},
		{"field names ignore case", in(term("asylum"), "Content"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustNew(t, tt.rule).Match(s); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMatchLogic(t *testing.T) {
	any := func(r ...topic.Rule) topic.Rule { return topic.Rule{Any: r} }
	all := func(r ...topic.Rule) topic.Rule { return topic.Rule{All: r} }
	not := func(r topic.Rule) topic.Rule { return topic.Rule{Not: &r} }
	weighted := func(r topic.Rule, w float64) topic.Rule { r.Weight = w; return r }
	// Two weak signals or one strong one.
	scored := topic.Rule{MinScore: 2, Any: []topic.Rule{
		weighted(term("deportation"), 2),
		term("border"),
		term("migrants"),
		term("policy"),
	}}
	// Three levels: all(any(...), not(any(all(...)))).
	deep := all(
		any(term("asylum"), term("refugee")),
		not(any(term("football"), all(term("film"), any(term("review"), term("premiere"))))),
	)
	tests := []struct {
		name  string
		rule  topic.Rule
		title string
		want  bool
	}{
		{"any: one of several", any(term("asylum"), term("visa")), "Visa rules change", true},
		{"any: none", any(term("asylum"), term("visa")), "Tax rules change", false},
		{"all: both", all(term("asylum"), term("court")), "Court rules on asylum", true},
		{"all: one missing", all(term("asylum"), term("court")), "Asylum rules change", false},
		{"not excludes", all(term("visa"), not(term("football"))), "Visa row over football transfer", false},
		{"not lets others through", all(term("visa"), not(term("football"))), "Visa rules change", true},
		{"not at the root", not(term("football")), "Budget passes", true},
		{"deep: matches", deep, "Refugee camp expands", true},
		{"deep: excluded by level 3", deep, "Refugee film premiere draws crowds", false},
		{"deep: level 3 needs both", deep, "Refugee film wins award", true},
		{"min_score: one strong signal", scored, "Deportation flights resume", true},
		{"min_score: two weak signals", scored, "Migrants reach the border", true},
		{"min_score: one weak signal is not enough", scored, "Border town celebrates", false},
		{"min_score: nothing", scored, "Budget passes", false},
		{"min_score: nested any counts its own weight", topic.Rule{MinScore: 3, Any: []topic.Rule{
			weighted(any(term("asylum"), term("refugee")), 2), term("court")}}, "Court hears refugee case", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustNew(t, tt.rule).Match(story.Story{Title: tt.title}); got != tt.want {
				t.Errorf("Match(%q) = %v, want %v", tt.title, got, tt.want)
			}
		})
	}
}

func TestMatchRegex(t *testing.T) {
	tests := []struct {
		name  string
		rule  topic.Rule
		title string
		want  bool
	}{
		{"ignores case by default", topic.Rule{Regex: `deport(ed|ation)s?`}, "DEPORTATION flights", true},
		{"case-sensitive", topic.Rule{Regex: `\bICE\b`, Case: true}, "Ice storm", false},
		{"case-sensitive match", topic.Rule{Regex: `\bICE\b`, Case: true}, "ICE raids", true},
		{"runs on normalized text", topic.Rule{Regex: `border crossing`}, "border\u00a0crossing", true},
		{"plain text is read as it is", topic.Rule{Regex: `<b>`}, "<b>bold</b>", true},
		{"case inherited from parent", topic.Rule{Case: true, Any: []topic.Rule{{Regex: `ICE`}}}, "nice", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustNew(t, tt.rule).Match(story.Story{Title: tt.title}); got != tt.want {
				t.Errorf("Match(%q) = %v, want %v", tt.title, got, tt.want)
			}
		})
	}
}

func TestMatchGates(t *testing.T) {
	def := topic.Definition{
		Slug: "immigration", Title: "Immigration",
		Sources:  []string{"wire", "gazette"},
		Language: "en",
		Pin:      []string{"pinned-id", "https://example.org/pinned"},
		Block:    []string{"blocked-id", "https://example.org/blocked", "both-id"},
		Rule:     term("asylum"),
	}
	def.Pin = append(def.Pin, "both-id")
	tp, err := topic.New(def)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		s      story.Story
		want   bool
		reason string
	}{
		{"rule matches", story.Story{Source: "wire", Title: "Asylum"}, true, `term "asylum" (rule) found "Asylum" in the title`},
		{"source outside the list", story.Story{Source: "blog", Title: "Asylum"}, false, `source "blog" not in topic sources`},
		{"language prefix takes a region", story.Story{Source: "wire", Language: "en-GB", Title: "Asylum"}, true, ""},
		{"language with underscore", story.Story{Source: "wire", Language: "EN_us", Title: "Asylum"}, true, ""},
		{"other language", story.Story{Source: "wire", Language: "fr", Title: "Asylum"}, false, `language "fr" is not "en"`},
		{"language prefix is per subtag", story.Story{Source: "wire", Language: "eng", Title: "Asylum"}, false, ""},
		{"unknown language passes", story.Story{Source: "wire", Title: "Asylum"}, true, ""},
		{"pinned by id without a rule match", story.Story{ID: "pinned-id", Source: "blog", Title: "Other"}, true, "pinned by admin"},
		{"pinned by link", story.Story{Link: "https://example.org/pinned", Title: "Other"}, true, "pinned by admin"},
		{"blocked by id despite a rule match", story.Story{ID: "blocked-id", Source: "wire", Title: "Asylum"}, false, "blocked by admin"},
		{"blocked by link", story.Story{Link: "https://example.org/blocked", Source: "wire", Title: "Asylum"}, false, "blocked by admin"},
		{"block wins over pin", story.Story{ID: "both-id", Source: "wire", Title: "Asylum"}, false, "blocked by admin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tp.Match(tt.s); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
			ex := tp.Explain(tt.s)
			if ex.Matched != tt.want {
				t.Errorf("Explain.Matched = %v, want %v", ex.Matched, tt.want)
			}
			if tt.reason != "" && ex.Reason != tt.reason {
				t.Errorf("Explain.Reason = %q, want %q", ex.Reason, tt.reason)
			}
		})
	}
	ex := tp.Explain(story.Story{ID: "both-id", Title: "Asylum"})
	if !ex.Pinned || !ex.Blocked || ex.Matched {
		t.Errorf("Explain of a pinned and blocked story = %+v, want Pinned, Blocked and not Matched", ex)
	}
	if len(ex.Clauses) != 1 || !ex.Clauses[0].Matched {
		t.Errorf("Explain of a blocked story should still show its clauses: %+v", ex.Clauses)
	}
}
