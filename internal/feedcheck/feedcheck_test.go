package feedcheck_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/internal/feedcheck"
)

const rssGood = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>Topic</title>
    <link>https://news.example.org/t</link>
    <description>About the topic</description>
    <lastBuildDate>Fri, 20 Nov 2026 11:30:00 +0000</lastBuildDate>
    <atom:link href="https://news.example.org/t.rss" rel="self" type="application/rss+xml"/>
    <item>
      <title>One</title>
      <link>https://up.example.com/1</link>
      <guid isPermaLink="false">tag:news.example.org,2026:story/1</guid>
      <pubDate>Fri, 20 Nov 2026 09:30:00 GMT</pubDate>
      <author>ann@up.example.com (Ann)</author>
      <enclosure url="https://up.example.com/1.mp3" length="0" type="audio/mpeg"/>
      <source url="https://up.example.com/feed">Upstream</source>
    </item>
  </channel>
</rss>`

const atomGood = `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Topic</title>
  <id>tag:news.example.org,2026:topic/t</id>
  <updated>2026-11-20T11:30:00Z</updated>
  <author><name>Desk</name></author>
  <link href="https://news.example.org/t.atom" rel="self"/>
  <entry>
    <title>One</title>
    <id>tag:news.example.org,2026:story/1</id>
    <updated>2026-11-20T09:30:00Z</updated>
    <link href="https://up.example.com/1"/>
  </entry>
</feed>`

const jsonGood = `{
  "version": "https://jsonfeed.org/version/1.1",
  "title": "Topic",
  "feed_url": "https://news.example.org/t.json",
  "next_url": "https://news.example.org/t.json?before=x",
  "items": [{"id": "1", "title": "a < b", "content_html": "<p>One</p>", "summary": "plain",
    "date_published": "2026-11-20T09:30:00Z",
    "attachments": [{"url": "https://up.example.com/1.mp3", "mime_type": "audio/mpeg", "size_in_bytes": 10}],
    "_ext": {"x": 1}}]
}`

// edit applies replacements to a known-good document, so each bad row
// differs from a valid one in exactly the way its name says.
func edit(doc string, oldNew ...string) string {
	return strings.NewReplacer(oldNew...).Replace(doc)
}

func TestRSS(t *testing.T) {
	tests := []struct {
		name, doc, want string // want: substring of the error; "" means valid
	}{
		{"valid", rssGood, ""},
		{"guid without isPermaLink", edit(rssGood, ` isPermaLink="false"`, ""), "isPermaLink"},
		{"no guid", edit(rssGood, `<guid isPermaLink="false">tag:news.example.org,2026:story/1</guid>`, ""), "no guid"},
		{"control character", edit(rssGood, "<title>One", "<title>One\x0b"), "not well-formed"},
		{"undeclared prefix", edit(rssGood, ` xmlns:atom="http://www.w3.org/2005/Atom"`, ""), "no atom:link rel=\"self\""},
		{"not rss", edit(rssGood, "<rss ", "<rdf ", "</rss>", "</rdf>"), "want <rss>"},
		{"version 0.91", edit(rssGood, `version="2.0"`, `version="0.91"`), "rss version"},
		{"no channel description", edit(rssGood, "<description>About the topic</description>", ""), "no <description>"},
		{"no self link", edit(rssGood, `rel="self"`, `rel="alternate"`), "rel=\"self\""},
		{"item without title or description", edit(rssGood, "<title>One</title>", ""), "neither title nor description"},
		{"UTC zone", edit(rssGood, "09:30:00 GMT", "09:30:00 UTC"), "pubDate"},
		{"2-digit year", edit(rssGood, "Nov 2026 09:30:00 GMT", "Nov 26 09:30:00 GMT"), "pubDate"},
		{"source without url", edit(rssGood, `<source url="https://up.example.com/feed">`, "<source>"), "source has no url"},
		{"enclosure without length", edit(rssGood, ` length="0"`, ""), "enclosure length"},
		{"enclosure without type", edit(rssGood, ` type="audio/mpeg"`, ""), "enclosure type"},
		{"author is a name", edit(rssGood, "ann@up.example.com (Ann)", "Ann"), "not an email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expect(t, feedcheck.RSS([]byte(tt.doc)), tt.want)
		})
	}
}

func TestAtom(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"valid", atomGood, ""},
		{"feed missing id", edit(atomGood, "<id>tag:news.example.org,2026:topic/t</id>", ""), "feed has no id"},
		{"entry missing id", edit(atomGood, "<id>tag:news.example.org,2026:story/1</id>", ""), "entry 1 has no id"},
		{"two titles", edit(atomGood, "<title>Topic</title>", "<title>Topic</title><title>Again</title>"), "2 title"},
		{"empty updated", edit(atomGood, "2026-11-20T09:30:00Z", ""), "RFC 3339"},
		{"no author anywhere", edit(atomGood, "<author><name>Desk</name></author>", ""), "no author"},
		{"no alternate link or content", edit(atomGood, `<link href="https://up.example.com/1"/>`,
			`<link href="https://up.example.com/1.jpg" rel="enclosure"/>`), "neither link"},
		{"wrong namespace", edit(atomGood, "http://www.w3.org/2005/Atom", "http://purl.org/atom/ns#"), "namespace"},
		{"no self link", edit(atomGood, `rel="self"`, `rel="via"`), "rel=\"self\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expect(t, feedcheck.AtomRules([]byte(tt.doc)), tt.want)
		})
	}
}

// TestAtomJing runs the few documents that need the schema through Atom,
// in parallel: each jing run starts a JVM.
func TestAtomJing(t *testing.T) {
	if !feedcheck.HaveJing() {
		t.Skip("jing not installed (Debian jing): the schema check cannot run")
	}
	tests := []struct {
		name, doc, want string
	}{
		{"valid", atomGood, ""},
		{"feed missing id: both checks see it", edit(atomGood, "<id>tag:news.example.org,2026:topic/t</id>", ""),
			`missing required element "id"`},
		{"category without term", edit(atomGood, "<title>One</title>", "<title>One</title><category/>"), "jing"},
		{"author without name", edit(atomGood, "<name>Desk</name>", "<email>desk@example.org</email>"), "jing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			expect(t, feedcheck.Atom([]byte(tt.doc)), tt.want)
		})
	}
}

func TestJSONFeed(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"valid", jsonGood, ""},
		{"no items", `{"version": "https://jsonfeed.org/version/1.1", "title": "T"}`, "items is missing"},
		{"items null", edit(jsonGood, `"items": [`, `"items": null, "_x": [`), "items is missing"},
		{"HTML in summary", edit(jsonGood, `"summary": "plain"`, `"summary": "<b>plain</b>"`), "summary is plain text"},
		{"HTML in title", edit(jsonGood, `"title": "a < b"`, `"title": "a <br/> b"`), "title is plain text"},
		{"empty id", edit(jsonGood, `"id": "1"`, `"id": ""`), "id is missing"},
		{"numeric id", edit(jsonGood, `"id": "1"`, `"id": 1`), "id is missing"},
		{"no content", edit(jsonGood, `"content_html"`, `"_content_html"`), "neither content_html nor content_text"},
		{"version 1.0", edit(jsonGood, "version/1.1", "version/1"), "version"},
		{"unknown item key", edit(jsonGood, `"_ext"`, `"ext"`), `unknown key "ext"`},
		{"gorilla banner_ key", edit(jsonGood, `"_ext"`, `"banner_"`), `unknown key "banner_"`},
		{"next_url is feed_url", edit(jsonGood, "t.json?before=x", "t.json"), "next_url equals feed_url"},
		{"attachment without mime_type", edit(jsonGood, `"mime_type": "audio/mpeg", `, ""), "mime_type"},
		{"date with a space", edit(jsonGood, "2026-11-20T09:30:00Z", "2026-11-20 09:30:00Z"), "RFC 3339"},
		{"deprecated author", edit(jsonGood, `"items"`, `"author": {"name": "x"}, "items"`), "deprecated author"},
		{"not JSON", "<rss/>", "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expect(t, feedcheck.JSONFeed([]byte(tt.doc)), tt.want)
		})
	}
}

func TestFeedparser(t *testing.T) {
	if !feedcheck.HaveFeedparser() {
		t.Skip("no python3 with feedparser (Debian python3-feedparser)")
	}
	titles, err := feedcheck.Feedparser([]byte(rssGood))
	if err != nil || !slices.Equal(titles, []string{"One"}) {
		t.Errorf("Feedparser(valid RSS) = %q, %v; want [One], nil", titles, err)
	}
	if titles, err := feedcheck.Feedparser([]byte(atomGood)); err != nil || !slices.Equal(titles, []string{"One"}) {
		t.Errorf("Feedparser(valid Atom) = %q, %v; want [One], nil", titles, err)
	}
	if _, err := feedcheck.Feedparser([]byte(edit(rssGood, "</channel>", ""))); err == nil {
		t.Error("Feedparser accepted RSS with an unclosed channel")
	}
	if _, err := feedcheck.Feedparser([]byte("hello")); err == nil {
		t.Error("Feedparser accepted a document that is not a feed")
	}
}

// expect fails unless err is nil when want is "", or mentions want.
func expect(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("valid document rejected:\n%v", err)
	case want != "" && err == nil:
		t.Errorf("invalid document accepted; want a problem mentioning %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("problems do not mention %q:\n%v", want, err)
	}
}
