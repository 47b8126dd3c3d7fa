package render_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/feedcheck"
	"github.com/newsdesk/newsdesk/internal/render"
	"github.com/newsdesk/newsdesk/internal/story"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden with current output")

var formats = []render.Format{render.RSS, render.Atom, render.JSON}

// channelFor gives each format its own self URL, as the server does.
func channelFor(f render.Format) render.Channel {
	ch := channel()
	ch.SelfURL = "https://news.example.org/topics/immigration/feed." + f.Ext()
	ch.FirstURL = ch.SelfURL
	ch.NextURL = ch.SelfURL + "?before=AAAB"
	return ch
}

func write(t testing.TB, f render.Format, ch render.Channel, stories []story.Story) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := render.Write(&buf, f, ch, stories); err != nil {
		t.Fatalf("Write(%s): %v", f, err)
	}
	return buf.Bytes()
}

// check runs every checker that applies to f, including jing and
// feedparser when installed, and returns feedparser's entry titles.
func check(t *testing.T, f render.Format, doc []byte) []string {
	t.Helper()
	var err error
	switch f {
	case render.RSS:
		err = feedcheck.RSS(doc)
	case render.Atom:
		err = feedcheck.Atom(doc)
	case render.JSON:
		err = feedcheck.JSONFeed(doc)
	}
	if err != nil {
		t.Errorf("%s fails its checks:\n%v", f, err)
	}
	if f == render.JSON {
		return nil // feedparser 6.0 (Debian) does not read JSON Feed
	}
	if !feedcheck.HaveFeedparser() {
		t.Log("python3 feedparser not installed (Debian python3-feedparser); skipping the feedparser round trip")
		return nil
	}
	titles, err := feedcheck.Feedparser(doc)
	if err != nil {
		t.Errorf("%s: %v", f, err)
	}
	return titles
}

func TestGolden(t *testing.T) {
	if !feedcheck.HaveJing() {
		t.Log("jing not installed (Debian jing); Atom is checked without the RFC 4287 schema")
	}
	for _, f := range formats {
		t.Run(f.Ext(), func(t *testing.T) {
			t.Parallel() // jing and feedparser start a process each
			got := write(t, f, channelFor(f), stories())
			golden := filepath.Join("testdata", f.Ext()+".golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs; run go test -update and review git diff", golden)
			}
			titles := check(t, f, got)
			if titles != nil {
				var want []string
				for _, s := range stories() {
					want = append(want, strings.ReplaceAll(s.Title, "\x01", ""))
				}
				if !slices.Equal(titles, want) {
					t.Errorf("feedparser titles = %q, want %q", titles, want)
				}
			}
		})
	}
}

func TestEmptyFeed(t *testing.T) {
	for _, f := range formats {
		t.Run(f.Ext(), func(t *testing.T) {
			t.Parallel()
			ch := channelFor(f)
			ch.Updated = time.Time{}
			ch.NextURL = ""
			doc := write(t, f, ch, nil)
			check(t, f, doc)
			if f == render.JSON && !bytes.Contains(doc, []byte(`"items":[]`)) {
				t.Errorf("empty JSON feed lacks \"items\":[]:\n%s", doc)
			}
			if f == render.Atom && !bytes.Contains(doc, []byte("<updated>1970-01-01T00:00:00Z</updated>")) {
				t.Errorf("empty Atom feed with no Updated should use the epoch:\n%s", doc)
			}
		})
	}
}

// TestSparseStories renders stories missing most fields, as a careless
// upstream gives them, and expects every format still to pass its checks.
func TestSparseStories(t *testing.T) {
	sparse := []story.Story{
		{ID: "only-title", Title: "Only a title"},
		{ID: "only-content", Content: "<p>Only content, no title, link or date.</p>"},
		{ID: "only-link", Link: "https://up.example.com/a", Summary: "x", Authors: []story.Author{{}}},
		{ID: "bad-language", Title: "t", Language: "en_GB-x-verylongsubtag", Categories: []string{""}},
	}
	for _, f := range formats {
		t.Run(f.Ext(), func(t *testing.T) {
			t.Parallel()
			ch := channelFor(f)
			ch.Updated = time.Time{}
			check(t, f, write(t, f, ch, sparse))
		})
	}
}

func TestDeterministic(t *testing.T) {
	for _, f := range formats {
		t.Run(f.Ext(), func(t *testing.T) {
			a := write(t, f, channelFor(f), stories())
			b := write(t, f, channelFor(f), stories())
			if !bytes.Equal(a, b) {
				t.Errorf("two renders of the same input differ")
			}
		})
	}
}

// TestDoesNotModifyInput guards the cleaning step: it must copy, not edit
// the caller's stories (the server renders one slice into three formats).
func TestDoesNotModifyInput(t *testing.T) {
	in := stories()
	for _, f := range formats {
		write(t, f, channelFor(f), in)
	}
	if in[0].Content != stories()[0].Content || in[3].Title != stories()[3].Title {
		t.Error("Write changed the stories it was given")
	}
}

// TestNoControlCharacters checks pitfall G1 directly: the \x0b and \x01 in
// the fixture must not reach any output, even inside CDATA.
func TestNoControlCharacters(t *testing.T) {
	for _, f := range formats {
		doc := write(t, f, channelFor(f), stories())
		if i := bytes.IndexAny(doc, "\x0b\x01"); i >= 0 {
			t.Errorf("%s output has a control character at byte %d", f, i)
		}
	}
}

func TestItemIDsAreStable(t *testing.T) {
	ch := channelFor(render.RSS)
	s := stories()[:1]
	want := ch.ItemIDPrefix + s[0].ID
	for _, f := range formats {
		doc := write(t, f, channelFor(f), s)
		if !bytes.Contains(doc, []byte(want)) {
			t.Errorf("%s output lacks item id %q", f, want)
		}
		s[0].Updated = s[0].Updated.Add(time.Hour) // an edit must not change the id
		if doc := write(t, f, channelFor(f), s); !bytes.Contains(doc, []byte(want)) {
			t.Errorf("%s: item id changed after an update", f)
		}
	}
}

func TestJSONItems(t *testing.T) {
	doc := write(t, render.JSON, channelFor(render.JSON), stories())
	var feed struct {
		Items []struct {
			ID          string `json:"id"`
			ContentHTML string `json:"content_html"`
			Summary     string `json:"summary"`
			Published   string `json:"date_published"`
			Attachments []struct {
				URL  string `json:"url"`
				Type string `json:"mime_type"`
				Size int64  `json:"size_in_bytes"`
			} `json:"attachments"`
			Newsdesk struct {
				Source struct{ Name, Title, URL string }
				AlsoIn []struct{ Name, Title string } `json:"also_in"`
				Seq    uint64
			} `json:"_newsdesk"`
		} `json:"items"`
	}
	if err := json.Unmarshal(doc, &feed); err != nil {
		t.Fatal(err)
	}
	if len(feed.Items) != 4 {
		t.Fatalf("got %d items, want 4", len(feed.Items))
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"summary is plain text", feed.Items[0].Summary, "Ministers publish the draft rules."},
		{"dates are UTC seconds", feed.Items[1].Published, "2026-11-20T08:00:00Z"},
		{"summary-only story gets summary as content", feed.Items[3].ContentHTML, "Short note &amp; nothing more."},
		{"attachment size key", feed.Items[1].Attachments[0].Size, int64(31457280)},
		{"attachment type guessed", feed.Items[1].Attachments[1].Type, "audio/ogg"},
		{"also_in names the other sources", len(feed.Items[0].Newsdesk.AlsoIn), 2},
		{"source named", feed.Items[0].Newsdesk.Source.Title, "Sample Wire"},
		{"seq carried", feed.Items[0].Newsdesk.Seq, uint64(42)},
		{"also-in paragraph in content", strings.Contains(feed.Items[0].ContentHTML,
			"<p>Also reported by: The Daily &lt;Courier&gt;, Radio Nord.</p>"), true},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

func TestFormats(t *testing.T) {
	tests := []struct {
		ext, contentType string
		want             render.Format
	}{
		{"rss", "application/rss+xml; charset=utf-8", render.RSS},
		{"atom", "application/atom+xml; charset=utf-8", render.Atom},
		{"json", "application/feed+json; charset=utf-8", render.JSON},
	}
	for _, tt := range tests {
		f, ok := render.ParseFormat(tt.ext)
		if !ok || f != tt.want {
			t.Errorf("ParseFormat(%q) = %v, %v; want %v", tt.ext, f, ok, tt.want)
		}
		if f.Ext() != tt.ext || f.ContentType() != tt.contentType {
			t.Errorf("%v: Ext %q, ContentType %q", f, f.Ext(), f.ContentType())
		}
	}
	for _, bad := range []string{"", "xml", "RSS", "feed.json"} {
		if _, ok := render.ParseFormat(bad); ok {
			t.Errorf("ParseFormat(%q) accepted", bad)
		}
	}
}
