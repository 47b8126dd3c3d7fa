package topic_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/internal/config"
	"github.com/newsdesk/newsdesk/internal/evaluate"
	"github.com/newsdesk/newsdesk/internal/story"
	"github.com/newsdesk/newsdesk/internal/topic"
)

// TestShortcutsChangeNoDecision holds the engine's shortcuts to the rules:
// Set.Classify (one doc shared by the default topics, clauses turned away
// by their keys before they are walked, a min_count any given up when the
// story has too few of its words) must file every labelled story, as
// written and (a third of them) with the title in capitals and
// headline-only, exactly where the rules walked without shortcuts, Match
// (the topic's own lexicon) and Explain (every clause recorded; a sixth of
// the stories) say it belongs. Under -race, every eighth story.
func TestShortcutsChangeNoDecision(t *testing.T) {
	cfg, err := config.Load(filepath.Join("..", "..", "config", "newsdesk.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"tune.jsonl", "tune-2.jsonl"} {
		f, err := os.Open(filepath.Join("..", "..", "config", "testdata", "labelled", file))
		if err != nil {
			t.Fatal(err)
		}
		labelled, err := evaluate.Read(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		step := 1
		if raceEnabled {
			step = 8 // the walk is the same code; -race only slows it
		}
		for i, l := range labelled {
			if i%step != 0 {
				continue
			}
			s := story.Story{Title: l.Title, Summary: l.Summary, Content: l.Content, Categories: l.Categories, Source: l.Source}
			variants := []story.Story{s}
			explain := i%6 == 0 // Explain records every clause: slow under -race
			if i%3 == 0 {
				upper, headline := s, story.Story{Title: s.Title}
				upper.Title = strings.ToUpper(s.Title)
				variants = append(variants, upper, headline)
			}
			for _, v := range variants {
				got := cfg.Set.Classify(v)
				var want, match, full []string
				for _, tp := range cfg.Set.Topics() {
					if explain && tp.Explain(v).Matched {
						want = append(want, tp.Slug)
					}
					if tp.Match(v) {
						match = append(match, tp.Slug)
					}
					if topic.MatchExhaustive(tp, v) {
						full = append(full, tp.Slug)
					}
				}
				if !slices.Equal(got, full) || !slices.Equal(got, match) || explain && !slices.Equal(got, want) {
					t.Errorf("%s %s %q: Classify = %v, without shortcuts %v, Match = %v, Explain = %v",
						file, l.ID, v.Title, got, full, match, want)
				}
			}
		}
	}
}
