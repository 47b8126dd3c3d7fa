package topic_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/newsdesk/newsdesk/internal/story"
	"github.com/newsdesk/newsdesk/internal/topic"
)

// editorDefs are topics an editor might write for the bundled sample feeds.
var editorDefs = []topic.Definition{
	{Slug: "immigration", Title: "Immigration", Rule: topic.Rule{Any: []topic.Rule{
		{Term: "ICE", Case: true}, // the agency, not the weather
		term("immigration"), term("immigrants"), term("migrants"), term("asylum"), term("deportation"),
		term("border patrol"), term("visa"), term("refugees"),
	}}},
	{Slug: "weather", Title: "Weather", Rule: topic.Rule{All: []topic.Rule{
		{Any: []topic.Rule{term("storm"), term("snow"), term("heatwave"), term("flood")}},
		{Not: &topic.Rule{Any: []topic.Rule{term("political storm"), term("brainstorm")}}},
	}}},
	{Slug: "ai", Title: "AI", Rule: topic.Rule{MinScore: 2, Any: []topic.Rule{
		{Term: "AI", Case: true, Weight: 2}, {Term: "artificial intelligence", Weight: 2}, {Term: "OpenAI", Weight: 2},
		term("Sam Altman"), term("chatbot"), term("model"),
	}}},
	{Slug: "sport", Title: "Sport", Rule: topic.Rule{Any: []topic.Rule{
		term("overtime"), term("match"), term("Maple Leafs"), {Term: "sport", In: []topic.Field{topic.Categories}},
	}}},
}

type editorStory struct {
	story.Story
	want []string
}

var editorStories = []editorStory{
	{story.Story{Title: "ICE agent blocked from Ecuador consulate"}, []string{"immigration"}},
	{story.Story{Title: "Sam Altman Criticizes ICE Enforcement as Corporate Leaders Call for De-Escalation"}, []string{"immigration"}},
	{story.Story{Title: "Australia Day Protests Highlight Deep Divisions Over Indigenous Rights and Immigration"}, []string{"immigration"}},
	{story.Story{Title: "Ice storm knocks out power across Texas"}, []string{"weather"}},
	{story.Story{Title: "Maple Leafs win on the ice in overtime"}, []string{"sport"}},
	{story.Story{Title: "OpenAI releases a new model", Categories: []string{"Tech"}}, []string{"ai"}},
	{story.Story{Title: "Sam Altman Criticizes ICE Enforcement", SummaryText: "The OpenAI chief spoke on AI and immigration."}, []string{"immigration", "ai"}},
	{story.Story{Title: "A political storm over the budget"}, nil},
	{story.Story{Title: "Derby day", Categories: []string{"Sport", "Football"}}, []string{"sport"}},
}

func editorSet(t testing.TB) *topic.Set {
	t.Helper()
	var topics []*topic.Topic
	for _, def := range editorDefs {
		tp, err := topic.New(def)
		if err != nil {
			t.Fatalf("New(%s): %v", def.Slug, err)
		}
		topics = append(topics, tp)
	}
	return topic.NewSet(topics...)
}

func TestClassifyEditorTopics(t *testing.T) {
	set := editorSet(t)
	for _, tt := range editorStories {
		t.Run(tt.Title, func(t *testing.T) {
			got := set.Classify(tt.Story)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Classify = %q, want %q", got, tt.want)
			}
			// Classify shares one doc across topics; Match builds its own.
			// Both must agree.
			var each []string
			for _, tp := range set.Topics() {
				if tp.Match(tt.Story) {
					each = append(each, tp.Slug)
				}
			}
			if !reflect.DeepEqual(got, each) {
				t.Errorf("Classify = %q but Match says %q", got, each)
			}
		})
	}
}

func TestSetLookup(t *testing.T) {
	set := editorSet(t)
	tests := []struct {
		name, slug string
		want       bool
	}{
		{"known slug", "weather", true},
		{"unknown slug", "finance", false},
		{"slugs are exact", "Weather", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := set.Lookup(tt.slug)
			if (got != nil) != tt.want || got != nil && got.Slug != tt.slug {
				t.Errorf("Lookup(%q) = %v, want found=%v", tt.slug, got, tt.want)
			}
		})
	}
	var slugs []string
	for _, tp := range set.Topics() {
		slugs = append(slugs, tp.Slug)
	}
	if want := []string{"immigration", "weather", "ai", "sport"}; !slices.Equal(slugs, want) {
		t.Errorf("Topics = %q, want config order %q", slugs, want)
	}
}

func TestEmptySet(t *testing.T) {
	set := topic.NewSet()
	if got := set.Classify(story.Story{Title: "x"}); got != nil {
		t.Errorf("Classify on an empty set = %q, want nil", got)
	}
	if set.Lookup("x") != nil {
		t.Error("Lookup on an empty set found a topic")
	}
}
