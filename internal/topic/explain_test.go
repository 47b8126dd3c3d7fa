package topic_test

import (
	"reflect"
	"testing"

	"github.com/newsdesk/newsdesk/internal/story"
	"github.com/newsdesk/newsdesk/internal/topic"
)

func TestExplain(t *testing.T) {
	tp := mustNew(t, topic.Rule{All: []topic.Rule{
		{MinScore: 2, Any: []topic.Rule{
			{Term: "deportation", Weight: 2},
			{Term: "border patrol"},
			{Regex: `migrants?`, In: []topic.Field{topic.Title}},
		}},
		{Not: &topic.Rule{Term: "football"}},
	}})
	tests := []struct {
		name string
		s    story.Story
		want topic.Explanation
	}{
		{"near miss: one weak signal", story.Story{Title: "Border Patrol adds agents", ContentText: "More border patrol."},
			topic.Explanation{Score: 1, Reason: "rule.all[0] did not match", Clauses: []topic.Clause{
				{Path: "rule", Desc: "all of 2", Score: 1},
				{Path: "rule.all[0]", Desc: "any of 3 (min_score 2)", Score: 1},
				{Path: "rule.all[0].any[0]", Desc: `term "deportation" in title,summary,content weight 2`},
				{Path: "rule.all[0].any[1]", Desc: `term "border patrol" in title,summary,content`, Matched: true, Score: 1,
					Field: topic.Title, Words: []string{"Border Patrol", "border patrol"}},
				{Path: "rule.all[0].any[2]", Desc: `regex "migrants?" in title`},
				{Path: "rule.all[1]", Desc: "not", Matched: true, Score: 1},
				{Path: "rule.all[1].not", Desc: `term "football" in title,summary,content`},
			}}},
		{"two weak signals", story.Story{Title: "Migrants meet border patrol"},
			topic.Explanation{Matched: true, Score: 2, Reason: `rule.all[0].any[1] matched in title: "border patrol"`, Clauses: []topic.Clause{
				{Path: "rule", Desc: "all of 2", Matched: true, Score: 2},
				{Path: "rule.all[0]", Desc: "any of 3 (min_score 2)", Matched: true, Score: 2},
				{Path: "rule.all[0].any[0]", Desc: `term "deportation" in title,summary,content weight 2`},
				{Path: "rule.all[0].any[1]", Desc: `term "border patrol" in title,summary,content`, Matched: true, Score: 1,
					Field: topic.Title, Words: []string{"border patrol"}},
				{Path: "rule.all[0].any[2]", Desc: `regex "migrants?" in title`, Matched: true, Score: 1,
					Field: topic.Title, Words: []string{"Migrants"}},
				{Path: "rule.all[1]", Desc: "not", Matched: true, Score: 1},
				{Path: "rule.all[1].not", Desc: `term "football" in title,summary,content`},
			}}},
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
		{"nothing matched", topic.Rule{Any: []topic.Rule{term("visa"), term("asylum")}}, "no clause matched"},
		{"leaf missed", term("visa"), "no clause matched"},
		{"score below min_score", topic.Rule{MinScore: 2, Any: []topic.Rule{term("storm"), term("visa")}}, "score 1 below min_score 2"},
		{"excluded by not", topic.Rule{Not: &topic.Rule{Term: "storm"}}, `excluded by rule: "storm"`},
		{"first failing child of all", topic.Rule{All: []topic.Rule{term("storm"), term("visa")}}, "rule.all[1] did not match"},
		{"matched, with the words", topic.Rule{Any: []topic.Rule{term("visa"), term("ice storm")}}, `rule.any[1] matched in title: "Ice storm"`},
		{"matched through not", topic.Rule{Not: &topic.Rule{Term: "visa"}}, "rule matched"},
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
