package config_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/internal/config"
	"github.com/newsdesk/newsdesk/internal/story"
	"github.com/newsdesk/newsdesk/internal/topic"
)

// ruleConfig has one topic using every construct of the rule language.
const ruleConfig = minimal + `topics:
  - slug: immigration
    title: Immigration
    rule:
      any:
        - asylum
        - {term: deport*}
        - {term: refugee, exact: true}
        - {term: Mexico, demonyms: false}
        - near: [{term: ICE, case: true}]
          with: [agent, raid, detain*]
          within: 5
        - {term: visa, min_count: 2, in: [content]}
        - {any: [asylum seekers, border, detained], min_count: 3, apart: 10, in: [content]}
    examples:
      match:
        - Asylum seekers wait at the border
        - {title: ICE AGENTS RAID A FARM, summary: Dozens detained., categories: [US], link: "https://example.org/a"}
      no_match:
        - Ice storm hits Texas
        - {title: Mexican food festival}
`

func TestRuleLanguageLoads(t *testing.T) {
	cfg, err := config.Parse("newsdesk.yaml", []byte(ruleConfig))
	if err != nil {
		t.Fatal(err)
	}
	def := cfg.Topics[0]
	any := def.Rule.Any
	if len(any) != 7 || any[1].Term != "deport*" || !any[2].Exact || !any[3].NoDemonyms || any[5].MinCount != 2 ||
		any[6].MinCount != 3 || any[6].Apart != 10 || len(any[6].Any) != 3 {
		t.Errorf("rule = %+v", def.Rule)
	}
	if n := any[4]; len(n.Near) != 1 || !n.Near[0].Case || len(n.With) != 3 || n.Within != 5 {
		t.Errorf("near = %+v", n)
	}
	// Every clause knows its line, so explanations can name it.
	if got, want := any[0].Pos, "newsdesk.yaml:8:11"; got != want {
		t.Errorf("Pos of a bare term = %q, want %q", got, want)
	}
	if got, want := any[4].With[2].Pos, "newsdesk.yaml:13:31"; got != want {
		t.Errorf("Pos of a with term = %q, want %q", got, want)
	}
	if x := def.Examples.Match[1]; x.Title != "ICE AGENTS RAID A FARM" || x.Summary != "Dozens detained." ||
		!slices.Equal(x.Categories, []string{"US"}) || x.Link != "https://example.org/a" || x.Pos != "newsdesk.yaml:20:12" {
		t.Errorf("example = %+v", x)
	}
	tp := cfg.Set.Lookup("immigration")
	for title, want := range map[string]bool{"Deportees land": true, "Refugees": false, "Mexicans vote": false,
		"ice agents detain a farmworker": true} {
		if got := tp.Match(story.Story{Title: title}); got != want {
			t.Errorf("Match(%q) = %v, want %v", title, got, want)
		}
	}
}

func TestRuleLanguageInvalid(t *testing.T) {
	topicWith := func(rule string) string {
		return minimal + "topics:\n  - {slug: a, title: A, rule: " + rule + "}\n"
	}
	tests := []struct {
		name      string
		src       string
		line, col int
		msg       string
	}{
		{"exact is not a bool", topicWith("{term: a, exact: yes please}"), 4, 48, "`exact` expects true or false"},
		{"demonyms is not a bool", topicWith("{term: Japan, demonyms: no way}"), 4, 55, "`demonyms` expects true or false"},
		{"within is not a number", topicWith("{near: [a], with: [b], within: far}"), 4, 62, "`within` expects a whole number of 1 or more"},
		{"within is zero", topicWith("{near: [a], with: [b], within: 0}"), 4, 62, "`within` expects a whole number of 1 or more"},
		{"min_count is negative", topicWith("{term: a, min_count: -2}"), 4, 52, "`min_count` expects a whole number of 1 or more"},
		{"near is a map of nothing", topicWith("{near: , with: [b]}"), 4, 32, "`near` expects a list of words or phrases"},
		{"near without with", topicWith("{near: [a]}"), 4, 31, "with is empty"},
		{"with without near", topicWith("{term: a, with: [b]}"), 4, 47, "with and within only apply to near"},
		{"near of a regex", topicWith("{near: [{regex: x}], with: [b]}"), 4, 39, "near and with list terms"},
		{"min_count beside all", topicWith("{all: [a], min_count: 2}"), 4, 53, "min_count only applies to a term, a near or an any"},
		{"apart is zero", topicWith("{any: [a, b], apart: 0}"), 4, 52, "`apart` expects a whole number of 1 or more"},
		{"apart beside a term", topicWith("{term: a, apart: 5}"), 4, 48, "apart only applies to an any with min_count"},
		{"apart without min_count", topicWith("{any: [a, b], apart: 5}"), 4, 52, "apart only applies to an any with min_count"},
		{"wildcard too short", topicWith("{any: [a, 'de*']}"), 4, 41, "is too short"},
		{"typo'd near key", topicWith("{near: [a], whith: [b]}"), 4, 43, "unknown key `whith`; did you mean `with`?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := problems(t, tt.src)
			for _, p := range errs {
				if p.Line == tt.line && p.Col == tt.col && strings.Contains(p.Msg, tt.msg) {
					return
				}
			}
			t.Errorf("no problem at %d:%d containing %q; got:\n%v", tt.line, tt.col, tt.msg, &errs)
		})
	}
}

func TestFailingExamples(t *testing.T) {
	src := minimal + `topics:
  - slug: immigration
    title: Immigration
    rule:
      any:
        - asylum
        - {term: ICE, case: true}
    examples:
      match:
        - Asylum seekers wait
        - Border wall funding passes
        - {summary: no title}
        - {title: x, categoris: [a]}
      no_match:
        - Ice storm hits Texas
        - ICE agents at the rink
`
	errs := problems(t, src)
	want := []struct {
		line, col int
		msg       string
	}{
		{13, 11, `example "Border wall funding passes" should match immigration but does not: none of the 2 clauses of any at newsdesk.yaml:7:7 found anything`},
		{14, 11, "the example has no `title`"},
		{15, 22, "unknown key `categoris`; did you mean `categories`?"},
		{18, 11, `example "ICE agents at the rink" should not match immigration but does: term "ICE" (case-sensitive) at newsdesk.yaml:9:12 found "ICE" in the title`},
	}
	if len(errs) != len(want) {
		t.Errorf("got %d problems, want %d:\n%v", len(errs), len(want), &errs)
	}
	for _, w := range want {
		if !slices.ContainsFunc(errs, func(p config.Problem) bool {
			return p.Line == w.line && p.Col == w.col && strings.Contains(p.Msg, w.msg) && p.Hint != ""
		}) {
			t.Errorf("no problem at %d:%d containing %q; got:\n%v", w.line, w.col, w.msg, &errs)
		}
	}
}

// TestFingerprintIgnoresPositions: moving a rule down a line (a comment
// added above it) is no edit of the topics, and must not re-file a million
// stories; changing a word is.
func TestFingerprintIgnoresPositions(t *testing.T) {
	a, err := config.Parse("newsdesk.yaml", []byte(ruleConfig))
	if err != nil {
		t.Fatal(err)
	}
	moved := strings.Replace(ruleConfig, "topics:\n", "# a comment\n\ntopics:\n", 1)
	b, err := config.Parse("newsdesk.yaml", []byte(moved))
	if err != nil {
		t.Fatal(err)
	}
	if a.Topics[0].Rule.Pos == b.Topics[0].Rule.Pos {
		t.Fatal("the test moved nothing")
	}
	if topic.Fingerprint(a.Topics) != topic.Fingerprint(b.Topics) {
		t.Error("moving the topics down two lines changed their fingerprint")
	}
	edited, err := config.Parse("newsdesk.yaml", []byte(strings.Replace(ruleConfig, "asylum", "asylum seeker", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if topic.Fingerprint(a.Topics) == topic.Fingerprint(edited.Topics) {
		t.Error("editing a term kept the fingerprint")
	}
}
