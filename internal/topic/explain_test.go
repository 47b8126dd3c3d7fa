package topic_test

import (
	"reflect"
	"testing"

	"github.com/newsdesk/newsdesk/internal/story"
	"github.com/newsdesk/newsdesk/internal/topic"
)

func TestExplain(t *testing.T) {
	rule := topic.Rule{Pos: "t.yaml:1:1", All: []topic.Rule{
		{Pos: "t.yaml:2:3", MinScore: 2, Any: []topic.Rule{
			{Term: "deportation", Weight: 2, Pos: "t.yaml:3:7"},
			{Term: "border patrol", Pos: "t.yaml:4:7"},
			{Regex: `migrants?`, In: []topic.Field{topic.Title}, Pos: "t.yaml:5:7"},
		}},
		{Not: &topic.Rule{Term: "football", Pos: "t.yaml:6:10"}, Pos: "t.yaml:6:5"},
	}}
	tp := mustNew(t, rule)
	clauses := func(matched [7]bool, score [7]float64, hits [2]int, words [7][]string) []topic.Clause {
		base := []topic.Clause{
			{Path: "rule", Pos: "t.yaml:1:1", Kind: "all", Desc: "all", Of: 2},
			{Path: "rule.all[0]", Pos: "t.yaml:2:3", Kind: "any", Desc: "any (min_score 2)", Depth: 1, Of: 3},
			{Path: "rule.all[0].any[0]", Pos: "t.yaml:3:7", Kind: "term", Desc: `term "deportation" (weight 2)`, Depth: 2},
			{Path: "rule.all[0].any[1]", Pos: "t.yaml:4:7", Kind: "term", Desc: `term "border patrol"`, Depth: 2},
			{Path: "rule.all[0].any[2]", Pos: "t.yaml:5:7", Kind: "regex", Desc: `regex "migrants?" (in title)`, Depth: 2},
			{Path: "rule.all[1]", Pos: "t.yaml:6:5", Kind: "not", Desc: "not", Depth: 1},
			{Path: "rule.all[1].not", Pos: "t.yaml:6:10", Kind: "term", Desc: `term "football"`, Depth: 2},
		}
		for i := range base {
			base[i].Matched, base[i].Score, base[i].Words = matched[i], score[i], words[i]
			if len(words[i]) > 0 {
				base[i].Field = topic.Title
			}
		}
		base[0].Hits, base[1].Hits = hits[0], hits[1]
		return base
	}
	tests := []struct {
		name string
		s    story.Story
		want topic.Explanation
	}{
		{"near miss: one weak signal", story.Story{Title: "Border Patrol adds agents", ContentText: "More border patrol."},
			topic.Explanation{Score: 1,
				Reason: `all at t.yaml:1:1 matched 1 of its 2 clauses; but any (min_score 2) at t.yaml:2:3 scored 1, ` +
					`short of its min_score 2 (found "Border Patrol" in the title)`,
				Clauses: clauses([7]bool{3: true, 5: true}, [7]float64{0: 1, 1: 1, 3: 1, 5: 1}, [2]int{1, 1},
					[7][]string{3: {"Border Patrol", "border patrol"}})}},
		{"two weak signals", story.Story{Title: "Migrants meet border patrol"},
			topic.Explanation{Matched: true, Score: 2,
				Reason: `term "border patrol" at t.yaml:4:7 found "border patrol" in the title`,
				Clauses: clauses([7]bool{0: true, 1: true, 3: true, 4: true, 5: true}, [7]float64{2, 2, 0, 1, 1, 1, 0}, [2]int{2, 2},
					[7][]string{3: {"border patrol"}, 4: {"Migrants"}})}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tp.Explain(tt.s)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Explain =\n%+v\nwant\n%+v", got, tt.want)
			}
			if m := tp.Match(tt.s); m != got.Matched {
				t.Errorf("Match = %v but Explain.Matched = %v", m, got.Matched)
			}
		})
	}
}

func TestExplainReason(t *testing.T) {
	tests := []struct {
		name string
		rule topic.Rule
		want string
	}{
		{"nothing matched", topic.Rule{Any: []topic.Rule{term("visa"), term("asylum")}}, "none of the 2 clauses of any (rule) found anything"},
		{"leaf missed", term("visa"), `term "visa" (rule) found nothing`},
		{"score below min_score", topic.Rule{MinScore: 2, Any: []topic.Rule{term("storm"), term("visa")}},
			`any (min_score 2) (rule) scored 1, short of its min_score 2 (found "storm" in the title)`},
		{"excluded by not", topic.Rule{Not: &topic.Rule{Term: "storm"}}, `term "storm" (rule.not) found "storm" in the title, so not (rule) kept the story out`},
		{"first failing child of all", topic.Rule{All: []topic.Rule{term("storm"), term("visa")}},
			`all (rule) matched 1 of its 2 clauses (found "storm" in the title); but term "visa" (rule.all[1]) found nothing`},
		{"matched, with the words", topic.Rule{Any: []topic.Rule{term("visa"), term("ice storm")}}, `term "ice storm" (rule.any[1]) found "Ice storm" in the title`},
		{"matched through not", topic.Rule{Not: &topic.Rule{Term: "visa"}}, "not (rule) matched"},
		{"nearest miss among many", topic.Rule{Any: []topic.Rule{term("visa"), {All: []topic.Rule{term("storm"), term("snow")}}, term("asylum")}},
			`nearest miss: all (rule.any[1]) matched 1 of its 2 clauses (found "storm" in the title); but term "snow" (rule.any[1].all[1]) found nothing`},
		{"near found one side", topic.Rule{Near: []topic.Rule{term("ice")}, With: []topic.Rule{term("agents")}, Within: 3},
			`"ice" near "agents" within 3 words (rule) found "Ice" in the title, but nothing of the other side close enough`},
		{"named by its line", topic.Rule{Term: "visa", Pos: "config/newsdesk.yaml:88:11"}, `term "visa" at config/newsdesk.yaml:88:11 found nothing`},
		{"count short", topic.Rule{Term: "storm", MinCount: 2}, `term "storm" (at least 2 times) (rule) found "storm" in the title only 1 of the 2 times it needs`},
	}
	s := story.Story{Title: "Ice storm hits Texas"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustNew(t, tt.rule).Explain(s).Reason; got != tt.want {
				t.Errorf("Reason = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestExplainAgreesWithMatch guards the short-circuit in Match: it must
// reach the same verdict as the full walk Explain does.
func TestExplainAgreesWithMatch(t *testing.T) {
	set := editorSet(t)
	for _, tp := range set.Topics() {
		for _, s := range editorStories {
			if m, ex := tp.Match(s.Story), tp.Explain(s.Story); m != ex.Matched {
				t.Errorf("%s on %q: Match = %v, Explain.Matched = %v", tp.Slug, s.Title, m, ex.Matched)
			}
		}
	}
}
