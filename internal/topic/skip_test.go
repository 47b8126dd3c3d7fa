package topic_test

import (
	"slices"
	"testing"

	"github.com/newsdesk/newsdesk/internal/story"
	"github.com/newsdesk/newsdesk/internal/topic"
)

// TestSkippedTermsAgreeWithExplain: matching turns away a clause none of
// whose words is in the story without walking it; Explain walks every
// clause. Both must reach the same decision, whatever the kind of term
// (phrase, place form, prefix, case, min_count, host) and wherever it
// stands under any, all, not and min_score.
func TestSkippedTermsAgreeWithExplain(t *testing.T) {
	rules := []topic.Rule{
		{Any: []topic.Rule{term("Senkaku"), term("South China Sea"), term("Korean Peninsula"), term("Taiwan Strait")}},
		{All: []topic.Rule{term("Japan"), {Any: []topic.Rule{term("coast guard"), term("navy")}}}},
		{All: []topic.Rule{term("asylum"), {Not: &topic.Rule{Term: "Arkham"}}}},
		{Any: []topic.Rule{term("deport*"), {Term: "ICE", Case: true}, {Term: "visa", MinCount: 2}}},
		{MinScore: 2, Any: []topic.Rule{term("migrants"), term("border"), term("asylum"), term("boats")}},
		{Any: []topic.Rule{{Term: "example.com", In: []topic.Field{topic.LinkHost}}, term("grid")}},
		{All: []topic.Rule{{Any: []topic.Rule{term("Mexico"), term("Haiti")}}, term("gangs")}},
		{Any: []topic.Rule{{In: []topic.Field{topic.Lead}, Any: terms("migrants", "visa")},
			{MinCount: 2, Any: []topic.Rule{term("border"), {Near: terms("visa"), With: terms("rules")}}}}},
		{Near: terms("Japan"), With: terms("navy", "coast guard"), MinCount: 1},
	}
	stories := []story.Story{
		{Title: "Japanese coast guard tracks ships near the Senkakus"},
		{Title: "Japan's navy joins drills", SummaryText: "Tokyo sent a destroyer."},
		{Title: "Asylum claims rise at the border"},
		{Title: "'Arkham Asylum' remaster announced"},
		{Title: "Deportees land in Guatemala"},
		{Title: "ICE agents detain workers"},
		{Title: "ICE STORM HITS TEXAS"},
		{Title: "Visa rules change", SummaryText: "A new visa for nurses."},
		{Title: "Visa rules change"},
		{Title: "Migrants cross the border in boats"},
		{Title: "Migrants rescued"},
		{Title: "Grid failure", Link: "https://news.example.com/a"},
		{Title: "Nothing here", Link: "https://news.example.com/a"},
		{Title: "Mexican gangs extort farmers"},
		{Title: "Haitian art show opens"},
		{Title: ""},
	}
	for i, rule := range rules {
		tp := mustNew(t, rule)
		set := topic.NewSet(tp)
		for _, s := range stories {
			match, explained := tp.Match(s), tp.Explain(s).Matched
			classified := slices.Contains(set.Classify(s), tp.Slug)
			if match != explained || match != classified {
				t.Errorf("rule %d on %q: Match %v, Explain %v, Classify %v", i, s.Title, match, explained, classified)
			}
		}
	}
}
