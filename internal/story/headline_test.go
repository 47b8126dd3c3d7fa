package story_test

import (
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/internal/story"
)

func TestHeadline(t *testing.T) {
	tests := []struct {
		name string
		s    story.Story
		want string
	}{
		{"own title", story.Story{Title: "Border talks resume", ContentText: "Other text."}, "Border talks resume"},
		{"blank title is no title", story.Story{Title: "  ", ContentText: "Ministers met. Then left."}, "Ministers met."},
		{"abbreviations and initials do not end it", story.Story{ContentText: "Dr. Li met John F. Ortiz of the U.S. team in St. Louis. Then left."},
			"Dr. Li met John F. Ortiz of the U.S. team in St. Louis."},
		{"summary before content", story.Story{SummaryText: "Short note! With more.", ContentText: "Long text."}, "Short note!"},
		{"decimals do not end it", story.Story{ContentText: "Growth was 3.5 percent. More."}, "Growth was 3.5 percent."},
		{"long text is cut at a word", story.Story{ContentText: "word, " + strings.Repeat("longer words ", 20)},
			"word, " + strings.Repeat("longer words ", 6) + "longer words…"},
		{"japanese sentence", story.Story{ContentText: "入国管理の新しい規則。詳細は後で。"}, "入国管理の新しい規則。"},
		{"link segment as words", story.Story{Link: "https://up.example.com/2026/11/asylum-rules_change.html"}, "asylum rules change"},
		{"link with trailing slash", story.Story{Link: "https://up.example.com/news/visa-backlog/"}, "visa backlog"},
		{"escaped link segment", story.Story{Link: "https://up.example.com/n/caf%C3%A9-talks"}, "café talks"},
		{"enclosure file name", story.Story{Link: "https://up.example.com/", Enclosures: []story.Enclosure{{URL: "https://cdn.example.com/ep/117-grenze.mp3?x=1"}}},
			"117-grenze.mp3"},
		{"image file name", story.Story{Image: "https://cdn.example.com/img/lead.jpg"}, "lead.jpg"},
		{"host when no path", story.Story{Link: "https://up.example.com/"}, "up.example.com"},
		{"nothing at all", story.Story{}, "Untitled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := story.Headline(&tt.s); got != tt.want {
				t.Errorf("Headline = %q, want %q", got, tt.want)
			}
		})
	}
}
