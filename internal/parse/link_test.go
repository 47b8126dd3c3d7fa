package parse_test

import (
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/internal/parse"
	"github.com/newsdesk/newsdesk/internal/story"
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
		{"fragment kept", "https://news.example/day.html#a2", "", "https://news.example/day.html#a2"},
		{"tracking removed before a fragment", "https://news.example/a?utm_source=x#p3", "", "https://news.example/a#p3"},
		{"idn host in punycode", "https://bücher.example/köln?q=1", "", "https://xn--bcher-kva.example/k%C3%B6ln?q=1"},
		{"percent-encoded idn host in punycode", "https://b%C3%BCcher.example/x", "", "https://xn--bcher-kva.example/x"},
		{"upper-case idn host folded", "https://BÜCHER.example/", "", "https://xn--bcher-kva.example/"},
		{"idn host with port", "http://bücher.example:8080/x", "", "http://xn--bcher-kva.example:8080/x"},
		{"relative link against an idn base", "x", "https://日本.example/a/feed.xml", "https://xn--wgv71a.example/a/x"},
		{"punycode kept as written", "https://xn--bcher-kva.example/", "", "https://xn--bcher-kva.example/"},
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
		{"relative item link against the fetch url, not the channel link",
			`<rss version="2.0"><channel><title>t</title><link>https://site.example/news/</link><item><title>x</title><link>2026/a</link></item></channel></rss>`,
			feedURL, "https://feeds.example/desk/2026/a"},
		{"never against a relative channel link",
			`<rss version="2.0"><channel><title>t</title><link>/home/</link><item><title>x</title><link>a</link></item></channel></rss>`,
			feedURL, "https://feeds.example/desk/a"},
		{"against the url after redirects",
			`<rss version="2.0"><channel><title>t</title><link>https://site.example/</link><item><title>x</title><link>../b</link></item></channel></rss>`,
			"https://moved.example/new/feeds/rss.xml", "https://moved.example/new/b"},
		{"a local file has no web address: the channel link stands in",
			`<rss version="2.0"><channel><title>t</title><link>https://site.example/news/</link><item><title>x</title><link>2026/a</link></item></channel></rss>`,
			"file:///feeds/local.xml", "https://site.example/news/2026/a"},
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
			f, err := parse.Stories(parse.Input{Source: src, Body: []byte(tt.doc), URL: tt.url}, now)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Stories) != 1 {
				t.Fatalf("got %d stories", len(f.Stories))
			}
			if got := f.Stories[0].Link; got != tt.want {
				t.Errorf("Link = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestXMLBaseInRSS(t *testing.T) {
	f := parseFile(t, "xmlbase.rss.xml", "")
	s := byTitle(t, f, "Channel base")
	if s.Link != "https://base.example/news/2026/one.html" {
		t.Errorf("Link = %q", s.Link)
	}
	for _, want := range []string{`href="https://base.example/news/more.html"`, `src="https://base.example/img/one.jpg"`} {
		if !strings.Contains(s.Summary, want) {
			t.Errorf("Summary %q lacks %s", s.Summary, want)
		}
	}
	if len(s.Enclosures) != 1 || s.Enclosures[0].URL != "https://base.example/news/audio/one.mp3" {
		t.Errorf("Enclosures = %+v", s.Enclosures)
	}
	s = byTitle(t, f, "Item base")
	if s.Link != "https://other.example/2026/01/two.html#para-3" {
		t.Errorf("Link = %q", s.Link)
	}
	if !strings.Contains(s.Summary, `href="https://other.example/2026/02/x.html"`) {
		t.Errorf("Summary = %q", s.Summary)
	}
	if s.Image != "https://other.example/2026/01/thumb.jpg" {
		t.Errorf("Image = %q", s.Image)
	}
}

func TestIDNHostsInPunycode(t *testing.T) {
	f := parseFile(t, "idn.atom.xml", "")
	s := byTitle(t, f, "Unicode host")
	urls := []string{s.Link, s.Image, s.Authors[0].URL, s.Enclosures[0].URL, f.Link, s.SourceLink}
	want := []string{"https://xn--bcher-kva.example/neu/k%C3%B6ln.html", "https://xn--bcher-kva.example/i.png",
		"https://xn--bcher-kva.example/j%C3%B6rg", "https://xn--mnchen-3ya.example/a.mp3",
		"https://xn--bcher-kva.example/", "https://xn--bcher-kva.example/"}
	for i := range urls {
		if urls[i] != want[i] {
			t.Errorf("url %d = %q, want %q", i, urls[i], want[i])
		}
	}
	if !strings.Contains(s.Content, `href="https://xn--wgv71a.example/%E8%A8%98%E4%BA%8B"`) {
		t.Errorf("Content = %q", s.Content)
	}
	for _, bad := range []string{"%C3%BC", "ü", "日本"} {
		if strings.Contains(s.Content, bad+".example") || strings.Contains(s.Link+s.Image, bad) {
			t.Errorf("a host is still written %q: %q %q %q", bad, s.Link, s.Image, s.Content)
		}
	}
	// The fetch URL is written as the RSS <source url> too.
	g, err := parse.Stories(parse.Input{Source: src, Body: mustRead(t, "idn.atom.xml"), URL: "https://bücher.example/feed.atom"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if got := g.Stories[0].SourceURL; got != "https://xn--bcher-kva.example/feed.atom" {
		t.Errorf("SourceURL = %q", got)
	}
}

func TestFragmentsKept(t *testing.T) {
	f := parseFile(t, "fragments.rss.xml", "")
	if len(f.Stories) != 3 {
		t.Fatalf("got %d stories, want 3 (one page, three entries)", len(f.Stories))
	}
	tests := []struct{ title, link string }{
		{"Morning", "https://daybook.example/2026/01/29.html#a1"},
		{"Noon", "https://daybook.example/2026/01/29.html#a2"},
		{"Whole day", "https://daybook.example/2026/01/29.html"},
	}
	ids := map[string]bool{}
	for _, tt := range tests {
		s := byTitle(t, f, tt.title)
		if s.Link != tt.link {
			t.Errorf("%s: Link = %q, want %q", tt.title, s.Link, tt.link)
		}
		// The ID hashes the link as before, plus the fragment when there is one.
		if want := story.NewID(src.Name, tt.link); s.ID != want {
			t.Errorf("%s: ID = %s, want %s", tt.title, s.ID, want)
		}
		ids[s.ID] = true
	}
	if len(ids) != 3 {
		t.Errorf("%d distinct IDs, want 3", len(ids))
	}
}

// TestIDsUnchanged pins the IDs of entries identified by their link to what
// parse computed before links kept fragments and hosts became punycode:
// the link resolved against an absolute channel link, the host as url.URL
// escapes it.
func TestIDsUnchanged(t *testing.T) {
	doc := `<rss version="2.0"><channel><title>t</title><link>https://site.example/news/</link>
<item><title>relative</title><link>2026/a?utm_source=x</link></item>
<item><title>idn</title><link>https://bücher.example/b</link></item></channel></rss>`
	f, err := parse.Stories(parse.Input{Source: src, Body: []byte(doc), URL: feedURL}, now)
	if err != nil {
		t.Fatal(err)
	}
	if s := byTitle(t, f, "relative"); s.ID != story.NewID(src.Name, "https://site.example/news/2026/a") {
		t.Errorf("relative: ID moved (Link now %q)", s.Link)
	}
	if s := byTitle(t, f, "idn"); s.ID != story.NewID(src.Name, "https://b%C3%BCcher.example/b") {
		t.Errorf("idn: ID moved (Link now %q)", s.Link)
	}
}
