package parse_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/parse"
	"github.com/newsdesk/newsdesk/internal/story"
)

// now is the fetch time every test parses at.
var now = time.Date(2026, 1, 30, 12, 0, 0, 0, time.UTC)

var src = story.Source{Name: "test-desk", Title: "Test Desk"}

const feedURL = "https://feeds.example/desk/feed.xml"

// parseBytes parses body as fetched from feedURL with contentType.
func parseBytes(t testing.TB, body []byte, contentType string) *parse.Feed {
	t.Helper()
	f, err := parse.Stories(parse.Input{Source: src, Body: body, ContentType: contentType, URL: feedURL}, now)
	if err != nil {
		t.Fatalf("Stories: %v", err)
	}
	return f
}

// parseFile parses testdata/name.
func parseFile(t testing.TB, name, contentType string) *parse.Feed {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return parseBytes(t, body, contentType)
}

// rssItems wraps item elements in a minimal RSS 2.0 document.
func rssItems(items string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>
<title>Inline</title><link>https://inline.example/news/</link><description>d</description>
` + items + `
</channel></rss>`)
}

// byTitle returns the story titled title, failing the test when absent.
func byTitle(t testing.TB, f *parse.Feed, title string) story.Story {
	t.Helper()
	for _, s := range f.Stories {
		if s.Title == title {
			return s
		}
	}
	var got []string
	for _, s := range f.Stories {
		got = append(got, s.Title)
	}
	t.Fatalf("no story titled %q; have %q", title, got)
	return story.Story{}
}
