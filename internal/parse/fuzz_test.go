package parse_test

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/newsdesk/newsdesk/internal/parse"
	"github.com/newsdesk/newsdesk/internal/story"
)

// FuzzStories feeds arbitrary bytes to Stories: rejecting garbage is fine,
// panicking or emitting garbage is not. Seeds are testdata/ and the bundled
// feeds. Run longer with: go test -fuzz FuzzStories ./internal/parse
func FuzzStories(f *testing.F) {
	for _, dir := range []string{"testdata", filepath.Join("..", "..", "feeds")} {
		paths, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, p := range paths {
			if b, err := os.ReadFile(p); err == nil && !strings.HasSuffix(p, ".md") {
				f.Add(b, "")
			}
		}
	}
	f.Add([]byte(`<rss><channel><item><title>&#x1;</title><link>javascript:x</link><pubDate>Sat, 01 Jan 2039 00:00:00 JST</pubDate></item></channel></rss>`), "text/xml; charset=koi8-r")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		feed, err := parse.Stories(parse.Input{Source: src, Body: body, ContentType: contentType, URL: feedURL}, now)
		if err != nil {
			return
		}
		ids := map[string]bool{}
		for _, s := range feed.Stories {
			if s.ID == "" || ids[s.ID] {
				t.Fatalf("empty or repeated ID in %+v", s)
			}
			ids[s.ID] = true
			for name, v := range textFields(s) {
				if !utf8.ValidString(v) || strings.ContainsFunc(v, notXMLChar) {
					t.Fatalf("%s = %q: invalid UTF-8 or XML-illegal character", name, v)
				}
			}
			if s.Published.After(now.Add(10*time.Minute)) || s.Updated.After(now.Add(10*time.Minute)) {
				t.Fatalf("future date survived: %v / %v", s.Published, s.Updated)
			}
			if !s.FirstSeen.Equal(now) {
				t.Fatalf("FirstSeen = %v", s.FirstSeen)
			}
			if strings.TrimSpace(s.Title) == "" {
				t.Fatalf("story without a title: %+v", s)
			}
			links := []string{s.Link, s.Image, feed.Link}
			for _, e := range s.Enclosures {
				links = append(links, e.URL)
			}
			for _, l := range links {
				if u, err := url.Parse(l); l != "" && (err != nil || !u.IsAbs() || u.Host == "" || !isASCII(u.Host)) {
					t.Fatalf("link %q is not absolute with an ASCII host", l)
				}
			}
			if strings.Contains(strings.ToLower(s.Summary+s.Content), "<script") {
				t.Fatalf("script survived sanitizing: %q", s.Summary+s.Content)
			}
		}
	})
}

func textFields(s story.Story) map[string]string {
	m := map[string]string{
		"GUID": s.GUID, "Link": s.Link, "Title": s.Title, "Summary": s.Summary, "Content": s.Content,
		"SummaryText": s.SummaryText, "ContentText": s.ContentText, "Image": s.Image, "Language": s.Language,
		"SourceTitle": s.SourceTitle, "SourceLink": s.SourceLink,
	}
	for i, c := range s.Categories {
		m["Categories"+string(rune('0'+i%10))] = c
	}
	for _, a := range s.Authors {
		m["Author"] += a.Name + a.Email + a.URL
	}
	for _, e := range s.Enclosures {
		m["Enclosure"] += e.URL + e.Type
	}
	return m
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func notXMLChar(r rune) bool {
	return !(r == 0x9 || r == 0xA || r == 0xD || (r >= 0x20 && r <= 0xD7FF) ||
		(r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF))
}
