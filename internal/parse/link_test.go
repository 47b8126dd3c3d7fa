package parse_test

import (
	"testing"

	"github.com/newsdesk/newsdesk/internal/parse"
)

func TestCanonicalLink(t *testing.T) {
	const base = "https://news.example/world/index.html"
	tests := []struct {
		name, raw, base, want string
	}{
		{"absolute unchanged", "https://news.example/a/b?id=1", "", "https://news.example/a/b?id=1"},
		{"utm params removed, others kept in order", "https://news.example/a?z=1&utm_source=rss&b=2&utm_campaign=x&a=3", "", "https://news.example/a?z=1&b=2&a=3"},
		{"click ids removed", "https://news.example/a?fbclid=1&gclid=2&mc_cid=3&mc_eid=4&igshid=5&ref_src=6&msclkid=7", "", "https://news.example/a"},
		{"tracking key matched case-insensitively", "https://news.example/a?UTM_Source=x&id=2", "", "https://news.example/a?id=2"},
		{"similar names kept", "https://news.example/a?utmost=1&ref=home", "", "https://news.example/a?utmost=1&ref=home"},
		{"fragment kept", "https://news.example/a#comments", "", "https://news.example/a#comments"},
		{"host lowercased, path case kept", "https://NEWS.Example/Story/A", "", "https://news.example/Story/A"},
		{"default port dropped", "https://news.example:443/a", "", "https://news.example/a"},
		{"other port kept", "http://news.example:8080/a", "", "http://news.example:8080/a"},
		{"empty path becomes slash", "https://news.example", "", "https://news.example/"},
		{"root-relative resolved", "/2026/01/story", base, "https://news.example/2026/01/story"},
		{"document-relative resolved against the file's directory", "story.html", base, "https://news.example/world/story.html"},
		{"dot segments", "../sport/x", base, "https://news.example/sport/x"},
		{"scheme-relative", "//cdn.example/a", base, "https://cdn.example/a"},
		{"surrounding space trimmed", "  https://news.example/a \n", "", "https://news.example/a"},
		{"relative without base is dropped", "/a", "", ""},
		{"javascript dropped", "javascript:alert(1)", base, ""},
		{"mailto dropped", "mailto:desk@news.example", base, ""},
		{"file base gives nothing", "a.html", "file:///srv/feeds/x.xml", ""},
		{"empty", "", base, ""},
		{"unparseable", "https://news.example/%zz", "", ""},
		{"query-only tracking leaves no question mark", "https://news.example/a?utm_source=x", "", "https://news.example/a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parse.CanonicalLink(tt.raw, tt.base); got != tt.want {
				t.Errorf("CanonicalLink(%q, %q) = %q, want %q", tt.raw, tt.base, got, tt.want)
			}
		})
	}
}

func TestLinkResolution(t *testing.T) {
	tests := []struct {
		name, doc, url, want string
	}{
		{"relative item link against the channel link",
			`<rss version="2.0"><channel><title>t</title><link>https://site.example/news/</link><item><title>x</title><link>2026/a</link></item></channel></rss>`,
			feedURL, "https://site.example/news/2026/a"},
		{"relative channel link against the fetch url",
			`<rss version="2.0"><channel><title>t</title><link>/home/</link><item><title>x</title><link>a</link></item></channel></rss>`,
			feedURL, "https://feeds.example/home/a"},
		{"no channel link: the fetch url",
			`<rss version="2.0"><channel><title>t</title><item><title>x</title><link>a?utm_medium=rss</link></item></channel></rss>`,
			feedURL, "https://feeds.example/desk/a"},
		{"xml:base naming a file (gofeed 1.4.2 treats it as a directory)",
			`<rss version="2.0" xml:base="https://base.example/feeds/feed.xml"><channel><title>t</title><item><title>x</title><link>post</link></item></channel></rss>`,
			feedURL, "https://base.example/feeds/post"},
		{"xml:base naming a directory",
			`<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://base.example/feeds/"><title>t</title><entry><title>x</title><id>1</id><link href="post"/></entry></feed>`,
			feedURL, "https://base.example/feeds/post"},
		{"nested relative xml:base",
			`<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://base.example/a/feed.xml"><title>t</title><entry xml:base="b/page.html"><title>x</title><id>1</id><link href="post"/></entry></feed>`,
			feedURL, "https://base.example/a/b/post"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := parseBytes(t, []byte(tt.doc), "")
			if len(f.Stories) != 1 {
				t.Fatalf("got %d stories", len(f.Stories))
			}
			if got := f.Stories[0].Link; got != tt.want {
				t.Errorf("Link = %q, want %q", got, tt.want)
			}
		})
	}
}
