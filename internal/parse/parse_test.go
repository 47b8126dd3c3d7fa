package parse_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/parse"
	"github.com/newsdesk/newsdesk/internal/story"
)

func TestIDs(t *testing.T) {
	f := parseFile(t, "ids.rss.xml", "")
	other, err := parse.Stories(parse.Input{Source: story.Source{Name: "other-desk"},
		Body: mustRead(t, "ids.rss.xml"), URL: feedURL}, now)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, title, key string
	}{
		{"guid is the key, trimmed", "Has a guid", "news-example:a"},
		{"canonical link when no guid", "Link only", "https://news.example/b?page=2"},
		{"title and date when no guid or link", "Title and date only", "Title and date only\x00Thu, 29 Jan 2026 12:00:00 +0000"},
		{"permalink guid", "Permalink guid", "https://news.example/c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := byTitle(t, f, tt.title)
			if want := story.NewID(src.Name, tt.key); s.ID != want {
				t.Errorf("ID = %s, want NewID(%q, %q) = %s", s.ID, src.Name, tt.key, want)
			}
			o := byTitle(t, other, tt.title)
			if o.ID == s.ID {
				t.Errorf("same entry from two sources shares ID %s", s.ID)
			}
		})
	}
	t.Run("duplicate guid keeps the first entry", func(t *testing.T) {
		if len(f.Stories) != 4 {
			t.Fatalf("got %d stories, want 4 (the repeated guid dropped)", len(f.Stories))
		}
		for _, s := range f.Stories {
			if strings.Contains(s.Title, "repeated") {
				t.Errorf("kept the repeat %q", s.Title)
			}
		}
	})
	t.Run("guid verbatim, ids distinct, first-seen is now", func(t *testing.T) {
		seen := map[string]bool{}
		for _, s := range f.Stories {
			if seen[s.ID] {
				t.Errorf("ID %s twice", s.ID)
			}
			seen[s.ID] = true
			if !s.FirstSeen.Equal(now) || s.Source != src.Name || s.SourceTitle != src.Title || s.SourceURL != feedURL {
				t.Errorf("%q: FirstSeen %v, Source %q/%q/%q", s.Title, s.FirstSeen, s.Source, s.SourceTitle, s.SourceURL)
			}
			if s.SourceLink != "https://news.example/world/" {
				t.Errorf("%q: SourceLink %q", s.Title, s.SourceLink)
			}
		}
		if g := byTitle(t, f, "Has a guid").GUID; g != "news-example:a" {
			t.Errorf("GUID = %q", g)
		}
	})
}

func TestIDStableAcrossFetches(t *testing.T) {
	a := parseFile(t, "ids.rss.xml", "")
	b, err := parse.Stories(parse.Input{Source: src, Body: mustRead(t, "ids.rss.xml"), URL: feedURL}, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Stories {
		if a.Stories[i].ID != b.Stories[i].ID {
			t.Errorf("%q: ID changed between fetches", a.Stories[i].Title)
		}
	}
}

func TestRejects(t *testing.T) {
	deep := func(levels int) []byte {
		var b bytes.Buffer
		b.WriteString(`<rss version="2.0"><channel><title>t</title><item><title>x</title><description>`)
		for range levels {
			b.WriteString("<a>")
		}
		return b.Bytes() // unclosed: the scan must stop long before the end
	}
	tests := []struct {
		name string
		body []byte
		want error
	}{
		{"empty body", nil, parse.ErrNotFeed},
		{"only white space", []byte(" \n\t "), parse.ErrNotFeed},
		{"html page", mustRead(t, "html-page.html"), parse.ErrNotFeed},
		{"html without doctype", []byte("<html><body><p>hi</p></body></html>"), parse.ErrNotFeed},
		{"html root after prolog", []byte(`<?xml version="1.0"?><html><body/></html>`), parse.ErrNotFeed},
		{"plain text", []byte("Service Unavailable"), parse.ErrNotFeed},
		{"unknown root", []byte(`<?xml version="1.0"?><opml version="2.0"><body/></opml>`), parse.ErrNotFeed},
		{"100k levels deep", deep(100_000), parse.ErrTooDeep},
		{"66 levels deep", deep(62), parse.ErrTooDeep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parse.Stories(parse.Input{Source: src, Body: tt.body, URL: feedURL}, now)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if f != nil {
				t.Errorf("feed = %+v, want nil", f)
			}
			if !strings.Contains(err.Error(), src.Name) {
				t.Errorf("error %q does not name the source", err)
			}
		})
	}
	t.Run("html page message", func(t *testing.T) {
		_, err := parse.Stories(parse.Input{Source: src, Body: mustRead(t, "html-page.html")}, now)
		if want := "parse test-desk: not a feed (looks like an HTML page)"; err == nil || err.Error() != want {
			t.Errorf("err = %v, want %q", err, want)
		}
	})
}

func TestDepthLimitKeepsShallowFeeds(t *testing.T) {
	var b strings.Builder
	// rss, channel, item, description and 60 more: exactly the 64 allowed.
	b.WriteString(`<item><title>Deep but fine</title><description>`)
	for range 60 {
		b.WriteString("<x>")
	}
	for range 60 {
		b.WriteString("</x>")
	}
	b.WriteString(`</description></item>`)
	f := parseBytes(t, rssItems(b.String()), "")
	byTitle(t, f, "Deep but fine")
}

func TestFormats(t *testing.T) {
	tests := []struct {
		name, file, title, link string
	}{
		{"rss 2.0", "ids.rss.xml", "Has a guid", "https://news.example/a?id=7#top"},
		{"rss 1.0 (rdf)", "rss1.rdf", "RSS 1.0 item", "https://rdf.example/1"},
		{"rss 0.91, default port dropped, fragment kept", "rss091.xml", "Old style item", "http://old.example/1#comments"},
		{"atom", "xmlbase.atom.xml", "XHTML content, no summary", "https://atom.example/3"},
		{"json feed, relative url against the fetch url", "feed.json", "HTML content", "https://feeds.example/2"},
		{"root after a 5 KiB comment", "long-prolog.atom.xml", "Found anyway", "https://late.example/1"},
		{"utf-16 with bom", "utf16.rss.xml", "Café 東京", "https://u16.example/1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := byTitle(t, parseFile(t, tt.file, ""), tt.title)
			if s.Link != tt.link {
				t.Errorf("Link = %q, want %q", s.Link, tt.link)
			}
		})
	}
}

func TestFeedFields(t *testing.T) {
	tests := []struct {
		name, file string
		want       parse.Feed
	}{
		{"rss ttl, language cased", "media.rss.xml", parse.Feed{Title: "Media Desk",
			Link: "https://media.example/", Language: "en-US", TTL: 45 * time.Minute}},
		{"rdf sy:updatePeriod hourly / 2", "rss1.rdf", parse.Feed{Title: "RDF Desk", Link: "https://rdf.example/",
			Language: "ja", TTL: 30 * time.Minute}},
		{"atom link resolved against xml:base", "xmlbase.atom.xml", parse.Feed{Title: "Atom quirks",
			Link: "https://atom.example/"}},
		{"json language underscore", "feed.json", parse.Feed{Title: "JSON Desk", Link: "https://json.example/",
			Language: "en-GB"}},
		{"entity in title decoded", "ids.rss.xml", parse.Feed{Title: "Ids & Links", Link: "https://news.example/world/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := parseFile(t, tt.file, "")
			if f.Title != tt.want.Title || f.Link != tt.want.Link || f.Language != tt.want.Language || f.TTL != tt.want.TTL {
				t.Errorf("feed = {%q %q %q %v}, want {%q %q %q %v}", f.Title, f.Link, f.Language, f.TTL,
					tt.want.Title, tt.want.Link, tt.want.Language, tt.want.TTL)
			}
		})
	}
}

func TestSourceTitleFallsBackToFeedTitle(t *testing.T) {
	f, err := parse.Stories(parse.Input{Source: story.Source{Name: "untitled"}, Body: mustRead(t, "rss1.rdf")}, now)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Stories[0].SourceTitle; got != "RDF Desk" {
		t.Errorf("SourceTitle = %q, want the feed title", got)
	}
}

func TestEntryFields(t *testing.T) {
	atom := parseFile(t, "xmlbase.atom.xml", "")
	json := parseFile(t, "feed.json", "")
	media := parseFile(t, "media.rss.xml", "")
	rdf := parseFile(t, "rss1.rdf", "")

	t.Run("atom author with uri, feed author inherited", func(t *testing.T) {
		s := byTitle(t, atom, "HTML title & more")
		want := story.Author{Name: "Ana Ruiz", Email: "ana@atom.example", URL: "https://atom.example/ana"}
		if len(s.Authors) != 1 || s.Authors[0] != want {
			t.Errorf("Authors = %+v, want [%+v]", s.Authors, want)
		}
		s = byTitle(t, atom, "Plain <not html> title")
		want = story.Author{Name: "Desk", URL: "https://atom.example/people/desk"}
		if len(s.Authors) != 1 || s.Authors[0] != want {
			t.Errorf("inherited Authors = %+v, want [%+v]", s.Authors, want)
		}
	})
	t.Run("categories trimmed and deduped", func(t *testing.T) {
		if got := byTitle(t, atom, "HTML title & more").Categories; strings.Join(got, "|") != "World|Asia" {
			t.Errorf("atom Categories = %q", got)
		}
		if got := byTitle(t, json, "Text content").Categories; strings.Join(got, "|") != "Asia|Trade" {
			t.Errorf("json Categories = %q", got)
		}
		if got := rdf.Stories[0].Categories; strings.Join(got, "|") != "Japan" {
			t.Errorf("dc:subject Categories = %q", got)
		}
	})
	t.Run("json authors, attachments, image, language", func(t *testing.T) {
		s := byTitle(t, json, "Text content")
		if want := (story.Author{Name: "Kenji Sato", URL: "https://feeds.example/kenji"}); len(s.Authors) != 1 || s.Authors[0] != want {
			t.Errorf("Authors = %+v", s.Authors)
		}
		if s.Language != "en-GB" {
			t.Errorf("Language = %q, want the feed's", s.Language)
		}
		s = byTitle(t, json, "HTML content")
		if want := (story.Author{Name: "JSON Desk", URL: "https://json.example/about"}); len(s.Authors) != 1 || s.Authors[0] != want {
			t.Errorf("inherited Authors = %+v", s.Authors)
		}
		if want := (story.Enclosure{URL: "https://feeds.example/a/2.mp3", Type: "audio/mpeg", Length: 1234}); len(s.Enclosures) != 1 || s.Enclosures[0] != want {
			t.Errorf("Enclosures = %+v", s.Enclosures)
		}
		if s.Image != "https://feeds.example/img/2.jpg" || s.Language != "fr" || s.GUID != "2" {
			t.Errorf("Image %q Language %q GUID %q", s.Image, s.Language, s.GUID)
		}
	})
	t.Run("rdf dc:creator", func(t *testing.T) {
		if a := rdf.Stories[0].Authors; len(a) != 1 || a[0].Name != "Yuki Tanaka" {
			t.Errorf("Authors = %+v", a)
		}
	})
	t.Run("images", func(t *testing.T) {
		tests := []struct{ title, want string }{
			{"Thumbnail", "https://feeds.example/thumbs/1.jpg"},
			{"Group", "https://media.example/thumbs/2.jpg"},
			{"Enclosures", "https://feeds.example/img/3.png"},
			{"Image in description only", "https://feeds.example/desk/pic.gif"},
		}
		for _, tt := range tests {
			if got := byTitle(t, media, tt.title).Image; got != tt.want {
				t.Errorf("%s: Image = %q, want %q", tt.title, got, tt.want)
			}
		}
	})
	t.Run("enclosure lengths", func(t *testing.T) {
		want := []story.Enclosure{
			{URL: "https://feeds.example/audio/3.mp3", Type: "audio/mpeg", Length: 0},
			{URL: "https://feeds.example/img/3.png", Type: "image/png", Length: 2048},
		}
		got := byTitle(t, media, "Enclosures").Enclosures
		if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("Enclosures = %+v, want %+v", got, want)
		}
	})
}

func TestEmptyItemsSkipped(t *testing.T) {
	f := parseBytes(t, rssItems(`<item></item><item><title>Kept</title></item><item><guid>only-guid</guid></item>`), "")
	if len(f.Stories) != 1 || f.Stories[0].Title != "Kept" {
		t.Errorf("stories = %+v, want only %q", f.Stories, "Kept")
	}
}

func mustRead(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestConcurrent runs under -race in CI: the sanitizer policy and tables are
// shared by every goroutine that parses.
func TestConcurrent(t *testing.T) {
	body := mustRead(t, "sanitize.rss.xml")
	want := parseBytes(t, body, "").Stories[0].Content
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			f, err := parse.Stories(parse.Input{Source: src, Body: body, URL: feedURL}, now)
			if err == nil && f.Stories[0].Content != want {
				err = errors.New("content differs between goroutines")
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestAttachments(t *testing.T) {
	s := byTitle(t, parseFile(t, "attachments.json", ""), "Episode one")
	want := []story.Enclosure{
		{URL: "https://cdn.podcast.example/1.mp3", Type: "audio/mpeg", Length: 28000000, Title: "Episode one (MP3)", Duration: 1805 * time.Second},
		{URL: "https://cdn.podcast.example/1.m4a", Type: "audio/mp4", Length: 21000000, Title: "Episode one (AAC)", Duration: 1805 * time.Second},
	}
	if len(s.Enclosures) != len(want) || s.Enclosures[0] != want[0] || s.Enclosures[1] != want[1] {
		t.Errorf("Enclosures = %+v, want %+v", s.Enclosures, want)
	}
	t.Run("itunes duration and atom enclosure title", func(t *testing.T) {
		f := parseBytes(t, []byte(`<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel><title>p</title>
<item><title>ep</title><enclosure url="https://p.example/e.mp3" length="7" type="audio/mpeg"/><itunes:duration>1:02:03</itunes:duration></item></channel></rss>`), "")
		if e := f.Stories[0].Enclosures; len(e) != 1 || e[0].Duration != time.Hour+2*time.Minute+3*time.Second {
			t.Errorf("Enclosures = %+v", e)
		}
		a := byTitle(t, parseFile(t, "idn.atom.xml", ""), "Unicode host")
		if a.Enclosures[0].Title != "Folge 1" || a.Enclosures[0].Length != 5 {
			t.Errorf("Enclosures = %+v", a.Enclosures)
		}
	})
}

func TestNestedCategoriesFlattened(t *testing.T) {
	s := byTitle(t, parseFile(t, "categories.rss.xml", ""), "Nested")
	want := "News|World|Asia & Pacific|Named child|Top/Society/Politics|Law & Order|Politics"
	if got := strings.Join(s.Categories, "|"); got != want {
		t.Errorf("Categories = %q, want %q", got, want)
	}
}

func TestImagesAreNotEnclosures(t *testing.T) {
	f := parseFile(t, "images.rss.xml", "")
	tests := []struct{ title, image string }{
		{"Inline image", "https://images.example/photo"},
		{"Thumbnail", "https://images.example/thumbs/2"},
		{"iTunes image", "https://images.example/covers/3.jpg"},
	}
	for _, tt := range tests {
		s := byTitle(t, f, tt.title)
		if s.Image != tt.image {
			t.Errorf("%s: Image = %q, want %q", tt.title, s.Image, tt.image)
		}
		if len(s.Enclosures) != 0 {
			t.Errorf("%s: Enclosures = %+v, want none (upstream declared none)", tt.title, s.Enclosures)
		}
	}
	s := byTitle(t, f, "Declared enclosure without a type")
	if want := (story.Enclosure{URL: "https://images.example/files/4", Length: 99}); len(s.Enclosures) != 1 || s.Enclosures[0] != want {
		t.Errorf("Enclosures = %+v, want %+v (no type guessed from a URL without an extension)", s.Enclosures, want)
	}
	if s.Image != "" {
		t.Errorf("Image = %q from an enclosure of unknown type", s.Image)
	}
}

func TestMalformedJSONItem(t *testing.T) {
	f := parseFile(t, "malformed-item.json", "")
	var titles []string
	for _, s := range f.Stories {
		titles = append(titles, s.Title)
	}
	if want := "First is fine|Tags are a string|Numeric id, attachments an object|Last is fine"; strings.Join(titles, "|") != want {
		t.Errorf("titles = %q, want %q", titles, want)
	}
	want := []string{
		`feed: "authors" is a string, not an array; field ignored`,
		`item 2 (id "bad-2"): "tags" is a string, not an array; field ignored`,
		`item 3 is a string, not an object; skipped`,
		`item 4 (id "4"): "attachments" is an object, not an array; field ignored`,
	}
	if strings.Join(f.Warnings, "\n") != strings.Join(want, "\n") {
		t.Errorf("Warnings =\n%s\nwant\n%s", strings.Join(f.Warnings, "\n"), strings.Join(want, "\n"))
	}
	if s := byTitle(t, f, "Tags are a string"); s.ContentText != "Two." || s.GUID != "bad-2" {
		t.Errorf("the bad item lost more than its bad field: %+v", s)
	}
	for _, bad := range []string{`{"version":"https://jsonfeed.org/version/1.1","title":"t","items":"none"}`, `["not", "an", "object"]`} {
		if _, err := parse.Stories(parse.Input{Source: src, Body: []byte(bad), URL: feedURL}, now); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestUpstreamFeedIdentity(t *testing.T) {
	tests := []struct {
		file, id string
		updated  time.Time
	}{
		{"untitled.atom.xml", "urn:uuid:0b8a3c1e-4f0a-4c55-9b57-7f3f2e9c1a11", time.Date(2026, 1, 29, 17, 30, 0, 0, time.UTC)},
		{"untitled.rss.xml", "https://untitled.example/", time.Date(2026, 1, 29, 18, 0, 0, 0, time.UTC)},
		{"attachments.json", "https://podcast.example/feed.json", time.Time{}},
		{"malformed-item.json", "https://broken.example/", time.Time{}},
		{"idn.atom.xml", "https://xn--bcher-kva.example/feed", time.Date(2026, 1, 29, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		f := parseFile(t, tt.file, "")
		if f.ID != tt.id || !f.Updated.Equal(tt.updated) {
			t.Errorf("%s: ID %q Updated %v, want %q %v", tt.file, f.ID, f.Updated, tt.id, tt.updated)
		}
	}
}
