package parse_test

import (
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/internal/story"
)

func TestFallbackTitles(t *testing.T) {
	f := parseFile(t, "untitled.rss.xml", "")
	tests := []struct {
		name, guid, want string
	}{
		{"first sentence of the text", "untitled-1", "Floods closed the coastal road on Tuesday."},
		{"abbreviations do not end the sentence", "untitled-2", "U.S. and Japanese officials met Gen. Ito in Tokyo."},
		{"a long sentence is cut at a word", "untitled-3", "A very long opening sentence that goes on and on about the many committee hearings, the budget…"},
		{"the enclosure's file name", "untitled-5", "episode-12.mp3"},
		{"a blank title is no title", "untitled-6", "Blank titles count as none!"},
	}
	byGUID := map[string]story.Story{}
	for _, s := range f.Stories {
		byGUID[s.GUID] = s
		if strings.TrimSpace(s.Title) == "" {
			t.Errorf("story %s has no title", s.ID)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := byGUID[tt.guid]
			if !ok {
				t.Fatalf("no story with guid %s", tt.guid)
			}
			if s.Title != tt.want {
				t.Errorf("Title = %q, want %q", s.Title, tt.want)
			}
			// The ID is what it was before titles were made up: the GUID's.
			if want := story.NewID(src.Name, tt.guid); s.ID != want {
				t.Errorf("ID = %s, want %s", s.ID, want)
			}
		})
	}
	t.Run("the link's last path segment, as words", func(t *testing.T) {
		s := byTitle(t, f, "harbour reopens after storm")
		if want := story.NewID(src.Name, "https://untitled.example/2026/01/harbour-reopens-after-storm.html"); s.ID != want {
			t.Errorf("ID = %s, want the link's %s", s.ID, want)
		}
	})
	t.Run("atom text title empty", func(t *testing.T) {
		byTitle(t, parseFile(t, "untitled.atom.xml", ""), "Parliament passed the housing bill by 212 votes to 190.")
	})
	t.Run("untitled undated note keeps its id", func(t *testing.T) {
		f := parseBytes(t, rssItems(`<item><description>Only words here. More words.</description></item>`), "")
		s := f.Stories[0]
		if s.Title != "Only words here." {
			t.Errorf("Title = %q", s.Title)
		}
		key := "\x00\x00" + s.ContentText + "\x00" + s.SummaryText
		if s.ID != story.NewID(src.Name, key) {
			t.Errorf("ID hashes the made-up title")
		}
	})
}
