package render_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"
	"github.com/mmcdole/gofeed/rss"

	"github.com/newsdesk/newsdesk/internal/render"
	"github.com/newsdesk/newsdesk/internal/story"
)

// The serving details of issue 8, each read back through real parsers
// (gofeed's universal and format parsers, feedparser) and validators (jing
// with the RFC 4287 schema, feedcheck), not by matching our own bytes.

var when = time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)

// fieldStories are one story per class of input the details are about.
func fieldStories() []story.Story {
	return []story.Story{
		{ // 0: summary and content, two authors of whom one has an address, an upstream Atom source
			ID: "a0", Seq: 7, Source: "wire", SourceTitle: "Wire", SourceURL: "https://wire.example.com/feed.atom",
			SourceLink: "https://wire.example.com/",
			Link:       "https://wire.example.com/a/0", Title: "Both summary and content",
			Summary: "<p>The short version.</p>", SummaryText: "The short version.",
			Content: "<p>The long version, with much more.</p>", ContentText: "The long version, with much more.",
			Authors:   []story.Author{{Name: "Ann Reporter", Email: "ann@wire.example.com"}, {Name: "Bo Li"}, {Email: "cy@wire.example.com"}},
			Published: when,
		},
		{ // 1: no title at all: the first sentence of the text names it
			ID: "a1", Seq: 8, Source: "wire", Link: "https://wire.example.com/a/1",
			Content: "<p>Ministers met on Tuesday. They agreed nothing.</p>", ContentText: "Ministers met on Tuesday. They agreed nothing.",
			Published: when.Add(-time.Hour),
		},
		{ // 2: a lead image only: a thumbnail, never an enclosure
			ID: "a2", Seq: 9, Source: "wire", Link: "https://wire.example.com/a/2", Title: "Image only",
			Summary: "<p>See the picture.</p>", SummaryText: "See the picture.", Image: "https://cdn.example.com/lead",
			Published: when.Add(-2 * time.Hour),
		},
		{ // 3: internationalised hosts, one written raw and one percent-encoded (as net/url writes it)
			ID: "a3", Seq: 10, Source: "wire", SourceURL: "https://%E4%BE%8B%E3%81%88.jp/rss",
			Link: "https://例え.jp/記事/3", Title: "IDN links",
			Image:      "https://bücher.example/cover.jpg",
			Enclosures: []story.Enclosure{{URL: "https://münchen.example/a.mp3", Type: "audio/mpeg", Length: 10, Title: "Episode", Duration: 90 * time.Second}},
			Published:  when.Add(-3 * time.Hour),
		},
		{ // 4: a title and nothing else, no link
			ID: "a4", Seq: 11, Source: "notes", Title: "Only a title", Published: when.Add(-4 * time.Hour),
		},
		{ // 5: a summary that is the content's opening words cut short
			ID: "a5", Seq: 12, Source: "wire", Link: "https://wire.example.com/a/5", Title: "Excerpt",
			Summary: "<p>The opening words of the…</p>", SummaryText: "The opening words of the…",
			Content: "<p>The opening words of the article, and the rest.</p>", ContentText: "The opening words of the article, and the rest.",
			Published: when.Add(-5 * time.Hour),
		},
	}
}

func fieldChannel(f render.Format) render.Channel {
	ch := channel()
	base := "https://news.example.org/topics/immigration." + f.Ext()
	ch.FeedURL = base
	ch.SelfURL = base + "?since=6"
	ch.FirstURL, ch.NextURL = base, ""
	ch.Resume, ch.ResumeSeq = true, 12
	ch.Upstreams = map[string]render.Upstream{"wire": {ID: "tag:wire.example.com,2020:feed",
		Updated: time.Date(2026, 11, 20, 8, 0, 0, 0, time.FixedZone("CET", 3600))}}
	return ch
}

func renderFields(t *testing.T, f render.Format) []byte {
	t.Helper()
	doc := write(t, f, fieldChannel(f), fieldStories())
	check(t, f, doc) // feedcheck, jing for Atom, feedparser for RSS and Atom
	return doc
}

func parseUniversal(t *testing.T, doc []byte) *gofeed.Feed {
	t.Helper()
	feed, err := gofeed.NewParser().Parse(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("gofeed: %v", err)
	}
	return feed
}

func TestRSSDescriptionBeforeContent(t *testing.T) {
	doc := renderFields(t, render.RSS)
	dec := xml.NewDecoder(bytes.NewReader(doc))
	var seen []string // element names inside the current item
	items := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			switch {
			case tok.Name.Local == "item":
				seen = []string{}
				items++
			case seen != nil:
				seen = append(seen, tok.Name.Space+" "+tok.Name.Local)
			}
		case xml.EndElement:
			if tok.Name.Local != "item" {
				continue
			}
			d, c := index(seen, " description"), index(seen, nsContent+" encoded")
			if d >= 0 && c >= 0 && d > c {
				t.Errorf("item %d: description after content:encoded: %q", items, seen)
			}
			seen = nil
		}
	}
	if items != len(fieldStories()) {
		t.Fatalf("read %d items, want %d", items, len(fieldStories()))
	}
}

const nsContent = "http://purl.org/rss/1.0/modules/content/"

func index(ss []string, s string) int {
	for i, x := range ss {
		if x == s {
			return i
		}
	}
	return -1
}

func TestRSSAuthors(t *testing.T) {
	doc := renderFields(t, render.RSS)
	feed, err := (&rss.Parser{}).Parse(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	it := feed.Items[0]
	if want := "ann@wire.example.com (Ann Reporter)"; it.Author != want {
		t.Errorf("author = %q, want %q", it.Author, want)
	}
	var creators []string
	if it.DublinCoreExt != nil {
		creators = it.DublinCoreExt.Creator
	}
	// Ann is the <author>; Bo and the address-only Cy are creators, once each.
	if want := []string{"Bo Li", "cy@wire.example.com"}; strings.Join(creators, "|") != strings.Join(want, "|") {
		t.Errorf("dc:creator = %q, want %q (never the <author> again)", creators, want)
	}
	email := regexp.MustCompile(`^[^\s@()]+@[^\s@()]+( \([^()]+\))?$`)
	for i, it := range feed.Items {
		if it.Author != "" && !email.MatchString(it.Author) {
			t.Errorf("item %d: author %q is not \"email (Name)\"", i, it.Author)
		}
	}
}

func TestAtomSourceIsTheUpstreamFeed(t *testing.T) {
	doc := renderFields(t, render.Atom)
	feed, err := (&atom.Parser{}).Parse(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	src := feed.Entries[0].Source
	if src == nil {
		t.Fatal("entry has no <source>")
	}
	if src.ID != "tag:wire.example.com,2020:feed" {
		t.Errorf("source id = %q, want the upstream feed's own id", src.ID)
	}
	if src.Updated != "2026-11-20T07:00:00Z" {
		t.Errorf("source updated = %q, want the upstream's update time in UTC", src.Updated)
	}
}

// TestSincePageCarriesItsCursor: a ?since page tells a reader where to
// continue from, in every format, and every item's sequence number.
func TestSincePageCarriesItsCursor(t *testing.T) {
	for _, f := range formats {
		t.Run(f.Ext(), func(t *testing.T) {
			doc := renderFields(t, f)
			if f == render.JSON {
				var feed struct {
					FeedURL  string `json:"feed_url"`
					Newsdesk struct {
						Since *uint64 `json:"since"`
					} `json:"_newsdesk"`
				}
				if err := json.Unmarshal(doc, &feed); err != nil {
					t.Fatal(err)
				}
				if feed.Newsdesk.Since == nil || *feed.Newsdesk.Since != 12 {
					t.Errorf("_newsdesk.since = %v, want 12", feed.Newsdesk.Since)
				}
				if feed.FeedURL != "https://news.example.org/topics/immigration.json" {
					t.Errorf("feed_url of a page = %q, want the feed's own URL", feed.FeedURL)
				}
				return
			}
			feed := parseUniversal(t, doc)
			nd := feed.Extensions["nd"]
			if len(nd["since"]) != 1 || nd["since"][0].Value != "12" {
				t.Errorf("feed-level nd:since = %+v, want 12", nd["since"])
			}
			for i, it := range feed.Items {
				seq := it.Extensions["nd"]["seq"]
				if want := fieldStories()[i].Seq; len(seq) != 1 || seq[0].Value != strconv.FormatUint(want, 10) {
					t.Errorf("item %d: nd:seq = %+v, want %d", i, seq, want)
				}
			}
		})
	}
}

// TestEveryItemHasATitle: an untitled story is named from its text in
// every format, and no document has an empty title or content.
func TestEveryItemHasATitle(t *testing.T) {
	for _, f := range formats {
		t.Run(f.Ext(), func(t *testing.T) {
			doc := renderFields(t, f)
			feed := parseUniversal(t, doc)
			if got := feed.Items[1].Title; got != "Ministers met on Tuesday." {
				t.Errorf("untitled story's title = %q, want its first sentence", got)
			}
			for i, it := range feed.Items {
				if strings.TrimSpace(it.Title) == "" {
					t.Errorf("item %d has no title", i)
				}
			}
			for _, empty := range []string{"<title></title>", "<content></content>", `<content type="html"></content>`,
				`<content type="text"></content>`, "<description></description>", `"content_html":""`, `"content_text":""`, `"title":""`} {
				if bytes.Contains(doc, []byte(empty)) {
					t.Errorf("document contains %s", empty)
				}
			}
			// The title-only story still has a body where the format needs one.
			only := feed.Items[4]
			if f != render.RSS && only.Content == "" && only.Description == "" {
				t.Errorf("title-only story has neither content nor summary in %s", f)
			}
		})
	}
}

// TestSummaryNotRepeated: a summary that only repeats the content's start is
// left out; a real one is kept.
func TestSummaryNotRepeated(t *testing.T) {
	for _, f := range formats {
		t.Run(f.Ext(), func(t *testing.T) {
			doc := renderFields(t, f)
			feed := parseUniversal(t, doc)
			excerpt, real := feed.Items[5], feed.Items[0]
			if !strings.Contains(excerpt.Content, "and the rest") {
				t.Errorf("excerpt story lost its content: %q", excerpt.Content)
			}
			if strings.Contains(excerpt.Description, "opening words") {
				t.Errorf("excerpt summary %q repeated beside the content", excerpt.Description)
			}
			if !strings.Contains(real.Description, "The short version.") {
				t.Errorf("a real summary was dropped: %q", real.Description)
			}
		})
	}
}

// TestImagesAreNotEnclosures: a lead image is a thumbnail (RSS, Atom) or
// "image" (JSON Feed), never an enclosure the upstream did not declare.
func TestImagesAreNotEnclosures(t *testing.T) {
	for _, f := range formats {
		t.Run(f.Ext(), func(t *testing.T) {
			doc := renderFields(t, f)
			feed := parseUniversal(t, doc)
			it := feed.Items[2]
			if len(it.Enclosures) != 0 {
				t.Errorf("image-only story has enclosures %+v", it.Enclosures[0])
			}
			var image string
			if f == render.JSON {
				if it.Image != nil {
					image = it.Image.URL
				}
			} else if th := it.Extensions["media"]["thumbnail"]; len(th) == 1 {
				image = th[0].Attrs["url"]
			}
			if image != "https://cdn.example.com/lead" {
				t.Errorf("image = %q, want the story's image", image)
			}
		})
	}
}

// TestHostsInPunycode: every URL we write has an ASCII host, whether the
// story held it in Unicode or percent-encoded.
func TestHostsInPunycode(t *testing.T) {
	for _, f := range formats {
		t.Run(f.Ext(), func(t *testing.T) {
			doc := renderFields(t, f)
			feed := parseUniversal(t, doc)
			it := feed.Items[3]
			if !strings.HasPrefix(it.Link, "https://xn--r8jz45g.jp/") {
				t.Errorf("link = %q, want the host in punycode", it.Link)
			}
			for _, bad := range []string{"例え.jp", "bücher", "münchen", "%E4%BE%8B"} {
				if bytes.Contains(doc, []byte(bad)) {
					t.Errorf("document still has the host %q", bad)
				}
			}
			for _, want := range []string{"https://xn--bcher-kva.example/cover.jpg", "https://xn--mnchen-3ya.example/a.mp3", "https://xn--r8jz45g.jp/rss"} {
				if !bytes.Contains(doc, []byte(want)) {
					t.Errorf("document lacks %s", want)
				}
			}
		})
	}
}

func TestJSONAttachmentDetails(t *testing.T) {
	doc := renderFields(t, render.JSON)
	var feed struct {
		Items []struct {
			Attachments []struct {
				Title    string  `json:"title"`
				Duration float64 `json:"duration_in_seconds"`
				Size     int64   `json:"size_in_bytes"`
			} `json:"attachments"`
		} `json:"items"`
	}
	if err := json.Unmarshal(doc, &feed); err != nil {
		t.Fatal(err)
	}
	a := feed.Items[3].Attachments
	if len(a) != 1 || a[0].Title != "Episode" || a[0].Duration != 90 || a[0].Size != 10 {
		t.Errorf("attachment = %+v, want title, duration and size kept", a)
	}
}

// TestServedID: a link group's item keeps the id it was first served
// under, in every format, when another copy has taken over.
func TestServedID(t *testing.T) {
	s := fieldStories()[:1]
	s[0].ServedID = "first-served"
	for _, f := range formats {
		doc := write(t, f, channelFor(f), s)
		feed := parseUniversal(t, doc)
		if want := "tag:news.example.org,2026:story/first-served"; feed.Items[0].GUID != want {
			t.Errorf("%s: id = %q, want %q", f, feed.Items[0].GUID, want)
		}
	}
}
