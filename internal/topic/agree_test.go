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

// agreeWithPlainWalk fails t unless set.Classify files s where the rules
// walked without shortcuts and Match (and, when explain, Explain) say.
func agreeWithPlainWalk(t *testing.T, set *topic.Set, s story.Story, explain bool) {
	t.Helper()
	got := set.Classify(s)
	var want, match, full []string
	for _, tp := range set.Topics() {
		if explain && tp.Explain(s).Matched {
			want = append(want, tp.Slug)
		}
		if tp.Match(s) {
			match = append(match, tp.Slug)
		}
		if topic.MatchExhaustive(tp, s) {
			full = append(full, tp.Slug)
		}
	}
	if !slices.Equal(got, full) || !slices.Equal(got, match) || explain && !slices.Equal(got, want) {
		t.Errorf("%q: Classify = %v, without shortcuts %v, Match = %v, Explain = %v", s.Title, got, full, match, want)
	}
}

// TestShortcutsOnIngestStories is TestShortcutsChangeNoDecision on the
// stories of the ingest benchmark: long HTML articles dense with the
// default topics' words (places, border and security words, housing), as
// parse gives them (plain text beside the HTML) and as HTML only.
func TestShortcutsOnIngestStories(t *testing.T) {
	set := defaultSet(t)
	stories := ingestStories(t, 4)
	step := 1
	if raceEnabled || testing.Short() {
		step = 10
	}
	for i := 0; i < len(stories); i += step {
		s := stories[i]
		agreeWithPlainWalk(t, set, s, i%10 == 0)
		s.SummaryText, s.ContentText = "", ""
		agreeWithPlainWalk(t, set, s, false)
	}
}

// FuzzClassifyShortcuts holds Set.Classify with the default topics to the
// plain walk, Match and Explain on arbitrary stories.
func FuzzClassifyShortcuts(f *testing.F) {
	f.Add("Chinese Coast Guard Fires Water Cannon Near Scarborough", "Manila protests.", "<p>The <b>navy</b> said drills near Tokyo</p>", "world")
	f.Add("ICE agents detain migrants at the border", "Border Patrol agents", "deportation flights resumed", "")
	f.Add("Rents rise again", "housing costs rose as mortgage rates stayed high", "rent rent tenants landlords housing housing", "Housing")
	f.Add("the coast the shipping high demand minister while drills", "officials in tokyo and seoul described the drills as routine",
		"border agents would expand patrols along the coast while talks with regional partners continue", "")
	f.Add("Grid operator warns of blackouts", "transmission lines", "data center demand utilities regulators", "Energy")
	var set *topic.Set
	f.Fuzz(func(t *testing.T, title, summary, content, category string) {
		if set == nil {
			set = defaultSet(t)
		}
		s := story.Story{Title: title, Summary: summary, Content: content, Categories: []string{category}, Link: "https://" + category + ".example/x"}
		agreeWithPlainWalk(t, set, s, len(content)%4 == 0) // Explain walks every clause: a quarter of the inputs
	})
}

// TestPhraseShortcutsKeepOddWords holds the shortcut that turns a phrase
// away when its longest later word is nowhere in the story to the words a
// phrase compares as written: a word with a non-ASCII letter that folds to
// ASCII ("İran" is "iran", but no English stem is taken of it) or of fewer
// than three letters, which a story files under no stem.
func TestPhraseShortcutsKeepOddWords(t *testing.T) {
	for _, c := range []struct{ term, title string }{
		{"the iran pact", "The \u0130ran pact"},
		{"the iran pact", "THE \u0130RAN PACT"},
	} {
		tp := mustNew(t, term(c.term))
		s := story.Story{Title: c.title}
		if !topic.MatchExhaustive(tp, s) {
			t.Fatalf("term %q: the plain walk does not match %q", c.term, c.title)
		}
		if !tp.Match(s) || len(topic.NewSet(tp).Classify(s)) != 1 {
			t.Errorf("term %q matches %q walked without shortcuts, not with them", c.term, c.title)
		}
	}
}
